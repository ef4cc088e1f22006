package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/mageflow-go/mageflow/inspect"
	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
	"github.com/mageflow-go/mageflow/viewer"
)

// steer returns the command of op, on one flow (ID) or on every flow a
// filter selects (--status, --name, --meta, --since), which it lists and
// touches only with --yes. Suspend applies at once; resume, interrupt,
// cancel and retry dispatch tasks or cancel runs, which takes a backend,
// so the command queues the request on the store, a worker of the
// application applies it, and the command waits until the flow shows it.
func steer(op sig.Op) func(context.Context, storage.Store, []string, io.Writer) error {
	return func(ctx context.Context, s storage.Store, args []string, out io.Writer) error {
		fs := flag.NewFlagSet(string(op), flag.ContinueOnError)
		wait := new(time.Duration)
		usage := string(op) + " ID | " + string(op) + " --status S [--name N] [--meta K=V] [--since D] [--yes]"
		if op != sig.OpSuspend {
			wait = fs.Duration("wait", 10*time.Second, "how long to wait for a worker to apply it")
			usage = string(op) + " [--wait D] ID | " + string(op) + " --status S [--name N] [--meta K=V] [--since D] [--yes]"
		}
		status := fs.String("status", "", "every flow with these statuses, comma-separated")
		name := fs.String("name", "", "every flow of this name")
		var meta metaFlags
		fs.Var(&meta, "meta", "every flow whose metadata has `key=value` (repeatable)")
		since := fs.String("since", "", "every flow created since then: a duration back from now (1h) or an RFC 3339 time")
		yes := fs.Bool("yes", false, "touch the flows the filter selects (without it, only list them)")
		rest, err := parse(fs, usage, args)
		if err != nil {
			return err
		}
		if op != sig.OpSuspend && *wait <= 0 {
			return fmt.Errorf("%w: --wait %v: want a positive wait (the request expires then)", errUsage, *wait)
		}
		one := func(id string) error {
			r, err := viewer.Steer(ctx, s, op, id, *wait)
			switch {
			case err != nil:
				return err
			case op == sig.OpSuspend:
				fmt.Fprintf(out, "suspended %s: nothing new starts until it is resumed\n", id)
			default:
				fmt.Fprintf(out, "%s %s: %s\n", op, id, r.Status)
			}
			return nil
		}
		filtered := *status != "" || *name != "" || meta.m != nil || *since != ""
		switch {
		case len(rest) == 1 && !filtered:
			id, err := inspect.Resolve(ctx, s, rest[0])
			if err != nil {
				return err
			}
			return one(id)
		case len(rest) > 0 || !filtered:
			return fmt.Errorf("%w: want one flow id, or a filter (usage: mageflow %s)", errUsage, usage)
		}
		opt := inspect.ListOptions{Name: *name, Metadata: meta.m, Limit: storage.MaxFlowPage}
		if opt.Status, err = statusesOf(*status); err != nil {
			return err
		}
		if *since != "" {
			if opt.Since, err = sinceOf(*since, time.Now()); err != nil {
				return err
			}
		}
		flows, more, err := inspect.Collect(ctx, s, opt, maxBulk)
		if err != nil {
			return err
		}
		if len(flows) == 0 {
			fmt.Fprintln(out, noFlows(ctx, s, opt))
			return nil
		}
		others := ""
		if more {
			others = fmt.Sprintf(" (the newest %d; more match: narrow the filter)", maxBulk)
		}
		fmt.Fprintf(out, "%s %s%s:\n", op, nFlows(len(flows)), others)
		for _, f := range flows {
			fmt.Fprintf(out, "  %s  %s  %s\n", f.ID, f.Name, f.Status)
		}
		if !*yes {
			these := fmt.Sprintf("these %d flows", len(flows))
			if len(flows) == 1 {
				these = "this flow"
			}
			return fmt.Errorf("nothing done: add --yes to %s %s", op, these)
		}
		var failed []string
		for i, f := range flows {
			if err := one(f.ID); err != nil {
				fmt.Fprintf(out, "%s %s: %v\n", op, f.ID, message(err))
				failed = append(failed, f.ID)
				if errors.Is(err, viewer.ErrNoWorker) {
					// the others would wait as long, for nothing
					return fmt.Errorf("%s stopped after %d of %s: no worker applies requests: %s", op, i+1, nFlows(len(flows)), strings.Join(failed, ", "))
				}
			}
		}
		if len(failed) > 0 {
			return fmt.Errorf("%s failed on %d of %s: %s", op, len(failed), nFlows(len(flows)), strings.Join(failed, ", "))
		}
		return nil
	}
}

// nFlows is "1 flow" or "n flows".
func nFlows(n int) string {
	if n == 1 {
		return "1 flow"
	}
	return fmt.Sprintf("%d flows", n)
}

// maxBulk bounds the flows one filtered command touches.
const maxBulk = 10000

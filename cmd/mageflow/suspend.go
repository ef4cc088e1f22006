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
)

// errEnded wraps the error of an operation on a flow that ended.
var errEnded = errors.New("already ended")

// errNoWorker wraps the error of a request no worker applied in time.
var errNoWorker = errors.New("no worker applied it")

// errNotApplicable wraps the error of an operation that does not apply
// to the flow's status.
var errNotApplicable = errors.New("does not apply")

// flowRecord reads the root record of flow id, refusing other ids and
// ended flows.
func flowRecord(ctx context.Context, s storage.Store, id string, op sig.Op) (*sig.Record, error) {
	r, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if r.Role != sig.RoleRoot {
		return nil, fmt.Errorf("%w: %s is not a flow id but a record of flow %s", errUsage, id, r.Root)
	}
	if r.Status.Terminal() && op != sig.OpRetry {
		return nil, fmt.Errorf("%w: flow %s ended (%s), nothing to %s", errEnded, id, r.Status, op)
	}
	return r, nil
}

// suspendOne suspends flow id. Suspending needs no worker: nothing is
// sent, and what is running finishes its attempt.
func suspendOne(ctx context.Context, s storage.Store, id string, out io.Writer) error {
	r, err := flowRecord(ctx, s, id, sig.OpSuspend)
	if err != nil {
		return err
	}
	if _, err := s.Apply(ctx, id, sig.OpSuspend); err != nil {
		if errors.Is(err, storage.ErrState) {
			return fmt.Errorf("%w: flow %s cannot be suspended now (%s)", errNotApplicable, id, r.Status)
		}
		return err
	}
	fmt.Fprintf(out, "suspended %s: nothing new starts until it is resumed\n", id)
	return nil
}

// applyGrace is how long after a request's deadline the command still
// looks for it to be applied by a worker that took it in time.
const applyGrace = 500 * time.Millisecond

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
			if op == sig.OpSuspend {
				return suspendOne(ctx, s, id, out)
			}
			return applyOne(ctx, s, op, id, *wait, out)
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
		flows, err := listAll(ctx, s, opt)
		if err != nil {
			return err
		}
		if len(flows) == 0 {
			fmt.Fprintln(out, noFlows(ctx, s, opt))
			return nil
		}
		fmt.Fprintf(out, "%s %d flows:\n", op, len(flows))
		for _, f := range flows {
			fmt.Fprintf(out, "  %s  %s  %s\n", f.ID, f.Name, f.Status)
		}
		if !*yes {
			return fmt.Errorf("%w: nothing done: add --yes to %s these %d flows", errNotApplicable, op, len(flows))
		}
		var failed []string
		for _, f := range flows {
			if err := one(f.ID); err != nil {
				fmt.Fprintf(out, "%s %s: %v\n", op, f.ID, err)
				failed = append(failed, f.ID)
			}
		}
		if len(failed) > 0 {
			return fmt.Errorf("%s %d of %d flows failed: %s", op, len(failed), len(flows), strings.Join(failed, ", "))
		}
		return nil
	}
}

// maxBulk bounds the flows one filtered command touches.
const maxBulk = 10000

// listAll returns every flow opt selects, newest first, at most maxBulk.
func listAll(ctx context.Context, s storage.Store, opt inspect.ListOptions) ([]inspect.Summary, error) {
	var all []inspect.Summary
	for {
		p, err := inspect.ListPage(ctx, s, opt)
		if err != nil {
			return nil, err
		}
		all = append(all, p.Flows...)
		if p.Next == "" || len(all) >= maxBulk {
			return all, nil
		}
		opt.Cursor = p.Next
	}
}

// applyOne queues op on flow id for a worker and waits until the flow
// shows it was applied.
func applyOne(ctx context.Context, s storage.Store, op sig.Op, id string, wait time.Duration, out io.Writer) error {
	r, err := flowRecord(ctx, s, id, op)
	if err != nil {
		return err
	}
	if op == sig.OpResume && !r.Status.Paused() {
		return fmt.Errorf("%w: flow %s is %s, not suspended or interrupted: nothing to resume", errNotApplicable, id, r.Status)
	}
	if op == sig.OpInterrupt && r.Status == sig.Interrupted {
		return fmt.Errorf("%w: flow %s is already interrupted", errNotApplicable, id)
	}
	if op == sig.OpRetry && (!r.Finished || r.Status == sig.Canceled) {
		why := "it has not ended"
		if r.Status == sig.Canceled {
			why = "it was canceled"
		}
		return fmt.Errorf("%w: flow %s is %s: %s, nothing to retry", errNotApplicable, id, r.Status, why)
	}
	before := r.UpdatedAt
	q, ok := s.(storage.Requests)
	if !ok {
		return fmt.Errorf("the store cannot carry requests to workers")
	}
	deadline := time.Now().Add(wait)
	if err := q.Request(ctx, id, op, deadline); err != nil {
		return err
	}
	applied := func(r *sig.Record) bool {
		switch op {
		case sig.OpResume:
			return !r.Status.Paused()
		case sig.OpInterrupt:
			return r.Status == sig.Interrupted || r.Status.Terminal()
		case sig.OpRetry:
			// it runs again, or it ran and ended since
			return !r.Finished || r.UpdatedAt.After(before)
		}
		return r.Status.Terminal()
	}
	for {
		r, err := s.Get(ctx, id)
		if err != nil {
			return err
		}
		if applied(r) {
			fmt.Fprintf(out, "%s %s: %s\n", op, id, r.Status)
			return nil
		}
		// a worker that took the request by its deadline may still be
		// applying it: look a little longer before saying it was not
		if time.Now().After(deadline.Add(applyGrace)) {
			if op == sig.OpRetry {
				return fmt.Errorf("%w: retry %s, within %v: nothing in the flow failed, or no worker of this store (mageflow.Client.StartWorker) took the request by then", errNoWorker, id, wait)
			}
			return fmt.Errorf("%w: %s %s, within %v; the request expired and a worker that did not take it by then never applies it: is a worker of this store (mageflow.Client.StartWorker) running?", errNoWorker, op, id, wait)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

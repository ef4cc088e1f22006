package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strconv"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mageflow-go/mageflow/inspect"
	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
	redisstore "github.com/mageflow-go/mageflow/storage/redis"
)

// list is `mageflow ls`.
func list(ctx context.Context, s storage.Store, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("ls", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	status := fs.String("status", "", "only flows with these statuses, comma-separated (pending, active, done, failed, suspended, interrupted, canceled)")
	limit := fs.Int("limit", 50, "at most this many flows, newest first")
	name := fs.String("name", "", "only flows of this name (flow.Named, else the kind or the task)")
	var meta metaFlags
	fs.Var(&meta, "meta", "only flows whose metadata has `key=value` (repeatable)")
	since := fs.String("since", "", "only flows created since then: a duration back from now (1h) or an RFC 3339 time")
	cursor := fs.String("cursor", "", "the page after the one that printed this cursor")
	asJSON := fs.Bool("json", false, "print JSON")
	rest, err := parse(fs, "ls [--status S,...] [--name N] [--meta K=V] [--since D] [--limit N] [--cursor C] [--json]", args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("%w: ls takes no argument, got %q", errUsage, strings.Join(rest, " "))
	}
	opt := inspect.ListOptions{Limit: *limit, Name: *name, Metadata: meta.m, Cursor: *cursor}
	if *since != "" {
		t, err := sinceOf(*since, time.Now())
		if err != nil {
			return err
		}
		opt.Since = t
	}
	if opt.Status, err = statusesOf(*status); err != nil {
		return err
	}
	page, err := inspect.ListPage(ctx, s, opt)
	if err != nil {
		return err
	}
	flows := page.Flows
	if *asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		if flows == nil {
			flows = []inspect.Summary{}
		}
		if page.Next != "" {
			// the output stays one JSON array; the cursor goes aside
			fmt.Fprintf(stderrOf(ctx), "more: --cursor %s\n", page.Next)
		}
		return enc.Encode(flows)
	}
	if len(flows) == 0 && page.Next != "" {
		// a filter few flows pass: none among those this call read
		fmt.Fprintf(out, "none of the %d flows read match; more: --cursor %s\n", inspect.ScanBudget(opt.Limit), page.Next)
		return nil
	}
	if len(flows) == 0 {
		fmt.Fprintln(out, noFlows(ctx, s, opt))
		return nil
	}
	now := time.Now()
	w := tabwriter.NewWriter(out, 0, 0, 2, ' ', 0)
	fmt.Fprintln(w, "ID\tNAME\tKIND\tSTATUS\tPROGRESS\tAGE")
	for _, f := range flows {
		progress := fmt.Sprintf("%d/%d", f.Done, f.Total)
		if f.Failed > 0 {
			progress += fmt.Sprintf(" (%d failed)", f.Failed)
		}
		fmt.Fprintf(w, "%s\t%s\t%s\t%s\t%s\t%s\n", f.ID, f.Name, f.Kind, f.Status, progress, age(now, f.Created))
	}
	if err := w.Flush(); err != nil {
		return err
	}
	if page.Next != "" {
		fmt.Fprintf(out, "more: --cursor %s\n", page.Next)
	}
	return nil
}

// metaFlags are repeated --meta key=value flags.
type metaFlags struct{ m map[string]string }

func (f *metaFlags) String() string { return "" }

func (f *metaFlags) Set(v string) error {
	k, val, ok := strings.Cut(v, "=")
	if !ok || k == "" {
		return fmt.Errorf("want key=value, got %q", v)
	}
	if f.m == nil {
		f.m = map[string]string{}
	}
	f.m[k] = val
	return nil
}

// sinceOf reads --since: a duration back from now, or an RFC 3339 time.
func sinceOf(v string, now time.Time) (time.Time, error) {
	t, err := inspect.ParseWhen(v, now)
	if err != nil {
		return time.Time{}, fmt.Errorf("%w: --since: %w", errUsage, err)
	}
	return t, nil
}

// noFlows says that no flow matched, where the command looked, and, with
// no filter, the prefixes the server holds flows under.
func noFlows(ctx context.Context, s storage.Store, opt inspect.ListOptions) string {
	where := "no flows"
	rs, ok := s.(*redisstore.Store)
	if !ok {
		return where
	}
	where += " under prefix " + strconv.Quote(rs.Prefix())
	if len(opt.Status) > 0 || opt.Name != "" || len(opt.Metadata) > 0 || !opt.Since.IsZero() || opt.Cursor != "" {
		return where + " match"
	}
	prefixes, err := rs.Prefixes(ctx, 20)
	if err != nil || len(prefixes) == 0 {
		return where + " (and no flows under another prefix either)"
	}
	return where + "; flows are under " + strings.Join(prefixes, ", ") + " (--prefix P)"
}

// statusesOf reads a comma-separated list of statuses ("" for none).
func statusesOf(v string) ([]sig.Status, error) {
	if v == "" {
		return nil, nil
	}
	var out []sig.Status
	for _, st := range strings.Split(v, ",") {
		s := sig.Status(strings.TrimSpace(st))
		if !s.Valid() {
			return nil, fmt.Errorf("%w: unknown status %q", errUsage, st)
		}
		out = append(out, s)
	}
	return out, nil
}

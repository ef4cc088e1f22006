package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"strings"
	"text/tabwriter"
	"time"

	"github.com/mageflow-go/mageflow/inspect"
	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
)

// listed is a flow as `ls --json` prints it.
type listed struct {
	ID       string            `json:"id"`
	Name     string            `json:"name"`
	Kind     string            `json:"kind"`
	Status   string            `json:"status"`
	Done     int               `json:"done"`
	Failed   int               `json:"failed"`
	Total    int               `json:"total"`
	Finished bool              `json:"finished"`
	Created  time.Time         `json:"created"`
	Updated  time.Time         `json:"updated"`
	Error    *sig.ErrorInfo    `json:"error,omitempty"`
	Metadata map[string]string `json:"metadata,omitempty"`
}

// list is `mageflow ls`.
func list(ctx context.Context, s storage.Store, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("ls", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	status := fs.String("status", "", "only flows with these statuses, comma-separated (pending, active, done, failed, suspended, interrupted, canceled)")
	limit := fs.Int("limit", 50, "at most this many flows, newest first")
	asJSON := fs.Bool("json", false, "print JSON")
	if err := fs.Parse(args); err != nil {
		return fmt.Errorf("%w: %v", errUsage, err)
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("%w: ls takes no argument, got %q", errUsage, strings.Join(fs.Args(), " "))
	}
	opt := inspect.ListOptions{Limit: *limit}
	if *status != "" {
		for _, st := range strings.Split(*status, ",") {
			v := sig.Status(strings.TrimSpace(st))
			if !v.Valid() {
				return fmt.Errorf("%w: unknown status %q", errUsage, st)
			}
			opt.Status = append(opt.Status, v)
		}
	}
	flows, err := inspect.List(ctx, s, opt)
	if err != nil {
		return err
	}
	if *asJSON {
		rows := make([]listed, len(flows))
		for i, f := range flows {
			rows[i] = listed{ID: f.ID, Name: f.Name, Kind: string(f.Kind), Status: string(f.Status), Done: f.Done, Failed: f.Failed,
				Total: f.Total, Finished: f.Finished, Created: f.Created, Updated: f.Updated, Error: f.Error, Metadata: f.Metadata}
		}
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(rows)
	}
	if len(flows) == 0 {
		fmt.Fprintln(out, "no flows")
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
	return w.Flush()
}

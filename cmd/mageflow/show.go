package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"time"

	"github.com/mageflow-go/mageflow/inspect"
	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
)

// show is `mageflow show ID`.
func show(ctx context.Context, s storage.Store, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("show", flag.ContinueOnError)
	items := fs.Int("items", 50, "most steps or items shown per chain or swarm")
	asJSON := fs.Bool("json", false, "print the tree as JSON")
	id, err := oneID(ctx, s, fs, "show [--items N] [--json] ID", args)
	if err != nil {
		return err
	}
	tree, err := inspect.Tree(ctx, s, id, inspect.TreeOptions{MaxChildren: *items})
	if err != nil {
		return err
	}
	if *asJSON {
		enc := json.NewEncoder(out)
		enc.SetIndent("", "  ")
		return enc.Encode(tree)
	}
	renderTree(out, tree)
	renderMetadata(out, tree.Record)
	renderExpiry(out, tree.Record, time.Now())
	return nil
}

// renderMetadata prints the flow's metadata, keys in order.
func renderMetadata(out io.Writer, r *sig.Record) {
	if len(r.Metadata) == 0 {
		return
	}
	keys := slices.Sorted(maps.Keys(r.Metadata))
	pairs := make([]string, len(keys))
	for i, k := range keys {
		pairs[i] = k + "=" + r.Metadata[k]
	}
	fmt.Fprintf(out, "metadata %s\n", strings.Join(pairs, " "))
}

// renderExpiry prints when the flow of root r expires, and for a paused
// flow that nothing keeps it alive meanwhile.
func renderExpiry(out io.Writer, r *sig.Record, now time.Time) {
	if r.ExpiresAt.IsZero() {
		return
	}
	in := r.ExpiresAt.Sub(now).Round(time.Second)
	switch {
	case r.Status.Paused():
		fmt.Fprintf(out, "expires %s (in %s) unless resumed: a paused flow is not kept alive\n", r.ExpiresAt.UTC().Format(time.RFC3339), in)
	default:
		fmt.Fprintf(out, "expires %s (in %s)\n", r.ExpiresAt.UTC().Format(time.RFC3339), in)
	}
}

// renderTree prints n and what hangs under it, one line per node.
func renderTree(out io.Writer, n *inspect.Node) {
	start := n.Record.CreatedAt
	fmt.Fprintln(out, line(n, start))
	var children func(n *inspect.Node, indent string)
	children = func(n *inspect.Node, indent string) {
		type entry struct {
			label string
			node  *inspect.Node
		}
		var es []entry
		for i, c := range n.Children {
			es = append(es, entry{fmt.Sprintf("%d", i), c})
		}
		if n.More > 0 {
			es = append(es, entry{fmt.Sprintf("... %d more", n.More), nil})
		}
		for _, c := range n.FailedMore {
			_, _, index, _ := sig.Place(c.Record.ID)
			es = append(es, entry{fmt.Sprintf("%d", index), c})
		}
		for i, c := range n.OnSuccess {
			es = append(es, entry{fmt.Sprintf("on success %d", i), c})
		}
		for i, c := range n.OnError {
			es = append(es, entry{fmt.Sprintf("on error %d", i), c})
		}
		for i, e := range es {
			branch, next := "├─ ", "│  "
			if i == len(es)-1 {
				branch, next = "└─ ", "   "
			}
			if e.node == nil {
				fmt.Fprintf(out, "%s%s%s\n", indent, branch, e.label)
				continue
			}
			fmt.Fprintf(out, "%s%s%s  %s\n", indent, branch, e.label, line(e.node, start))
			children(e.node, indent+next)
		}
	}
	children(n, "")
}

// line describes one node: kind and name, status, progress, when it
// ended (from the flow's creation) and its error.
func line(n *inspect.Node, start time.Time) string {
	r := n.Record
	var b strings.Builder
	if r.Label != "" {
		fmt.Fprintf(&b, "%s: ", r.Label)
	}
	switch r.Kind {
	case sig.KindTask:
		fmt.Fprintf(&b, "task %s", r.Name)
	default:
		b.WriteString(string(r.Kind))
		if r.Name != string(r.Kind) {
			fmt.Fprintf(&b, " %s", r.Name)
		}
	}
	if r.Role == sig.RoleRoot {
		fmt.Fprintf(&b, " %s", r.ID)
	}
	if n.WillNotFire {
		b.WriteString("  will not fire")
		return b.String()
	}
	fmt.Fprintf(&b, "  %s", r.Status)
	if r.Kind != sig.KindTask {
		done, failed, total := inspect.Progress(r)
		fmt.Fprintf(&b, "  %d/%d", done, total)
		if failed > 0 {
			fmt.Fprintf(&b, " (%d failed)", failed)
		}
	} else if r.Attempts > 1 {
		fmt.Fprintf(&b, "  %d attempts", r.Attempts)
	}
	if !r.EndedAt.IsZero() && !start.IsZero() {
		fmt.Fprintf(&b, "  ended +%s", r.EndedAt.Sub(start).Round(time.Millisecond))
	}
	if r.Error != nil {
		fmt.Fprintf(&b, "  error: %s", errorText(r.Error))
	}
	return b.String()
}

func errorText(e *sig.ErrorInfo) string {
	s := e.Message
	if e.Task != "" {
		s = e.Task + ": " + s
	}
	if e.Attempts > 0 {
		s += fmt.Sprintf(" (attempts %d)", e.Attempts)
	}
	return s
}

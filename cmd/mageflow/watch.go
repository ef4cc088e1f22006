package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"time"

	"github.com/mageflow-go/mageflow/inspect"
	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
)

// barWidth is the width of a progress bar, in characters.
const barWidth = 30

// watch is `mageflow watch ID`: a progress bar per chain and swarm of the
// flow, redrawn while it runs (printed anew when it changed, when the
// output is not a terminal), then its result or error.
func watch(ctx context.Context, s storage.Store, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("watch", flag.ContinueOnError)
	interval := fs.Duration("interval", 250*time.Millisecond, "time between two reads of the flow")
	id, err := oneID(ctx, s, fs, "watch [--interval D] ID", args)
	if err != nil {
		return err
	}
	tty := isTerminal(out)
	last, lines := "", 0
	for {
		tree, err := inspect.Tree(ctx, s, id, inspect.TreeOptions{MaxChildren: 20})
		if err != nil {
			return err
		}
		frame := bars(tree)
		if frame != last {
			if tty && lines > 0 {
				fmt.Fprintf(out, "\x1b[%dA\x1b[J", lines) // back over the last frame
			} else if lines > 0 {
				fmt.Fprintln(out)
			}
			fmt.Fprint(out, frame)
			last, lines = frame, strings.Count(frame, "\n")
		}
		root := tree.Record
		if root.Finished {
			return outcome(out, root)
		}
		select {
		case <-ctx.Done():
			return ctx.Err()
		case <-time.After(*interval):
		}
	}
}

// bars draws a line per chain and swarm of the tree (and the root).
func bars(tree *inspect.Node) string {
	var b strings.Builder
	tree.Walk(func(n *inspect.Node, depth int) {
		r := n.Record
		if depth > 0 && r.Kind == sig.KindTask {
			return
		}
		done, failed, total := inspect.Progress(r)
		filled := 0
		if total > 0 {
			filled = done * barWidth / total
		}
		label := string(r.Kind)
		if r.Kind == sig.KindTask || r.Name != string(r.Kind) {
			label += " " + r.Name
		}
		fmt.Fprintf(&b, "%s%-*s [%s%s] %d/%d", strings.Repeat("  ", depth), 24-2*min(depth, 8), label,
			strings.Repeat("#", filled), strings.Repeat(".", barWidth-filled), done, total)
		if failed > 0 {
			fmt.Fprintf(&b, " (%d failed)", failed)
		}
		fmt.Fprintf(&b, " %s\n", r.Status)
	})
	return b.String()
}

// outcome prints how root ended and returns exit status 1 unless it is
// done.
func outcome(out io.Writer, root *sig.Record) error {
	switch root.Status {
	case sig.Done:
		fmt.Fprintf(out, "done: %s\n", root.Result)
		return nil
	case sig.Failed:
		fmt.Fprintf(out, "failed: %s\n", errorText(root.Error))
	default:
		fmt.Fprintf(out, "%s\n", root.Status)
	}
	return exitError(1)
}

// isTerminal reports whether w is a terminal.
func isTerminal(w io.Writer) bool {
	f, ok := w.(*os.File)
	if !ok {
		return false
	}
	st, err := f.Stat()
	return err == nil && st.Mode()&os.ModeCharDevice != 0
}

package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"strconv"
	"strings"
	"time"

	"github.com/mageflow-go/mageflow/inspect"
	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
)

// width returns the columns watch draws in: the terminal's, else
// $COLUMNS, else 80.
func width(out io.Writer) int {
	if f, ok := out.(*os.File); ok {
		if w := termWidth(f); w > 0 {
			return w
		}
	}
	if w, err := strconv.Atoi(os.Getenv("COLUMNS")); err == nil && w > 0 {
		return w
	}
	return 80
}

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
		tree, err := inspect.Tree(ctx, s, id, inspect.TreeOptions{MaxChildren: 20, SkipFailures: true})
		if err != nil {
			return err
		}
		frame := bars(tree, width(out), time.Now())
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

// bars draws a line per chain and swarm of the tree (and the root), each
// fitted to cols columns: a label, a bar, the counts, the status, and
// for the root how long it has run, its rate and, while it runs, when it
// should end at that rate.
func bars(tree *inspect.Node, cols int, now time.Time) string {
	var b strings.Builder
	tree.Walk(func(n *inspect.Node, depth int) {
		r := n.Record
		if depth > 0 && r.Kind == sig.KindTask {
			return
		}
		done, failed, total := inspect.Progress(r)
		label := inspect.NameOf(r)
		if r.Kind != sig.KindTask && label != string(r.Kind) {
			label = string(r.Kind) + " " + label
		} else if r.Kind == sig.KindTask {
			label = "task " + label
		}
		tail := fmt.Sprintf(" %d/%d", done, total)
		if failed > 0 {
			tail += fmt.Sprintf(" (%d failed)", failed)
		}
		tail += " " + string(r.Status)
		indent := strings.Repeat("  ", min(depth, 8))
		labelW := min(24, max(8, cols/4))
		if len(label) > labelW-len(indent) {
			label = label[:max(0, labelW-len(indent)-1)] + "…"
		}
		head := fmt.Sprintf("%s%-*s ", indent, labelW-len(indent), label)
		if depth == 0 {
			if t := timing(r, done, total, now); len([]rune(head))+len(tail)+len(t) <= cols {
				tail += t
			}
		}
		barW := cols - len([]rune(head)) - len(tail) - 3
		if barW < 5 {
			line := head + strings.TrimSpace(tail)
			if r := []rune(line); len(r) > cols {
				line = string(r[:cols])
			}
			fmt.Fprintln(&b, line)
			return
		}
		filled := 0
		if total > 0 {
			filled = min(barW, done*barW/total)
		}
		fmt.Fprintf(&b, "%s[%s%s]%s\n", head, strings.Repeat("#", filled), strings.Repeat(".", barW-filled), tail)
	})
	return b.String()
}

// timing says how long root r has run (until its end), its rate of steps
// or items, and, while it runs, when it should end at that rate.
func timing(r *sig.Record, done, total int, now time.Time) string {
	if r.CreatedAt.IsZero() {
		return ""
	}
	end := now
	if !r.EndedAt.IsZero() {
		end = r.EndedAt
	}
	elapsed := end.Sub(r.CreatedAt)
	s := "  " + elapsed.Round(time.Second/10).String()
	if elapsed <= 0 || done == 0 {
		return s
	}
	rate := float64(done) / elapsed.Seconds()
	s += fmt.Sprintf("  %.1f/s", rate)
	if r.EndedAt.IsZero() && done < total {
		eta := time.Duration(float64(total-done) / rate * float64(time.Second))
		s += "  ETA " + eta.Round(time.Second).String()
	}
	return s
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

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
	if *interval <= 0 {
		return fmt.Errorf("%w: --interval %v: want a positive interval", errUsage, *interval)
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
		if root.Finished || root.Role != sig.RoleRoot && root.Status.Terminal() {
			// a flow ends with its callbacks; a part of one, with itself
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
// should end at that rate (where that fits). The bars are one width, so
// that they line up.
func bars(tree *inspect.Node, cols int, now time.Time) string {
	type row struct {
		head, tail  string
		done, total int
	}
	var rows []row
	labelW := min(24, max(8, cols/4))
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
		if w := max(0, labelW-len(indent)); len([]rune(label)) > w {
			label = string([]rune(label)[:max(0, w-1)]) + "…"
		}
		head := fmt.Sprintf("%s%-*s ", indent, max(0, labelW-len(indent)), label)
		if depth == 0 {
			tail += timing(r, done, total, now)
		}
		rows = append(rows, row{head, tail, done, total})
	})
	// the timing's width is kept (timingW) where there is room, so that
	// the bars keep their width from one frame to the next as it grows
	tailW := func(keep bool) int {
		w := 0
		for i, r := range rows {
			n := len([]rune(r.tail))
			if _, t, ok := strings.Cut(r.tail, "  "); i == 0 && ok && keep {
				n += max(0, timingW-len([]rune(t))-2)
			}
			w = max(w, n)
		}
		return w
	}
	barW := cols - labelW - 1 - 2 - tailW(true)
	if barW < 5 {
		barW = cols - labelW - 1 - 2 - tailW(false)
	}
	if barW < 5 && len(rows) > 0 {
		// without the timing, the bars have room
		rows[0].tail, _, _ = strings.Cut(rows[0].tail, "  ")
		barW = cols - labelW - 1 - 2 - tailW(false)
	}
	var b strings.Builder
	for _, r := range rows {
		if barW < 5 {
			line := []rune(r.head + strings.TrimSpace(r.tail))
			fmt.Fprintln(&b, string(line[:min(len(line), cols)]))
			continue
		}
		filled := 0
		if r.total > 0 {
			filled = min(barW, r.done*barW/r.total)
		}
		fmt.Fprintf(&b, "%s[%s%s]%s\n", r.head, strings.Repeat("#", filled), strings.Repeat(".", barW-filled), r.tail)
	}
	return b.String()
}

// timingW is the width watch keeps for the root's timing.
const timingW = 32

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

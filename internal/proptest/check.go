package proptest

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mageflow-go/mageflow/flow"
	"github.com/mageflow-go/mageflow/sig"
)

// A Check compares a run's result with the reference's expectation and
// describes every difference.
type Check func(p *Plan, e *Expect, r *Result) []string

// Checks are the properties, by name.
var Checks = []struct {
	Name  string
	Check Check
}{
	{"output", CheckOutput},
	{"callbacks", CheckCallbacks},
	{"runs", CheckRuns},
	{"cap", CheckCap},
	{"cap-strict", CheckCapStrict},
	{"ended", CheckEnded},
}

// state is what the run made of gate g: loose when an item of g was
// canceled (a stopped item cancels its whole subtree, entered or not),
// else never when one was not entered, else exact.
func (r *Result) state(g Gate) GateState {
	st := GateExact
	for _, p := range g {
		rec := r.Records[p]
		switch {
		case rec != nil && rec.Status == sig.Canceled:
			return GateLoose
		case rec == nil || !rec.Entered:
			st = GateNever
		}
	}
	return st
}

// CheckOutput: the run's output, or its failure, is the reference's.
func CheckOutput(_ *Plan, e *Expect, r *Result) []string {
	if e.Out.OK {
		if r.Err != nil || r.Out != e.Out.Out {
			return []string{fmt.Sprintf("Wait gave (%d, %v), reference %v", r.Out, r.Err, e.Out)}
		}
		return nil
	}
	var fe *flow.FailedError
	if !errors.As(r.Err, &fe) {
		return []string{fmt.Sprintf("Wait gave (%d, %v), reference %v", r.Out, r.Err, e.Out)}
	}
	if !e.Out.Fail.Matches(fe.Info) {
		return []string{fmt.Sprintf("run failed with {%s %q after %d, %s}, reference %v", fe.Info.Task, fe.Info.Message, fe.Info.Attempts, fe.Info.Kind, e.Out)}
	}
	return nil
}

// CheckCallbacks: every callback ran exactly once or never, as the
// reference says, with the input it says (at most once, inside an item
// stopped with its swarm).
func CheckCallbacks(_ *Plan, e *Expect, r *Result) []string {
	var out []string
	for label, x := range e.Calls {
		st := r.state(x.Gate)
		lo, hi := 0, 1
		switch {
		case x.Never || st == GateNever:
			hi = 0
		case st == GateExact:
			lo = 1
		}
		calls := r.Seen.Calls[label]
		if len(calls) < lo || len(calls) > hi {
			want := fmt.Sprintf("between %d and %d times", lo, hi)
			if lo == hi {
				want = map[int]string{0: "never", 1: "once"}[lo]
			}
			if len(x.Gate) > 0 {
				want += fmt.Sprintf(" (its gate %v is %s)", x.Gate, gateName(st))
			}
			out = append(out, fmt.Sprintf("callback rec#%d (root%s) ran %d times, want %s", label, x.Path, len(calls), want))
			continue
		}
		if len(calls) == 0 {
			continue
		}
		c := calls[0]
		if c.In != x.In {
			out = append(out, fmt.Sprintf("callback rec#%d got input %d, want %d", label, c.In, x.In))
		}
		if x.Fail != nil && (c.Error == nil || !x.Fail.Matches(*c.Error)) {
			out = append(out, fmt.Sprintf("error callback rec#%d got error %+v, want %v", label, c.Error, x.Fail))
		}
	}
	for label := range r.Seen.Calls {
		if _, ok := e.Calls[label]; !ok {
			out = append(out, fmt.Sprintf("unknown callback rec#%d ran", label))
		}
	}
	return out
}

func gateName(s GateState) string {
	return map[GateState]string{GateExact: "exact", GateNever: "never entered", GateLoose: "canceled"}[s]
}

// CheckRuns: a record is entered exactly when the reference says (so no
// step after a failed step, no callback of the other kind, no item after
// the failing one of a swarm of concurrency 1 that reached its limit); a
// task that ran ended (Done or Failed, as the reference says) and ran the
// attempts it says; a record never entered never ran and is still
// Pending; a failed swarm entered no item after it failed, and entered
// its items in order. Inside an item stopped with its swarm, records are
// only bounded: never-entered ones did not run, others ended as the
// reference says or were canceled, after at most the attempts it says.
func CheckRuns(p *Plan, e *Expect, r *Result) []string {
	var out []string
	for _, id := range r.Seen.Foreign {
		out = append(out, fmt.Sprintf("task of record %s ran; it is not in the graph", id))
	}
	p.Walk(func(q *Plan) {
		rec := r.Records[q.Path]
		x := e.Records[q.Path]
		st := r.state(x.Gate)
		execs := r.Seen.Execs[q.Path]
		where := fmt.Sprintf("root%s (%s %s)", q.Path, q.Kind, nameOf(q))
		bad := func(format string, args ...any) {
			out = append(out, where+" "+fmt.Sprintf(format, args...))
		}
		if q.Kind == sig.KindTask && rec.Attempts != execs {
			bad("was claimed %d times but its function ran %d times", rec.Attempts, execs)
		}
		if x.MustEnter && !rec.Entered && r.state(x.Gate[:len(x.Gate)-1]) == GateExact {
			bad("was not entered; its swarm certainly started it")
		}
		switch {
		case x.Never || st == GateNever:
			if rec.Entered || execs != 0 {
				bad("entered=%v and ran %d times; it must never run", rec.Entered, execs)
			}
			if rec.Status != sig.Pending && !(st == GateLoose && rec.Status == sig.Canceled) {
				bad("was never entered but is %s", rec.Status)
			}
			return
		case st == GateLoose && (!rec.Entered || rec.Status == sig.Canceled):
			if !rec.Entered && execs != 0 {
				bad("ran %d times but was never entered", execs)
			}
			if q.Kind == sig.KindTask && execs > x.Attempts {
				bad("ran %d attempts, at most %d", execs, x.Attempts)
			}
			if rec.Status != sig.Canceled && rec.Status != sig.Pending {
				bad("is %s; in a stopped item it is canceled or pending", rec.Status)
			}
			return
		}
		if !rec.Entered {
			bad("was not entered (status %s); want entered", rec.Status)
			return
		}
		wantStatus := sig.Done
		if !x.Outcome.OK {
			wantStatus = sig.Failed
		}
		if rec.Status != wantStatus {
			bad("ended %s, want %s", rec.Status, wantStatus)
		}
		if q.Kind == sig.KindTask && execs != x.Attempts {
			bad("ran %d attempts, want %d", execs, x.Attempts)
		}
		if q.Kind == sig.KindSwarm && rec.Swarm != nil {
			next := rec.Swarm.Next
			if f, ok := r.Frozen[q.Path]; ok && f != next {
				bad("had entered %d items when it failed, and %d at the end", f, next)
			}
			for i, c := range q.Children {
				if ent := r.Records[c.Path].Entered; ent != (i < next) {
					bad("item %d entered=%v, but the swarm's next item is %d", i, ent, next)
				}
			}
		}
	})
	return out
}

// CheckCap: no swarm ever had more items with a task running than its
// MaxConcurrency, as the tasks saw it (callbacks, which run outside their
// node's slot, not counted). An overrun is tolerated when a task counted
// in it ended Canceled: a swarm stopped at its failure limit cancels its
// running tasks and frees the slot of the item it is in at once, while
// the canceled function may still be returning (cancellation reaches it
// through its context, asynchronously). CheckCapStrict tolerates nothing.
func CheckCap(_ *Plan, _ *Expect, r *Result) []string {
	var out []string
	for _, v := range r.Seen.OverCap {
		if !CanceledOverrun(v, r) {
			out = append(out, v.String())
		}
	}
	return out
}

// CheckCapStrict is CheckCap without tolerance for canceled tasks.
func CheckCapStrict(_ *Plan, _ *Expect, r *Result) []string {
	var out []string
	for _, v := range r.Seen.OverCap {
		out = append(out, v.String())
	}
	return out
}

// CanceledOverrun reports whether a task counted in overrun v ended
// Canceled.
func CanceledOverrun(v Overrun, r *Result) bool {
	for _, paths := range v.Running {
		for _, p := range paths {
			if rec := r.Records[p]; rec != nil && rec.Status == sig.Canceled {
				return true
			}
		}
	}
	return false
}

// CheckEnded: once the graph finished, every record entered is terminal,
// the root counts no live record, and every key of the graph expires
// within the done TTL. (Outboxes may still hold dispatches then: to
// records a swarm stop canceled, while the worker that decided them was
// still sending when the graph finished.)
func CheckEnded(p *Plan, _ *Expect, r *Result) []string {
	var out []string
	root := r.Records[""]
	if !root.Finished || root.Live != 0 {
		out = append(out, fmt.Sprintf("root finished=%v live=%d", root.Finished, root.Live))
	}
	p.Walk(func(q *Plan) {
		rec := r.Records[q.Path]
		if rec.Entered && !rec.Status.Terminal() {
			out = append(out, fmt.Sprintf("root%s was entered and is %s after the graph ended", q.Path, rec.Status))
		}
	})
	if len(r.TTLs) == 0 {
		out = append(out, "no key of the graph found")
	}
	for k, d := range r.TTLs {
		if d <= 0 || d > DoneTTL {
			out = append(out, fmt.Sprintf("key %s has TTL %v after the graph ended, want (0, %v]", k, d, DoneTTL))
		}
	}
	return out
}

func nameOf(q *Plan) string {
	switch {
	case q.Label > 0:
		return fmt.Sprintf("%s#%d", q.Task, q.Label)
	case q.Node != nil:
		return q.Node.String()
	case q.Kind == sig.KindSwarm:
		return fmt.Sprintf("[cap=%d,stop=%d]", q.Cap, q.Stop)
	}
	return q.Task
}

// Report describes a case, the reference's expectation and what the run
// gave, for a failing property.
func Report(c Case, p *Plan, e *Expect, r *Result) string {
	var b strings.Builder
	fmt.Fprintf(&b, "case: %v\n", c)
	fmt.Fprintf(&b, "reference: %v\n", e.Out)
	if r == nil {
		return b.String()
	}
	fmt.Fprintf(&b, "observed: Wait = (%d, %v) on root %s; faults fired %d\n", r.Out, r.Err, r.Root, r.Stats.FaultsFired)
	b.WriteString("records (reference | store | attempts run):\n")
	var lines []string
	p.Walk(func(q *Plan) {
		x := e.Records[q.Path]
		want := "never"
		if x.Never && len(x.Gate) > 0 {
			want += fmt.Sprintf(" (gate %v)", x.Gate)
		}
		if !x.Never {
			want = x.Outcome.String()
			if q.Kind == sig.KindTask {
				want += fmt.Sprintf(" in %d attempts", x.Attempts)
			}
			if len(x.Gate) > 0 {
				want += fmt.Sprintf(" if %v ran (%s)", x.Gate, gateName(r.state(x.Gate)))
			}
			if x.MustEnter {
				want += ", entered"
			}
		}
		got := "missing"
		if rec := r.Records[q.Path]; rec != nil {
			got = describe(q.Path, rec)
		}
		lines = append(lines, fmt.Sprintf("  root%-10s %-28s | %-36s | %s | ran %d", q.Path, nameOf(q), want, got, r.Seen.Execs[q.Path]))
	})
	b.WriteString(strings.Join(lines, "\n"))
	if len(r.TTLs) > 0 {
		fmt.Fprintf(&b, "\nkey TTLs: %v", roundTTLs(r.TTLs))
	}
	return b.String()
}

func roundTTLs(m map[string]time.Duration) map[string]time.Duration {
	out := make(map[string]time.Duration, len(m))
	for k, v := range m {
		out[k] = v.Round(time.Millisecond)
	}
	return out
}

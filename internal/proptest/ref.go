package proptest

import (
	"fmt"
	"slices"
	"strings"

	"github.com/mageflow-go/mageflow/sig"
)

// FailExp is a failure the reference expects: its kind and the error
// infos it may carry. One candidate means the failure is determined; a
// swarm that reaches its failure limit under a concurrency cap above 1
// reports whichever failure it saw last, so it has several.
type FailExp struct {
	Kind  sig.ErrorKind
	Cands []sig.ErrorInfo
}

// Matches reports whether info is one of the candidates.
func (f *FailExp) Matches(info sig.ErrorInfo) bool {
	info.Stack = ""
	return slices.Contains(f.Cands, info)
}

func (f *FailExp) String() string {
	if f == nil {
		return "<none>"
	}
	parts := make([]string, len(f.Cands))
	for i, c := range f.Cands {
		parts[i] = fmt.Sprintf("{%s %q after %d, %s}", c.Task, c.Message, c.Attempts, c.Kind)
	}
	return strings.Join(parts, " | ")
}

// Outcome is what a node gives: an output (Out, or List for a swarm) or
// a failure.
type Outcome struct {
	OK   bool
	Out  int
	List []int
	Fail *FailExp
}

func (o Outcome) String() string {
	if o.OK {
		return fmt.Sprintf("ok %d", o.Out)
	}
	return "failed: " + o.Fail.String()
}

// Gate is a list of record paths: items of swarms that reached their
// failure limit under a concurrency cap above 1, whose fate the semantics
// leave open. Each such item was never entered, or ended on its own (and
// then its subtree is as the reference says), or was stopped when its
// swarm failed (Canceled, and its subtree only ran part of what the
// reference says). An expectation with a gate holds exactly when every
// item of the gate was entered and not canceled (GateExact); it is only
// bounded when one was canceled (GateLoose); otherwise the record is never
// entered, as one of the items was not (GateNever).
type Gate []string

// GateState is what a run made of a gate.
type GateState int

// The states of a gate.
const (
	GateExact GateState = iota
	GateNever
	GateLoose
)

// RecordExp is what the reference expects of one record.
type RecordExp struct {
	// Never: the record is never entered (a step after a failed step, a
	// callback of the other kind, an item after the failing one of a
	// swarm of concurrency 1 that reached its limit).
	Never bool
	// Gate: the items whose fate decides whether the expectation holds.
	Gate Gate
	// MustEnter: the record, last of its own gate, is entered when the
	// rest of its gate is exact (an item a failed swarm certainly
	// started).
	MustEnter bool
	// Attempts is how many times a task that is entered runs.
	Attempts int
	// Outcome is how an entered record ends.
	Outcome Outcome
}

// CallExp is what the reference expects of a callback's record task.
type CallExp struct {
	Path  string
	Never bool
	Gate  Gate
	// In is the value a success callback receives, or the Input of an
	// error callback's flow.Failure.
	In int
	// Fail is the failure an error callback receives.
	Fail *FailExp
}

// Expect is the reference's prediction for a run.
type Expect struct {
	Out     Outcome
	Records map[string]RecordExp
	Calls   map[int]CallExp
}

// Reference computes what running the graph of p with input in must give.
// retried holds the paths of tasks whose first attempt an injected fault
// fails (they run once more).
//
// The semantics it encodes, from storage/transition/machine.go:
//   - a chain runs its steps in order with the previous output; a failed
//     step fails the chain with the step's ErrorInfo and later steps are
//     never entered (advance);
//   - a swarm enters its first MaxConcurrency items, and one more each
//     time an item ends (settle); without a failure limit, or below it, it
//     completes once every item ended, with the results of its Done items
//     in item order (failed items left out);
//   - at StopAfterNFailures failed items the swarm fails at once with kind
//     "swarm", the last failure's task and attempts, and the message
//     "swarm stopped at its limit of N failed items; last: <message>";
//     items not entered by then never are; items entered and not ended
//     either run to their end (with their callbacks; the code at the
//     package's writing) or are stopped, Canceled with their whole
//     subtree (storage/transition/machine.go stopItems, being added in
//     the working tree at the same time): the reference allows both;
//   - success callbacks get the node's output, error callbacks
//     {Input: the node's input, Error: its ErrorInfo}; they are entered by
//     the same transition that ends the node, so they run concurrently
//     with what follows the node, and never change its outcome.
func Reference(p *Plan, in int, retried map[string]bool) *Expect {
	r := &ref{exp: &Expect{Records: map[string]RecordExp{}, Calls: map[int]CallExp{}}, retried: retried}
	r.exp.Out = r.eval(p, value{N: in}, nil, true)
	return r.exp
}

type ref struct {
	exp     *Expect
	retried map[string]bool
}

// value is what flows into a node.
type value struct {
	N    int
	List []int
	Fail *FailExp
}

// eval computes p's outcome on in; with effects, it records what it
// expects of p's records and callbacks under gate g.
func (r *ref) eval(p *Plan, in value, g Gate, effects bool) Outcome {
	var o Outcome
	attempts := 0
	switch p.Kind {
	case sig.KindTask:
		o, attempts = r.task(p, in, g, effects)
	case sig.KindChain:
		o = r.chain(p, in, g, effects)
	case sig.KindSwarm:
		o = r.swarm(p, in, g, effects)
	}
	if !effects {
		return o
	}
	r.exp.Records[p.Path] = RecordExp{Gate: g, Attempts: attempts, Outcome: o}
	if o.OK {
		for _, cb := range p.OnOK {
			r.eval(cb, value{N: o.Out, List: o.List}, g, true)
		}
		for _, cb := range p.OnErr {
			r.never(cb, g)
		}
	} else {
		for _, cb := range p.OnErr {
			r.eval(cb, value{N: in.N, Fail: o.Fail}, g, true)
		}
		for _, cb := range p.OnOK {
			r.never(cb, g)
		}
	}
	return o
}

// never records that p and everything below it never run; g is the gate
// of the context (a stopped item cancels its never-entered records too).
func (r *ref) never(p *Plan, g Gate) {
	p.Walk(func(q *Plan) {
		r.exp.Records[q.Path] = RecordExp{Never: true, Gate: g}
		if q.Label > 0 {
			r.exp.Calls[q.Label] = CallExp{Path: q.Path, Never: true, Gate: g}
		}
	})
}

func (r *ref) task(p *Plan, in value, g Gate, effects bool) (Outcome, int) {
	n := in.N
	extra := 0
	if r.retried[p.Path] {
		extra = 1
	}
	switch p.Task {
	case NameFold:
		return Outcome{OK: true, Out: Fold(in.List)}, 1 + extra
	case NameRecOK:
		if effects {
			r.exp.Calls[p.Label] = CallExp{Path: p.Path, Gate: g, In: n}
		}
		return Outcome{OK: true, Out: n}, 1 + extra
	case NameRecErr:
		if effects {
			r.exp.Calls[p.Label] = CallExp{Path: p.Path, Gate: g, In: n, Fail: in.Fail}
		}
		return Outcome{OK: true, Out: n}, 1 + extra
	}
	x := p.Node
	switch x.Op {
	case Double:
		return Outcome{OK: true, Out: 2 * n}, 1 + extra
	case Negate:
		return Outcome{OK: true, Out: -n}, 1 + extra
	case Add:
		return Outcome{OK: true, Out: n + x.K}, 1 + extra
	case Fail:
		return failed(NameFail, fmt.Sprintf("fail#%d", x.ID), 1), 1
	case Flaky:
		if x.K <= x.R {
			return Outcome{OK: true, Out: n + 1}, x.K + 1
		}
		return failed(FlakyName(x.R), fmt.Sprintf("flaky#%d", x.ID), x.R+1), x.R + 1
	}
	panic(fmt.Sprintf("proptest: unknown task %s", p.Task))
}

func failed(task, msg string, attempts int) Outcome {
	return Outcome{Fail: &FailExp{Kind: sig.ErrorTask, Cands: []sig.ErrorInfo{{Task: task, Message: msg, Attempts: attempts, Kind: sig.ErrorTask}}}}
}

func (r *ref) chain(p *Plan, in value, g Gate, effects bool) Outcome {
	cur := in
	var fail *FailExp
	for _, c := range p.Children {
		if fail != nil {
			if effects {
				r.never(c, g)
			}
			continue
		}
		o := r.eval(c, cur, g, effects)
		if !o.OK {
			fail = o.Fail
			continue
		}
		cur = value{N: o.Out, List: o.List}
	}
	if fail != nil {
		return Outcome{Fail: fail}
	}
	return Outcome{OK: true, Out: cur.N, List: cur.List}
}

func (r *ref) swarm(p *Plan, in value, g Gate, effects bool) Outcome {
	n := len(p.Children)
	outs := make([]Outcome, n)
	var fails []int
	for i, it := range p.Children {
		outs[i] = r.eval(it, in, nil, false)
		if !outs[i].OK {
			fails = append(fails, i)
		}
	}
	capacity := p.Cap
	if capacity <= 0 {
		capacity = sig.DefaultMaxConcurrency
	}
	if p.Stop == 0 || len(fails) < p.Stop {
		// every item runs; the swarm completes
		list := []int{}
		for i, it := range p.Children {
			if effects {
				r.eval(it, in, g, true)
			}
			if outs[i].OK {
				list = append(list, outs[i].Out)
			}
		}
		return Outcome{OK: true, List: list}
	}
	// The swarm fails. Under a cap of 1 items run one at a time in
	// order: those up to the one whose failure is the limit'th run, the
	// rest never start. Under a higher cap, items up to that one and the
	// first cap items certainly started (the limit is reached only once
	// that many items failed), later ones may have; any of them may have
	// ended on its own or been stopped with the swarm.
	last := fails[p.Stop-1]
	certain := max(last, min(capacity, n)-1)
	if effects {
		for i, it := range p.Children {
			switch {
			case capacity == 1 && i <= last:
				r.eval(it, in, g, true)
			case capacity == 1:
				r.never(it, g)
			default:
				r.eval(it, in, append(slices.Clip(g), it.Path), true)
				if i <= certain {
					x := r.exp.Records[it.Path]
					x.MustEnter = true
					r.exp.Records[it.Path] = x
				}
			}
		}
	}
	lasts := fails
	if capacity == 1 {
		lasts = []int{last}
	}
	f := &FailExp{Kind: sig.ErrorSwarm}
	for _, i := range lasts {
		for _, c := range outs[i].Fail.Cands {
			e := sig.ErrorInfo{
				Task:     c.Task,
				Attempts: c.Attempts,
				Kind:     sig.ErrorSwarm,
				Message:  fmt.Sprintf("swarm stopped at its limit of %d failed items; last: %s", p.Stop, c.Message),
			}
			if !slices.Contains(f.Cands, e) {
				f.Cands = append(f.Cands, e)
			}
		}
	}
	return Outcome{Fail: f}
}

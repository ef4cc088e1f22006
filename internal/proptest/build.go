package proptest

import (
	"context"
	"errors"
	"fmt"
	"runtime"
	"sync/atomic"

	"github.com/mageflow-go/mageflow/flow"
	"github.com/mageflow-go/mageflow/task"
)

// FlakyArgs are the bound args of a flaky task: its number and how many
// attempts fail.
type FlakyArgs struct {
	ID int `json:"id"`
	K  int `json:"k"`
}

// Alphabet is the task alphabet of one run, its functions reporting to
// an Observer.
type Alphabet struct {
	Double, Negate task.Task[int, int]
	Add            task.Task[flow.Args[int, int], int]
	Fail           task.Task[flow.Args[int, int], int]
	Flaky          []task.Task[flow.Args[FlakyArgs, int], int] // by retries
	Fold           task.Task[[]int, int]
	RecOK          task.Task[flow.Args[int, int], int]
	RecErr         task.Task[flow.Args[int, flow.Failure[int]], int]
	// Fixed makes fail return its input and flaky succeed at once, as
	// Fixed(graph) says: the failures a retry runs past were fixed.
	Fixed atomic.Bool
}

// errInjected is the error of an injected failed attempt.
var errInjected = errors.New("proptest: injected failure of a first attempt")

// NewAlphabet returns the alphabet whose tasks report to o. Every task but
// fail and flaky has one retry, used only by injected Retry faults.
func NewAlphabet(o *Observer) *Alphabet {
	one := task.WithRetries(1)
	a := &Alphabet{}
	fixed := &a.Fixed
	*a = Alphabet{
		Double: task.New(NameDouble, func(ctx context.Context, n int) (int, error) {
			return observed(ctx, o, func() (int, error) { return 2 * n, nil })
		}, one),
		Negate: task.New(NameNegate, func(ctx context.Context, n int) (int, error) {
			return observed(ctx, o, func() (int, error) { return -n, nil })
		}, one),
		Add: task.New(NameAdd, func(ctx context.Context, a flow.Args[int, int]) (int, error) {
			return observed(ctx, o, func() (int, error) { return a.In + a.Args, nil })
		}, one),
		Fail: task.New(NameFail, func(ctx context.Context, a flow.Args[int, int]) (int, error) {
			return observed(ctx, o, func() (int, error) {
				if fixed.Load() {
					return a.In, nil
				}
				return 0, task.NonRetryable(fmt.Errorf("fail#%d", a.Args))
			})
		}),
		Fold: task.New(NameFold, func(ctx context.Context, xs []int) (int, error) {
			return observed(ctx, o, func() (int, error) { return Fold(xs), nil })
		}, one),
		RecOK: task.New(NameRecOK, func(ctx context.Context, a flow.Args[int, int]) (int, error) {
			return observed(ctx, o, func() (int, error) {
				o.call(a.Args, Call{In: a.In})
				return a.In, nil
			})
		}, one),
		RecErr: task.New(NameRecErr, func(ctx context.Context, a flow.Args[int, flow.Failure[int]]) (int, error) {
			return observed(ctx, o, func() (int, error) {
				e := a.In.Error
				o.call(a.Args, Call{In: a.In.Input, Error: &e})
				return a.In.Input, nil
			})
		}, one),
	}
	for r := 0; r <= MaxFlakyRetries; r++ {
		a.Flaky = append(a.Flaky, task.New(FlakyName(r), func(ctx context.Context, a flow.Args[FlakyArgs, int]) (int, error) {
			info, _ := task.Info(ctx)
			return observed(ctx, o, func() (int, error) {
				if info.Attempt <= a.Args.K && !fixed.Load() {
					return 0, fmt.Errorf("flaky#%d", a.Args.ID)
				}
				return a.In + 1, nil
			})
		}, task.WithRetries(r)))
	}
	return a
}

// Fold turns a swarm's output into an int that tells the order and the
// number of the results apart: h = 3h + x + 1 over xs.
func Fold(xs []int) int {
	h := 0
	for _, x := range xs {
		h = 3*h + x + 1
	}
	return h
}

// Tasks lists the alphabet for registration.
func (a *Alphabet) Tasks() []task.Registrable {
	ts := []task.Registrable{a.Double, a.Negate, a.Add, a.Fail, a.Fold, a.RecOK, a.RecErr}
	for _, f := range a.Flaky {
		ts = append(ts, f)
	}
	return ts
}

// observed runs fn as the body of a task: it reports the attempt to o,
// fails it when an injected Retry fault asks, and yields a few times so
// that tasks that may run together do overlap.
func observed(ctx context.Context, o *Observer, fn func() (int, error)) (int, error) {
	info, _ := task.Info(ctx)
	leave := o.enter(info.Record)
	defer leave()
	for range 3 {
		runtime.Gosched()
	}
	if o.injected(info.Record, info.Attempt) {
		return 0, errInjected
	}
	return fn()
}

// Build turns n into a flow over the alphabet, as PlanOf lowers it.
func (a *Alphabet) Build(n *Node) flow.Flow[int, int] {
	var f flow.Flow[int, int]
	switch n.Kind {
	case Task:
		switch n.Op {
		case Double:
			f = a.Double
		case Negate:
			f = a.Negate
		case Add:
			f = flow.Bind(a.Add, n.K)
		case Fail:
			f = flow.Bind(a.Fail, n.ID)
		case Flaky:
			f = flow.Bind(a.Flaky[n.R], FlakyArgs{ID: n.ID, K: n.K})
		}
	case Chain:
		steps := make([]flow.Flow[int, int], len(n.Steps))
		for i, s := range n.Steps {
			steps[i] = a.Build(s)
		}
		if len(steps) == 2 {
			f = flow.Then(steps[0], steps[1])
		} else {
			f = flow.Chain(steps...)
		}
	case Swarm:
		items := make([]flow.Flow[int, int], len(n.Steps))
		for i, s := range n.Steps {
			items[i] = a.Build(s)
		}
		s := flow.Swarm(items...).WithConfig(flow.SwarmConfig{MaxConcurrency: n.Cap, StopAfterNFailures: n.Stop})
		f = flow.Then(s, a.Fold)
	}
	for _, cb := range n.OnOK {
		rec := flow.Bind(a.RecOK, cb.Label)
		if cb.Body == nil {
			f = flow.OnSuccess(f, rec)
		} else {
			f = flow.OnSuccess(f, flow.Then(rec, a.Build(cb.Body)))
		}
	}
	for _, cb := range n.OnErr {
		rec := flow.Bind(a.RecErr, cb.Label)
		if cb.Body == nil {
			f = flow.OnError(f, rec)
		} else {
			f = flow.OnError(f, flow.Then(rec, a.Build(cb.Body)))
		}
	}
	return f
}

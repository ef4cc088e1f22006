package proptest

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mageflow-go/mageflow"
	membackend "github.com/mageflow-go/mageflow/backend/memory"
	"github.com/mageflow-go/mageflow/flow"
	"github.com/mageflow-go/mageflow/sig"
)

// Strict returns n with every swarm stopping at its first failed item,
// so that every failure of the graph's body fails its root: the graph a
// retry makes end as if nothing had failed. (A swarm that tolerates a
// failed item completes with the others' results, and a retry of a done
// flow does not run it again.)
func Strict(n *Node) *Node {
	c := *n
	if c.Kind == Swarm {
		c.Stop = 1
	}
	c.Steps = make([]*Node, len(n.Steps))
	for i, s := range n.Steps {
		c.Steps[i] = Strict(s)
	}
	c.OnOK, c.OnErr = strictCallbacks(n.OnOK), strictCallbacks(n.OnErr)
	return &c
}

func strictCallbacks(cbs []*Callback) []*Callback {
	out := make([]*Callback, len(cbs))
	for i, cb := range cbs {
		c := *cb
		if cb.Body != nil {
			c.Body = Strict(cb.Body)
		}
		out[i] = &c
	}
	return out
}

// Fixed returns n as it runs once its failures are fixed (Alphabet.Fixed):
// fail returns its input, flaky succeeds at once.
func Fixed(n *Node) *Node {
	c := *n
	switch {
	case c.Kind == Task && c.Op == Fail:
		c.Op, c.K = Add, 0
	case c.Kind == Task && c.Op == Flaky:
		c.K = 0
	}
	c.Steps = make([]*Node, len(n.Steps))
	for i, s := range n.Steps {
		c.Steps[i] = Fixed(s)
	}
	c.OnOK, c.OnErr = fixedCallbacks(n.OnOK), fixedCallbacks(n.OnErr)
	return &c
}

func fixedCallbacks(cbs []*Callback) []*Callback {
	out := make([]*Callback, len(cbs))
	for i, cb := range cbs {
		c := *cb
		if cb.Body != nil {
			c.Body = Fixed(cb.Body)
		}
		out[i] = &c
	}
	return out
}

// Retried is what a run, its failures then fixed and the run retried,
// gave: First when it first ended, Last after the retry (Seen counting
// both), and whether the retry applied (false: nothing had failed).
type Retried struct {
	First, Last *Result
	Applied     bool
}

// ExecuteRetry runs graph g with input in on a fresh memory backend over
// target's store until it ended, fixes the alphabet's failures, retries
// the run and waits until it ended again.
func ExecuteRetry(ctx context.Context, target Target, g *Node, in int) (*Retried, error) {
	plan := PlanOf(g)
	obs := NewObserver(plan, nil)
	alpha := NewAlphabet(obs)
	client, err := mageflow.New(membackend.New(), target.Store, mageflow.WithSweep(10*time.Millisecond, 20*time.Millisecond), mageflow.WithTTL(mageflow.DefaultActiveTTL, DoneTTL))
	if err != nil {
		return nil, err
	}
	if err := client.Register(alpha.Tasks()...); err != nil {
		return nil, err
	}
	stop, err := client.StartWorker(ctx)
	if err != nil {
		return nil, err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), Wait)
		defer cancel()
		_ = stop(sctx)
	}()
	run, err := flow.Start(ctx, client, alpha.Build(g), in)
	if err != nil {
		return nil, fmt.Errorf("start: %w", err)
	}
	first, err := ended(ctx, target, plan, obs, run)
	if err != nil {
		return nil, err
	}
	alpha.Fixed.Store(true)
	out := &Retried{First: first}
	switch err := run.Retry(ctx); {
	case err == nil:
		out.Applied = true
	case errors.Is(err, mageflow.ErrNotFailed):
	default:
		return out, fmt.Errorf("retry: %w", err)
	}
	out.Last, err = ended(ctx, target, plan, obs, run)
	return out, err
}

// ended waits until run and its callbacks ended, and reads what it gave.
func ended(ctx context.Context, target Target, plan *Plan, obs *Observer, run *flow.Run[int]) (*Result, error) {
	wctx, cancel := context.WithTimeout(ctx, Wait)
	defer cancel()
	res := &Result{Root: run.ID()}
	res.Out, res.Err = run.Wait(wctx)
	if wctx.Err() != nil {
		return res, fmt.Errorf("stuck: run %s did not end within %v: %w\n%s", run.ID(), Wait, res.Err, dump(ctx, target.Store, run.ID(), plan))
	}
	if err := waitFinished(wctx, target.Store, run.ID()); err != nil {
		return res, fmt.Errorf("stuck: graph %s did not finish within %v: %w\n%s", run.ID(), Wait, err, dump(ctx, target.Store, run.ID(), plan))
	}
	res.Seen = obs.Seen()
	return res, readEnd(ctx, target, plan, res)
}

// CheckRetried checks a retried run r of plan p against e, the reference
// of the fixed graph: the retried run's output is e's; no task that
// ended done before the retry ran again; every callback fired at most
// once, those of the fixed run exactly once (with its input), and no
// callback that fired before the retry fired again; and the graph ended
// as every graph ends.
func CheckRetried(p *Plan, e *Expect, r *Retried) []string {
	out := CheckOutput(p, e, r.Last)
	if r.First.Err == nil && r.Applied && failedCallbacks(r.First) == 0 {
		out = append(out, "a retry of a flow in which nothing failed applied")
	}
	if r.First.Err != nil && !r.Applied {
		out = append(out, fmt.Sprintf("the retry of a failed flow did not apply (it failed with %v)", r.First.Err))
	}
	p.Walk(func(q *Plan) {
		if q.Kind != sig.KindTask {
			return
		}
		if rec := r.First.Records[q.Path]; rec.Status == sig.Done && r.Last.Seen.Execs[q.Path] != r.First.Seen.Execs[q.Path] {
			out = append(out, fmt.Sprintf("task root%s ended done before the retry and ran again (%d attempts, then %d)", q.Path, r.First.Seen.Execs[q.Path], r.Last.Seen.Execs[q.Path]))
		}
	})
	for label, x := range e.Calls {
		calls, before := r.Last.Seen.Calls[label], len(r.First.Seen.Calls[label])
		most := 1
		if rec := r.First.Records[x.Path]; rec != nil && rec.Status == sig.Canceled {
			// it may have run, and been stopped with its swarm before
			// it completed (its body may even run on after the graph
			// ended: its run was canceled, not awaited): its transition
			// did not happen, and it runs again (at least once per
			// attempt, as after an interrupt)
			most = 2
		}
		switch {
		case len(calls) > most:
			out = append(out, fmt.Sprintf("callback rec#%d (root%s) fired %d times", label, x.Path, len(calls)))
		case !x.Never && r.Last.state(x.Gate) == GateExact && len(calls) == 0:
			out = append(out, fmt.Sprintf("callback rec#%d (root%s) fired %d times, want once", label, x.Path, len(calls)))
		case !x.Never && len(calls) > 0 && calls[len(calls)-1].Error == nil && calls[len(calls)-1].In != x.In:
			out = append(out, fmt.Sprintf("callback rec#%d got input %d, want %d", label, calls[len(calls)-1].In, x.In))
		case x.Never && len(calls) != before:
			out = append(out, fmt.Sprintf("callback rec#%d (root%s), which the fixed run never fires, fired after the retry", label, x.Path))
		}
	}
	return append(out, CheckEnded(p, e, r.Last)...)
}

// failedCallbacks counts the failed records of r: with a done root, its
// failed callbacks (or records under them).
func failedCallbacks(r *Result) int {
	n := 0
	for _, rec := range r.Records {
		if rec.Status == sig.Failed {
			n++
		}
	}
	return n
}

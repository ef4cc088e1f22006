package flowtest

import (
	"context"
	"testing"

	"github.com/mageflow-go/mageflow/flow"
)

// Run starts f with in on e's client, waits until nothing runs any more
// (the flow, its callbacks and what they started), and returns the flow's
// output or its error (a *flow.FailedError when it failed). It fails the
// test when the flow cannot be started, or is still not ended when nothing
// runs (it was suspended, or waits for a task no one executes).
func Run[In, Out any](t testing.TB, e *Env, f flow.Flow[In, Out], in In) (Out, error) {
	t.Helper()
	r := Start(t, e, f, in)
	if r == nil {
		var zero Out
		return zero, nil
	}
	return outcome(t, e, r)
}

// Start starts f with in on e's client and waits until nothing runs any
// more, as [Run] does, and returns the run, for a test that acts on it
// afterwards (Wait, Status, Retry). It fails the test when the flow
// cannot be started.
func Start[In, Out any](t testing.TB, e *Env, f flow.Flow[In, Out], in In) *flow.Run[Out] {
	t.Helper()
	r, err := flow.Start(context.Background(), e.Client, f, in)
	if err != nil {
		t.Fatalf("flowtest: start: %v", err)
		return nil
	}
	e.Quiesce()
	return r
}

// Retry retries run, a flow that failed (after, say, a [Stub] fixed the
// task that failed), waits until nothing runs any more and returns the
// flow's new output or error, as [Run] does. It fails the test when Retry
// is refused (the flow did not fail, or was canceled).
func Retry[Out any](t testing.TB, e *Env, run *flow.Run[Out]) (Out, error) {
	t.Helper()
	if err := run.Retry(context.Background()); err != nil {
		var zero Out
		t.Fatalf("flowtest: retry: %v", err)
		return zero, err
	}
	e.Quiesce()
	return outcome(t, e, run)
}

// outcome returns the output or error of run, which must have ended.
func outcome[Out any](t testing.TB, e *Env, r *flow.Run[Out]) (Out, error) {
	t.Helper()
	var zero Out
	rec, err := e.Store.Get(context.Background(), r.ID())
	if err != nil {
		t.Fatalf("flowtest: run %s: %v", r.ID(), err)
		return zero, err
	}
	if !rec.Status.Terminal() {
		t.Fatalf("flowtest: run %s is %s and nothing runs: it will not end by itself", r.ID(), rec.Status)
		return zero, nil
	}
	ctx, cancel := context.WithTimeout(context.Background(), e.timeout)
	defer cancel()
	return r.Wait(ctx)
}

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
	var zero Out
	r, err := flow.Start(context.Background(), e.Client, f, in)
	if err != nil {
		t.Fatalf("flowtest: start: %v", err)
		return zero, err
	}
	e.Quiesce()
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

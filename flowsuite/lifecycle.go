package flowsuite

import (
	"context"
	"errors"
	"slices"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mageflow-go/mageflow"
	"github.com/mageflow-go/mageflow/flow"
	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
	"github.com/mageflow-go/mageflow/task"
)

// gate is a task that signals when it starts and waits to be released.
type gate struct {
	started chan int
	release chan struct{}
	calls   atomic.Int32
}

func newGate(name string) (*gate, task.Task[int, int]) {
	g := &gate{started: make(chan int, 100), release: make(chan struct{})}
	return g, task.New(name, func(ctx context.Context, n int) (int, error) {
		g.calls.Add(1)
		g.started <- n
		select {
		case <-g.release:
			return n + 1, nil
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	})
}

func (g *gate) waitStart(t *testing.T) int {
	t.Helper()
	select {
	case n := <-g.started:
		return n
	case <-testCtx(t).Done():
		t.Fatal("task did not start")
		return 0
	}
}

func status(t *testing.T, ctx context.Context, h interface {
	Status(context.Context) (sig.Status, error)
}) sig.Status {
	t.Helper()
	st, err := h.Status(ctx)
	if err != nil {
		t.Fatal(err)
	}
	return st
}

func testSuspendChainStopsBeforeNextStepAndResumeContinuesOnce(t *testing.T, h Harness) {
	t.Parallel()
	g, first := newGate("first")
	var second atomic.Int32
	next := task.New("second", func(ctx context.Context, n int) (int, error) { second.Add(1); return n * 10, nil })
	e := h.setup(t, first, next)
	ctx := testCtx(t)
	run, err := flow.Start(ctx, e.Client, flow.Then(first, next), 1)
	if err != nil {
		t.Fatal(err)
	}
	g.waitStart(t)
	if err := run.Suspend(ctx); err != nil {
		t.Fatal(err)
	}
	if err := run.Suspend(ctx); err != nil {
		t.Fatalf("suspending twice: %v", err)
	}
	if st := status(t, ctx, run); st != sig.Suspended {
		t.Fatalf("status %s, want suspended", st)
	}
	close(g.release) // the running step finishes
	step0 := sig.ChildID(run.ID(), 0)
	Eventually(t, "the running step to finish", func() bool {
		r, _ := e.Store.Get(ctx, step0)
		return r != nil && r.Status == sig.Done
	})
	if second.Load() != 0 {
		t.Fatal("the chain advanced while suspended")
	}
	if err := run.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	out, err := run.Wait(ctx)
	if err != nil || out != 20 {
		t.Fatalf("Wait = %d, %v; want 20", out, err)
	}
	if second.Load() != 1 || g.calls.Load() != 1 {
		t.Fatalf("first ran %d times, second %d; want once each", g.calls.Load(), second.Load())
	}
	if err := run.Resume(ctx); !errors.Is(err, mageflow.ErrFinished) {
		t.Fatalf("resuming a finished run: %v, want mageflow.ErrFinished", err)
	}
}

func testSuspendedSwarmKeepsItsCapAndRunsEveryItemOnce(t *testing.T, h Harness) {
	t.Parallel()
	var g gauge
	calls := NewRecorder()
	hold := make(chan struct{})
	item := task.New("item", func(ctx context.Context, a flow.Args[string, int]) (string, error) {
		g.enter()
		defer g.leave()
		calls.Add(a.Args)
		<-hold
		return a.Args, nil
	})
	e := h.setup(t, item)
	ctx := testCtx(t)
	var items []flow.Flow[int, string]
	var want []string
	for _, s := range []string{"a", "b", "c", "d", "e", "f", "g", "h"} {
		items = append(items, flow.Bind(item, s))
		want = append(want, s)
	}
	run, err := flow.Start(ctx, e.Client, flow.Swarm(items...).WithConfig(flow.SwarmConfig{MaxConcurrency: 2}), 0)
	if err != nil {
		t.Fatal(err)
	}
	Eventually(t, "two items to run", func() bool { return calls.Count("a")+calls.Count("b") == 2 })
	if err := run.Suspend(ctx); err != nil {
		t.Fatal(err)
	}
	close(hold)
	Eventually(t, "the running items to finish", func() bool {
		r, _ := e.Store.Get(ctx, run.ID())
		return r != nil && r.Swarm.Running == 0
	})
	if n := len(calls.Order()); n != 2 {
		t.Fatalf("%d items ran while suspended, want the 2 already running", n)
	}
	if err := run.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	out, err := run.Wait(ctx)
	if err != nil || !slices.Equal(out, want) {
		t.Fatalf("Wait = %v, %v; want %v", out, err, want)
	}
	for _, s := range want {
		if calls.Count(s) != 1 {
			t.Errorf("item %s ran %d times", s, calls.Count(s))
		}
	}
	if g.peak() > 2 {
		t.Fatalf("%d items ran at once, cap 2", g.peak())
	}
}

func testInterruptStopsRunningTaskAndResumeRunsItAgain(t *testing.T, h Harness) {
	t.Parallel()
	g, slow := newGate("slow")
	e := h.setup(t, slow)
	ctx := testCtx(t)
	run, err := flow.Start(ctx, e.Client, slow, 5)
	if err != nil {
		t.Fatal(err)
	}
	g.waitStart(t)
	if err := run.Interrupt(ctx); err != nil {
		t.Fatal(err)
	}
	if st := status(t, ctx, run); st != sig.Interrupted {
		t.Fatalf("status %s, want interrupted", st)
	}
	if err := run.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	g.waitStart(t) // it runs again
	close(g.release)
	out, err := run.Wait(ctx)
	if err != nil || out != 6 {
		t.Fatalf("Wait = %d, %v; want 6", out, err)
	}
}

func testCancelStopsEverythingWithoutErrorCallbacks(t *testing.T, h Harness) {
	t.Parallel()
	g, slow := newGate("slow")
	var later, alerts atomic.Int32
	after := task.New("after", func(ctx context.Context, n int) (int, error) { later.Add(1); return n, nil })
	alert := task.New("alert", func(ctx context.Context, f flow.Failure[int]) (int, error) { alerts.Add(1); return 0, nil })
	e := h.setup(t, slow, after, alert)
	ctx := testCtx(t)
	run, err := flow.Start(ctx, e.Client, flow.OnError(flow.Then(slow, after), alert), 1)
	if err != nil {
		t.Fatal(err)
	}
	g.waitStart(t)
	// canceled from a handle attached by id, as another process would
	attached, err := flow.Attach[int](e.Client, run.ID())
	if err != nil {
		t.Fatal(err)
	}
	if err := attached.Cancel(ctx); err != nil {
		t.Fatal(err)
	}
	_, err = run.Wait(ctx)
	if !errors.Is(err, mageflow.ErrCanceled) {
		t.Fatalf("Wait error %v, want mageflow.ErrCanceled", err)
	}
	e.WaitEnded(t, run.ID())
	if later.Load() != 0 || alerts.Load() != 0 {
		t.Fatalf("after a cancel: %d later steps, %d error callbacks ran", later.Load(), alerts.Load())
	}
	// A repeated cancel (its caller got no reply) finds its own effect.
	if err := run.Cancel(ctx); err != nil {
		t.Fatalf("canceling a canceled run: %v, want nil", err)
	}
	if err := run.Suspend(ctx); !errors.Is(err, mageflow.ErrFinished) {
		t.Fatalf("suspending a canceled run: %v, want mageflow.ErrFinished", err)
	}
	r, err := e.Store.Get(ctx, run.ID())
	if err != nil {
		t.Fatal(err)
	}
	if ttl := r.ExpiresAt.Sub(r.UpdatedAt); ttl > mageflow.DefaultDoneTTL+time.Second {
		t.Fatalf("canceled run expires in %v, want the done TTL", ttl)
	}
}

// A lifecycle request queued on the store, as the mageflow command queues
// it, is applied by a worker of the client: the run is interrupted and
// resumed, and ends as if nothing happened.
func testRequestsAppliedByWorker(t *testing.T, h Harness) {
	t.Parallel()
	g, slow := newGate("slow")
	e := h.setup(t, slow)
	q, ok := e.Store.(storage.Requests)
	if !ok {
		t.Skip("store does not carry requests")
	}
	ctx := testCtx(t)
	run, err := flow.Start(ctx, e.Client, flow.Then(slow, slow), 1)
	if err != nil {
		t.Fatal(err)
	}
	g.waitStart(t)
	is := func(want sig.Status) func() bool {
		return func() bool {
			r, err := e.Store.Get(ctx, run.ID())
			return err == nil && r.Status == want
		}
	}
	if err := q.Request(ctx, run.ID(), sig.OpInterrupt, time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	Eventually(t, "the run to be interrupted by a worker", is(sig.Interrupted))
	if err := q.Request(ctx, run.ID(), sig.OpResume, time.Now().Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	Eventually(t, "the run to be resumed by a worker", is(sig.Active))
	close(g.release)
	if out, err := run.Wait(ctx); err != nil || out != 3 {
		t.Fatalf("Wait = %d, %v; want 3", out, err)
	}
}

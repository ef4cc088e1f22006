package flowsuite

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"

	"github.com/mageflow-go/mageflow"
	"github.com/mageflow-go/mageflow/flow"
	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
	"github.com/mageflow-go/mageflow/task"
)

// flaky is a task that fails for good (no retries) while broken is set,
// and adds one to its input otherwise; rec counts its runs under name.
func flaky(name string, broken *atomic.Bool, rec *Recorder) task.Task[int, int] {
	return task.New(name, func(ctx context.Context, n int) (int, error) {
		rec.Add(name)
		if broken.Load() {
			return 0, task.NonRetryable(errors.New(name + " is broken"))
		}
		return n + 1, nil
	})
}

// counted is a task that adds one to its input; rec counts its runs.
func counted(name string, rec *Recorder) task.Task[int, int] {
	return task.New(name, func(ctx context.Context, n int) (int, error) {
		rec.Add(name)
		return n + 1, nil
	})
}

// A failed flow retried once the failure is fixed runs from where it
// failed: the step that succeeded does not run again, the failed step
// runs with the input it had, and the callbacks fire once per end.
func testRetryRunsAgainFromWhereItFailed(t *testing.T, h Harness) {
	t.Parallel()
	rec := NewRecorder()
	var broken atomic.Bool
	broken.Store(true)
	first, second, last := counted("first", rec), flaky("second", &broken, rec), counted("last", rec)
	ok := counted("ok", rec)
	failed := task.New("failed", func(ctx context.Context, f flow.Failure[int]) (int, error) {
		rec.Add("failed")
		return f.Input, nil
	})
	e := h.setup(t, first, second, last, ok, failed)
	ctx := testCtx(t)
	f := flow.OnError(flow.OnSuccess(flow.Then(first, flow.Then(second, last)), ok), failed)
	run, err := flow.Start(ctx, e.Client, f, 1)
	if err != nil {
		t.Fatal(err)
	}
	var fe *flow.FailedError
	if _, err := run.Wait(ctx); !errors.As(err, &fe) {
		t.Fatalf("Wait = %v; want a FailedError", err)
	}
	e.WaitEnded(t, run.ID())

	broken.Store(false)
	if err := run.Retry(ctx); err != nil {
		t.Fatalf("Retry: %v", err)
	}
	out, err := run.Wait(ctx)
	if err != nil || out != 4 {
		t.Fatalf("Wait after Retry = %d, %v; want 4", out, err)
	}
	e.WaitEnded(t, run.ID())
	want := map[string]int{"first": 1, "second": 2, "last": 1, "ok": 1, "failed": 1}
	if got := rec.Calls(); !sameCounts(got, want) {
		t.Errorf("runs %v, want %v", got, want)
	}
	if err := run.Retry(ctx); !errors.Is(err, mageflow.ErrNotFailed) {
		t.Errorf("Retry of a flow that ended done: %v; want ErrNotFailed", err)
	}
}

// A swarm that failed at its limit, retried, runs its failed items and
// those its limit kept from starting, and keeps its done items' results.
func testRetrySwarmRunsWhatItDidNotFinish(t *testing.T, h Harness) {
	t.Parallel()
	rec := NewRecorder()
	var broken atomic.Bool
	broken.Store(true)
	item, bad := counted("item", rec), flaky("bad", &broken, rec)
	e := h.setup(t, item, bad)
	ctx := testCtx(t)
	sw := flow.Swarm(item, bad, item, item).WithConfig(flow.SwarmConfig{MaxConcurrency: 1, StopAfterNFailures: 1})
	run, err := flow.Start(ctx, e.Client, sw, 10)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := run.Wait(ctx); err == nil {
		t.Fatal("the swarm did not fail")
	}
	e.WaitEnded(t, run.ID())
	if n := rec.Count("item"); n != 1 {
		t.Fatalf("before the retry, %d items ran, want 1 (MaxConcurrency 1)", n)
	}
	broken.Store(false)
	sig, err := flow.Attach[[]int](e.Client, run.ID())
	if err != nil {
		t.Fatal(err)
	}
	if err := sig.Retry(ctx); err != nil {
		t.Fatalf("Retry of an attached run: %v", err)
	}
	out, err := run.Wait(ctx)
	if err != nil || len(out) != 4 {
		t.Fatalf("Wait after Retry = %v, %v; want 4 results", out, err)
	}
	for i, v := range out {
		if v != 11 {
			t.Errorf("result %d = %d, want 11", i, v)
		}
	}
	if got, want := rec.Calls(), map[string]int{"item": 3, "bad": 2}; !sameCounts(got, want) {
		t.Errorf("runs %v, want %v", got, want)
	}
}

// Retry refuses what has not failed, with the root's errors.
func testRetryRefusesWhatHasNotFailed(t *testing.T, h Harness) {
	t.Parallel()
	g, slow := newGate("slow-retry")
	defer close(g.release)
	e := h.setup(t, slow, inc)
	ctx := testCtx(t)

	running, err := flow.Start(ctx, e.Client, flow.Then(slow, inc), 1)
	if err != nil {
		t.Fatal(err)
	}
	expectErr(t, "Retry of a running flow", running.ID(), running.Retry(ctx), mageflow.ErrNotFailed)

	canceled, err := flow.Sign(ctx, e.Client, flow.Then(inc, inc))
	if err != nil {
		t.Fatal(err)
	}
	if err := canceled.Cancel(ctx); err != nil {
		t.Fatal(err)
	}
	expectErr(t, "Retry of a canceled flow", canceled.ID(), canceled.Retry(ctx), mageflow.ErrCanceled)

	tolerant, err := flow.SignSwarm(ctx, e.Client, flow.Swarm(inc))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := tolerant.Start(ctx, 1); err != nil {
		t.Fatal(err)
	}
	if err := tolerant.Close(ctx); err != nil {
		t.Fatal(err)
	}
	e.WaitEnded(t, tolerant.ID())
	expectErr(t, "Retry of a swarm that ended done", tolerant.ID(), tolerant.Retry(ctx), mageflow.ErrNotFailed)

	var zero flow.Run[int]
	if err := zero.Retry(ctx); err == nil {
		t.Error("Retry of a zero Run: no error")
	}
}

// An open swarm closed with no items completes with an empty result.
func testEmptySwarmClosedCompletes(t *testing.T, h Harness) {
	t.Parallel()
	e := h.setup(t, inc)
	ctx := testCtx(t)
	for _, closeFirst := range []bool{false, true} {
		sw, err := flow.SignSwarm(ctx, e.Client, flow.Swarm[int, int]())
		if err != nil {
			t.Fatal(err)
		}
		if closeFirst {
			if err := sw.Close(ctx); err != nil {
				t.Fatalf("Close of an empty swarm not started: %v", err)
			}
		}
		run, err := sw.Start(ctx, 1)
		if err != nil {
			t.Fatal(err)
		}
		if !closeFirst {
			if err := sw.Close(ctx); err != nil {
				t.Fatalf("Close of an empty running swarm: %v", err)
			}
		}
		out, err := run.Wait(ctx)
		if err != nil || out == nil || len(out) != 0 {
			t.Errorf("closed first %v: Wait = %#v, %v; want an empty result", closeFirst, out, err)
		}
	}
}

// sameCounts reports whether got and want hold the same counts.
func sameCounts(got, want map[string]int) bool {
	if len(got) != len(want) {
		return false
	}
	for k, v := range want {
		if got[k] != v {
			return false
		}
	}
	return true
}

// A Retry whose reply is lost after the store applied it is repeated by
// the client, which finds its own effect: Retry returns nil and the
// failed task runs once more.
func testLostRetryReplyRunsOnce(t *testing.T, h Harness) {
	t.Parallel()
	var lossy *Lossy
	rec := NewRecorder()
	var broken atomic.Bool
	broken.Store(true)
	once := flaky("once", &broken, rec)
	e := h.Faulty(t, nil, Faults{Store: func(s storage.Store) storage.Store {
		lossy = NewLossy(s, nil)
		return lossy
	}}, once)
	ctx := testCtx(t)
	run, err := flow.Start(ctx, e.Client, once, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := run.Wait(ctx); err == nil {
		t.Fatal("the flow did not fail")
	}
	e.WaitEnded(t, run.ID())
	broken.Store(false)
	lossy.Lose("apply", 1)
	if err := run.Retry(ctx); err != nil {
		t.Fatalf("Retry with its reply lost = %v, want nil", err)
	}
	if lossy.Lost() != 1 {
		t.Fatalf("%d replies lost, want 1", lossy.Lost())
	}
	if out, err := run.Wait(ctx); err != nil || out != 2 {
		t.Fatalf("Wait = %d, %v; want 2", out, err)
	}
	e.WaitEnded(t, run.ID())
	if n := rec.Count("once"); n != 2 {
		t.Fatalf("the task ran %d times, want twice (once failing, once retried)", n)
	}
}

// A retried task starts the flows it starts inside it afresh: a failure
// inside such a flow is retried with it, and the flows of the attempt
// that failed are left as they were.
func testRetryStartsATasksFlowsAfresh(t *testing.T, h Harness) {
	t.Parallel()
	rec := NewRecorder()
	var broken atomic.Bool
	broken.Store(true)
	inner := flaky("inner", &broken, rec)
	var firstChild atomic.Value
	var e Env
	outer := task.New("outer", func(ctx context.Context, n int) (int, error) {
		rec.Add("outer")
		r, err := flow.Start(ctx, e.Client, inner, n)
		if err != nil {
			return 0, err
		}
		firstChild.CompareAndSwap(nil, r.ID())
		out, err := r.Wait(ctx)
		if err != nil {
			return 0, task.NonRetryable(err)
		}
		return out * 10, nil
	})
	e = h.setup(t, inner, outer)
	ctx := testCtx(t)
	run, err := flow.Start(ctx, e.Client, outer, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := run.Wait(ctx); err == nil {
		t.Fatal("the flow did not fail")
	}
	broken.Store(false)
	if err := run.Retry(ctx); err != nil {
		t.Fatal(err)
	}
	if out, err := run.Wait(ctx); err != nil || out != 20 {
		t.Fatalf("Wait after Retry = %d, %v; want 20", out, err)
	}
	if got, want := rec.Calls(), map[string]int{"outer": 2, "inner": 2}; !sameCounts(got, want) {
		t.Errorf("runs %v, want %v", got, want)
	}
	first, _ := firstChild.Load().(string)
	if r, err := e.Store.Get(ctx, first); err != nil || r.Status != sig.Failed {
		t.Errorf("the first attempt's flow %s: %v, %v; want it kept, failed", first, r, err)
	}
}

// Retry right after Wait returned a failure waits for the error callbacks
// still running, then runs the flow again.
func testRetryWaitsForTheCallbacks(t *testing.T, h Harness) {
	t.Parallel()
	rec := NewRecorder()
	var broken atomic.Bool
	broken.Store(true)
	failing := flaky("failing", &broken, rec)
	release := make(chan struct{})
	slowAlert := task.New("slow-alert", func(ctx context.Context, f flow.Failure[int]) (int, error) {
		rec.Add("slow-alert")
		select {
		case <-release:
		case <-ctx.Done():
		}
		return 0, nil
	})
	e := h.setup(t, failing, slowAlert)
	ctx := testCtx(t)
	run, err := flow.Start(ctx, e.Client, flow.OnError(failing, slowAlert), 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := run.Wait(ctx); err == nil {
		t.Fatal("the flow did not fail")
	}
	broken.Store(false)
	done := make(chan error, 1)
	go func() { done <- run.Retry(ctx) }()
	Eventually(t, "the error callback to run", func() bool { return rec.Count("slow-alert") == 1 })
	select {
	case err := <-done:
		t.Fatalf("Retry returned %v while the error callback ran", err)
	default:
	}
	close(release)
	if err := <-done; err != nil {
		t.Fatalf("Retry: %v", err)
	}
	if out, err := run.Wait(ctx); err != nil || out != 2 {
		t.Fatalf("Wait after Retry = %d, %v; want 2", out, err)
	}
}

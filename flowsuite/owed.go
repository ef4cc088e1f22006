package flowsuite

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mageflow-go/mageflow"
	"github.com/mageflow-go/mageflow/backend"
	"github.com/mageflow-go/mageflow/flow"
	"github.com/mageflow-go/mageflow/middleware"
	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
	"github.com/mageflow-go/mageflow/task"
)

// The cases of this file check that nothing a transition decided is lost
// when the backend refuses it for longer than the engine's own tries, or
// when the store's reply is lost: the worker's recovery delivers it, once.

// fastRecovery makes the worker recover owed effects within a second.
var fastRecovery = []mageflow.Option{mageflow.WithSweep(50*time.Millisecond, 200*time.Millisecond)}

// valved returns faults that put v between the client and its backend.
func valved(v *Valve) Faults {
	return Faults{Backend: func(b backend.Backend) backend.Backend { v.Backend = b; return v }}
}

// refusedFor waits until v refused more than the engine's own tries (6)
// of the first send: the transition's process gave up, and the recovery
// is refused too.
func refusedFor(t *testing.T, v *Valve) {
	t.Helper()
	Eventually(t, "the backend to refuse more than the engine's own tries", func() bool { return v.Refused() > 7 })
}

// startRefusedChain starts first then second, where first closes the valve
// before it returns, so that second's dispatch is refused for longer than
// the engine tries; it returns once the recovery is refused too.
func startRefusedChain(t *testing.T, h Harness) (*Valve, *Recorder, *flow.Run[int]) {
	t.Helper()
	v := &Valve{}
	rec := NewRecorder()
	first := task.New("first", func(ctx context.Context, n int) (int, error) { rec.Add("first"); v.Close(); return n + 1, nil })
	second := task.New("second", func(ctx context.Context, n int) (int, error) { rec.Add("second"); return n * 10, nil })
	e := h.Faulty(t, fastRecovery, valved(v), first, second)
	run, err := flow.Start(testCtx(t), e.Client, flow.Then(first, second), 1)
	if err != nil {
		t.Fatal(err)
	}
	refusedFor(t, v)
	return v, rec, run
}

// wantSecondOnce waits for run, first then second on input 1, and checks
// that second ran once.
func wantSecondOnce(t *testing.T, ctx context.Context, run *flow.Run[int], rec *Recorder) {
	t.Helper()
	if out, err := run.Wait(ctx); err != nil || out != 20 {
		t.Fatalf("Wait = %d, %v; want 20", out, err)
	}
	if n := rec.Count("second"); n != 1 {
		t.Fatalf("second ran %d times, want once", n)
	}
}

// A chain step's next dispatch refused on the step's last attempt, for
// longer than the engine tries: the step's attempt ends, and the
// recovery sends the next step once the backend takes dispatches again.
func testFollowUpRefusedOnLastAttemptIsRecovered(t *testing.T, h Harness) {
	t.Parallel()
	ctx := testCtx(t)
	v, rec, run := startRefusedChain(t, h)
	v.Open()
	if out, err := run.Wait(ctx); err != nil || out != 20 {
		t.Fatalf("Wait = %d, %v; want 20", out, err)
	}
	if rec.Count("first") != 1 || rec.Count("second") != 1 {
		t.Fatalf("calls %v, want each task once", rec.Calls())
	}
}

// An error callback refused for longer than the engine tries fires once
// the backend takes dispatches again.
func testErrorCallbackRefusedIsRecovered(t *testing.T, h Harness) {
	t.Parallel()
	v := &Valve{}
	rec := NewRecorder()
	boom := task.New("boom", func(ctx context.Context, n int) (int, error) {
		rec.Add("boom")
		v.Close()
		return 0, errors.New("boom")
	})
	alert := task.New("alert", func(ctx context.Context, f flow.Failure[int]) (int, error) { rec.Add("alert"); return f.Input, nil })
	e := h.Faulty(t, fastRecovery, valved(v), boom, alert)
	ctx := testCtx(t)
	run, err := flow.Start(ctx, e.Client, flow.OnError(boom, alert), 1)
	if err != nil {
		t.Fatal(err)
	}
	var fe *flow.FailedError
	if _, err := run.Wait(ctx); !errors.As(err, &fe) {
		t.Fatalf("Wait = %v, want the task's failure", err)
	}
	refusedFor(t, v)
	v.Open()
	e.WaitEnded(t, run.ID())
	if rec.Count("boom") != 1 || rec.Count("alert") != 1 {
		t.Fatalf("calls %v, want each task once", rec.Calls())
	}
}

// A Resume whose dispatches are refused returns, and the flow goes on once
// the backend takes dispatches again.
func testRefusedResumeIsRecovered(t *testing.T, h Harness) {
	t.Parallel()
	v := &Valve{}
	g, hold := newGate("hold")
	rec := NewRecorder()
	second := task.New("second", func(ctx context.Context, n int) (int, error) { rec.Add("second"); return n * 10, nil })
	e := h.Faulty(t, fastRecovery, valved(v), hold, second)
	ctx := testCtx(t)
	run, err := flow.Start(ctx, e.Client, flow.Then(hold, second), 1)
	if err != nil {
		t.Fatal(err)
	}
	g.waitStart(t)
	if err := run.Suspend(ctx); err != nil {
		t.Fatal(err)
	}
	close(g.release)
	step0 := sig.ChildID(run.ID(), 0)
	Eventually(t, "the running step to complete", func() bool {
		r, err := e.Store.Get(ctx, step0)
		return err == nil && r.Status == sig.Done
	})
	v.Close()
	if err := run.Resume(ctx); err != nil {
		t.Fatalf("Resume with its dispatch refused = %v, want nil (it stays owed)", err)
	}
	refusedFor(t, v)
	v.Open()
	wantSecondOnce(t, ctx, run, rec)
}

// A step whose result is stored and whose next step was not sent (the
// backend refused it), interrupted before anything delivered that step:
// Resume dispatches it, and it runs once.
func testInterruptWithNextStepUnsentResumesIt(t *testing.T, h Harness) {
	t.Parallel()
	ctx := testCtx(t)
	v, rec, run := startRefusedChain(t, h)
	if err := run.Interrupt(ctx); err != nil {
		t.Fatal(err)
	}
	v.Open()
	if err := run.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	wantSecondOnce(t, ctx, run, rec)
}

// A Cancel whose cancel of the running task's run is refused returns, and
// the run is stopped once the backend takes calls again.
func testRefusedCancelReachesTheRunningTask(t *testing.T, h Harness) {
	t.Parallel()
	v := &Valve{Cancels: true}
	var stopped atomic.Bool
	started := make(chan struct{}, 1)
	long := task.New("long", func(ctx context.Context, n int) (int, error) {
		started <- struct{}{}
		<-ctx.Done()
		stopped.Store(true)
		return 0, ctx.Err()
	})
	e := h.Faulty(t, fastRecovery, valved(v), long)
	ctx := testCtx(t)
	run := startAwaiting(t, ctx, e.Client, long, started)
	v.Close()
	if err := run.Cancel(ctx); err != nil {
		t.Fatalf("Cancel with its run's cancel refused = %v, want nil (it stays owed)", err)
	}
	Eventually(t, "the cancel to be refused again by the recovery", func() bool { return v.Refused() > 1 })
	if stopped.Load() {
		t.Fatal("the run stopped while its cancel was refused")
	}
	v.Open()
	Eventually(t, "the canceled run to stop", stopped.Load)
	if _, err := run.Wait(ctx); !errors.Is(err, mageflow.ErrCanceled) {
		t.Fatalf("Wait = %v, want ErrCanceled", err)
	}
}

// A Start whose store reply is lost after the store applied it finds the
// flow it stored: one flow, run once.
func testLostStartReplyRunsOnce(t *testing.T, h Harness) {
	t.Parallel()
	var lossy *Lossy
	rec := NewRecorder()
	once := task.New("once", func(ctx context.Context, n int) (int, error) { rec.Add("once"); return n + 1, nil })
	e := h.Faulty(t, nil, Faults{Store: func(s storage.Store) storage.Store {
		lossy = NewLossy(s, map[string]int{"create": 1})
		return lossy
	}}, once)
	ctx := testCtx(t)
	run, err := flow.Start(ctx, e.Client, once, 1)
	if err != nil {
		t.Fatalf("Start with its reply lost = %v, want the run", err)
	}
	if lossy.Lost() != 1 {
		t.Fatalf("%d replies lost, want 1", lossy.Lost())
	}
	if out, err := run.Wait(ctx); err != nil || out != 2 {
		t.Fatalf("Wait = %d, %v; want 2", out, err)
	}
	e.WaitEnded(t, run.ID())
	if n := rec.Count("once"); n != 1 {
		t.Fatalf("the task ran %d times, want once", n)
	}
}

// A Start with an id already stored starts nothing and returns that flow.
func testStartWithIDRunsOnce(t *testing.T, h Harness) {
	t.Parallel()
	rec := NewRecorder()
	once := task.New("once", func(ctx context.Context, n int) (int, error) { rec.Add("once"); return n + 1, nil })
	e := h.setup(t, once)
	ctx := testCtx(t)
	id := "order-" + strings.ToLower(sig.NewRootID(time.Now()))
	a, err := flow.Start(ctx, e.Client, once, 1, flow.WithID(id))
	if err != nil {
		t.Fatal(err)
	}
	b, err := flow.Start(ctx, e.Client, once, 5, flow.WithID(id))
	if err != nil {
		t.Fatalf("second Start with the same id: %v", err)
	}
	if a.ID() != id || b.ID() != id {
		t.Fatalf("run ids %q and %q, want %q", a.ID(), b.ID(), id)
	}
	if out, err := b.Wait(ctx); err != nil || out != 2 {
		t.Fatalf("Wait = %d, %v; want 2, the first start's", out, err)
	}
	e.WaitEnded(t, id)
	if n := rec.Count("once"); n != 1 {
		t.Fatalf("the task ran %d times, want once", n)
	}
	for _, bad := range []string{"", "a.b", "a b", "{x}", strings.Repeat("x", 201)} {
		if _, err := flow.Start(ctx, e.Client, once, 1, flow.WithID(bad)); err == nil {
			t.Errorf("Start with id %q succeeded", bad)
		}
	}
}

// An Add whose item's dispatch is refused returns, and the item runs once
// when the backend takes dispatches again.
func testRefusedAddRunsTheItemOnce(t *testing.T, h Harness) {
	t.Parallel()
	v := &Valve{}
	rec := NewRecorder()
	item := task.New("item", func(ctx context.Context, n int) (int, error) { rec.Add("item"); return n * 3, nil })
	e := h.Faulty(t, fastRecovery, valved(v), item)
	ctx := testCtx(t)
	ss, err := flow.SignSwarm(ctx, e.Client, flow.Swarm[int, int]())
	if err != nil {
		t.Fatal(err)
	}
	run, err := ss.Start(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	v.Close()
	if err := ss.Add(ctx, item); err != nil {
		t.Fatalf("Add with its dispatch refused = %v, want nil (it stays owed)", err)
	}
	refusedFor(t, v)
	v.Open()
	if err := ss.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if out, err := run.Wait(ctx); err != nil || !slices.Equal(out, []int{6}) {
		t.Fatalf("Wait = %v, %v; want [6]", out, err)
	}
	if n := rec.Count("item"); n != 1 {
		t.Fatalf("the item ran %d times, want once", n)
	}
}

// A task root that ends while its flow is suspended keeps its callbacks:
// Resume fires them once; Cancel drops them, and the flow keeps the
// root's result.
func testTaskRootEndedWhileSuspendedFiresCallbacksOnResume(t *testing.T, h Harness) {
	t.Parallel()
	g, hold := newGate("hold")
	rec := NewRecorder()
	notify := task.New("notify", func(ctx context.Context, n int) (int, error) { rec.Add(fmt.Sprint("notify ", n)); return n, nil })
	e := h.setup(t, hold, notify)
	ctx := testCtx(t)
	f := flow.OnSuccess(hold, notify)
	resumed, err := flow.Start(ctx, e.Client, f, 1)
	if err != nil {
		t.Fatal(err)
	}
	canceled, err := flow.Start(ctx, e.Client, f, 10)
	if err != nil {
		t.Fatal(err)
	}
	g.waitStart(t)
	g.waitStart(t)
	for _, r := range []*flow.Run[int]{resumed, canceled} {
		if err := r.Suspend(ctx); err != nil {
			t.Fatal(err)
		}
	}
	close(g.release)
	for _, r := range []*flow.Run[int]{resumed, canceled} {
		Eventually(t, "the suspended root to complete", func() bool {
			rec, err := e.Store.Get(ctx, r.ID())
			return err == nil && rec.Status == sig.Done
		})
	}
	if err := resumed.Resume(ctx); err != nil {
		t.Fatalf("Resume of a flow whose root ended while suspended: %v", err)
	}
	if err := canceled.Cancel(ctx); err != nil {
		t.Fatalf("Cancel of a flow whose root ended while suspended: %v", err)
	}
	e.WaitEnded(t, resumed.ID())
	e.WaitEnded(t, canceled.ID())
	if got := rec.Calls(); got["notify 2"] != 1 || got["notify 11"] != 0 {
		t.Fatalf("callbacks %v, want notify 2 once and notify 11 never", got)
	}
	if out, err := canceled.Wait(ctx); err != nil || out != 11 {
		t.Fatalf("Wait after Cancel stopped the callbacks = %v, %v; want the root's 11", out, err)
	}
}

// An attempt that overruns its timeout fails with kind timeout, even when
// its handler ignores its context and returns a value late.
func testOverrunningAttemptTimesOut(t *testing.T, h Harness) {
	t.Parallel()
	slow := task.New("slow", func(ctx context.Context, n int) (int, error) {
		time.Sleep(200 * time.Millisecond) // the task's own work, deaf to ctx
		return n, nil
	}, task.WithTimeout(50*time.Millisecond))
	// a middleware sees the attempt fail as the flow does
	var seen atomic.Value
	watch := middleware.Func(func(ctx context.Context, x *middleware.Execution, next func(context.Context) error) error {
		err := next(ctx)
		seen.Store(fmt.Sprint(errors.Is(err, context.DeadlineExceeded), x.Result == nil))
		return err
	})
	e := h.setupWith(t, []mageflow.Option{mageflow.WithMiddleware(watch)}, slow)
	ctx := testCtx(t)
	run, err := flow.Start(ctx, e.Client, slow, 1)
	if err != nil {
		t.Fatal(err)
	}
	_, err = run.Wait(ctx)
	var fe *flow.FailedError
	if !errors.As(err, &fe) || fe.Info.Kind != sig.ErrorTimeout {
		t.Fatalf("Wait = %v; want a failure of kind timeout", err)
	}
	if got := seen.Load(); got != "true true" {
		t.Errorf("the middleware saw the overrun attempt as (deadline exceeded, no result) = %v, want true true", got)
	}
}

// A swarm fed item by item keeps no delivered dispatch in its outbox.
func testFedSwarmRootStaysSmall(t *testing.T, h Harness) {
	t.Parallel()
	echo := task.New("echo", func(ctx context.Context, s string) (int, error) { return len(s), nil })
	e := h.setup(t, echo)
	ctx := testCtx(t)
	ss, err := flow.SignSwarm(ctx, e.Client, flow.Swarm[string, int]().WithConfig(flow.SwarmConfig{MaxConcurrency: 100}))
	if err != nil {
		t.Fatal(err)
	}
	run, err := ss.Start(ctx, strings.Repeat("x", 1024))
	if err != nil {
		t.Fatal(err)
	}
	const n = 40
	for range n {
		if err := ss.Add(ctx, echo); err != nil {
			t.Fatal(err)
		}
	}
	if err := ss.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if out, err := run.Wait(ctx); err != nil || len(out) != n {
		t.Fatalf("Wait = %d results, %v; want %d", len(out), err, n)
	}
	r, err := e.Store.Get(ctx, run.ID())
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Outbox) != 0 {
		t.Fatalf("the swarm's outbox holds %d dispatches after %d adds, want none", len(r.Outbox), n)
	}
}

// A task that runs longer than its graph's active TTL keeps the graph
// alive: its worker touches it while it runs, and the flow completes.
func testLongTaskOutlivesTheActiveTTL(t *testing.T, h Harness) {
	t.Parallel()
	long := task.New("long", func(ctx context.Context, n int) (int, error) {
		time.Sleep(7 * time.Second) // the task's own work, over twice the TTL
		return n + 1, nil
	})
	// 3 s: more than a busy engine takes to deliver the first step, which
	// nothing keeps alive before it runs
	opts := append([]mageflow.Option{mageflow.WithTTL(3*time.Second, mageflow.MinDoneTTL)}, fastRecovery...)
	e := h.setupWith(t, opts, long, inc)
	ctx := testCtx(t)
	run, err := flow.Start(ctx, e.Client, flow.Then(long, inc), 1)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := run.Wait(ctx); err != nil || out != 3 {
		t.Fatalf("Wait = %d, %v; want 3 (the graph must outlive its active TTL while its task runs)", out, err)
	}
}

// An Add whose store reply is lost after the store applied it finds the
// items it added: each item runs once, and the swarm has them once.
func testLostAddReplyAddsOnce(t *testing.T, h Harness) {
	t.Parallel()
	rec := NewRecorder()
	item := task.New("item", func(ctx context.Context, n int) (int, error) { rec.Add("item"); return n * 3, nil })
	var lossy *Lossy
	e := h.Faulty(t, nil, Faults{Store: func(s storage.Store) storage.Store {
		lossy = NewLossy(s, map[string]int{"add": 1})
		return lossy
	}}, item)
	ctx := testCtx(t)
	ss, err := flow.SignSwarm(ctx, e.Client, flow.Swarm[int, int]())
	if err != nil {
		t.Fatal(err)
	}
	run, err := ss.Start(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := ss.Add(ctx, item, item); err != nil {
		t.Fatalf("Add with its reply lost = %v, want nil", err)
	}
	if lossy.Lost() != 1 {
		t.Fatalf("%d replies lost, want 1", lossy.Lost())
	}
	if err := ss.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if out, err := run.Wait(ctx); err != nil || !slices.Equal(out, []int{6, 6}) {
		t.Fatalf("Wait = %v, %v; want [6 6]", out, err)
	}
	if n := rec.Count("item"); n != 2 {
		t.Fatalf("the items ran %d times, want twice", n)
	}
}

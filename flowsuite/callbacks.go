package flowsuite

import (
	"context"
	"errors"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/mageflow-go/mageflow/flow"
	"github.com/mageflow-go/mageflow/task"
)

func testEverySuccessCallbackFiresOnce(t *testing.T, h Harness) {
	t.Parallel()
	rec := NewRecorder()
	var mu sync.Mutex
	seen := map[string]int{}
	cb := func(name string) task.Task[int, bool] {
		return task.New(name, func(ctx context.Context, n int) (bool, error) {
			rec.Add(name)
			mu.Lock()
			seen[name] = n
			mu.Unlock()
			return true, nil
		})
	}
	one, two, three := cb("one"), cb("two"), cb("three")
	four := task.New("four", func(ctx context.Context, xs []int) (int, error) {
		rec.Add("four")
		mu.Lock()
		seen["four"] = len(xs)
		mu.Unlock()
		return len(xs), nil
	})
	e := h.setup(t, double, inc, one, two, three, four)
	ctx := testCtx(t)
	// a task, a chain and a swarm with a callback of its own, all as
	// callbacks of one node
	f := flow.OnSuccess(flow.OnSuccess(flow.OnSuccess(flow.OnSuccess(inc,
		one), two), flow.Then(double, three)), flow.OnSuccess(flow.Swarm(inc, inc, inc), four))
	run, err := flow.Start(ctx, e.Client, f, 4)
	if err != nil {
		t.Fatal(err)
	}
	out, err := run.Wait(ctx)
	if err != nil || out != 5 {
		t.Fatalf("Wait = %d, %v; want 5", out, err)
	}
	e.WaitEnded(t, run.ID())
	mu.Lock()
	defer mu.Unlock()
	want := map[string]int{"one": 5, "two": 5, "three": 10, "four": 3}
	for name, v := range want {
		if rec.Count(name) != 1 || seen[name] != v {
			t.Errorf("callback %s: %d calls, saw %d; want 1 call with %d", name, rec.Count(name), seen[name], v)
		}
	}
}

func testErrorCallbackOnlyAfterFinalAttempt(t *testing.T, h Harness) {
	t.Parallel()
	var attempts, alerts atomic.Int32
	var alertAttempt atomic.Int32
	flaky := task.New("flaky", func(ctx context.Context, n int) (int, error) {
		attempts.Add(1)
		return 0, errors.New("down")
	}, task.WithRetries(3))
	alert := task.New("alert", func(ctx context.Context, f flow.Failure[int]) (int, error) {
		alerts.Add(1)
		alertAttempt.Store(attempts.Load())
		return 0, nil
	})
	e := h.setup(t, flaky, alert)
	ctx := testCtx(t)
	run, err := flow.Start(ctx, e.Client, flow.OnError(flaky, alert), 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := run.Wait(ctx); err == nil {
		t.Fatal("flow of a failing task succeeded")
	}
	e.WaitEnded(t, run.ID())
	if attempts.Load() != 4 || alerts.Load() != 1 || alertAttempt.Load() != 4 {
		t.Fatalf("%d attempts, %d alerts (the alert saw %d attempts); want 4, 1, 4", attempts.Load(), alerts.Load(), alertAttempt.Load())
	}
}

func testRetriedTaskSucceedsWithoutErrorCallback(t *testing.T, h Harness) {
	t.Parallel()
	var alerts atomic.Int32
	flaky := task.New("flaky", func(ctx context.Context, n int) (int, error) {
		if info, _ := task.Info(ctx); info.Attempt < 3 {
			return 0, errors.New("not yet")
		}
		return n * 10, nil
	}, task.WithRetries(5))
	alert := task.New("alert", func(ctx context.Context, f flow.Failure[int]) (int, error) {
		alerts.Add(1)
		return 0, nil
	})
	e := h.setup(t, flaky, alert)
	ctx := testCtx(t)
	run, err := flow.Start(ctx, e.Client, flow.OnError(flaky, alert), 7)
	if err != nil {
		t.Fatal(err)
	}
	out, err := run.Wait(ctx)
	if err != nil || out != 70 {
		t.Fatalf("Wait = %d, %v; want 70", out, err)
	}
	e.WaitEnded(t, run.ID())
	if alerts.Load() != 0 {
		t.Fatal("error callback fired for a task that succeeded on retry")
	}
}

func testNonRetryableSkipsRetries(t *testing.T, h Harness) {
	t.Parallel()
	var attempts atomic.Int32
	bad := task.New("bad", func(ctx context.Context, n int) (int, error) {
		attempts.Add(1)
		return 0, task.NonRetryable(errors.New("invalid order"))
	}, task.WithRetries(5))
	e := h.setup(t, bad)
	ctx := testCtx(t)
	run, err := flow.Start(ctx, e.Client, bad, 1)
	if err != nil {
		t.Fatal(err)
	}
	_, err = run.Wait(ctx)
	var fe *flow.FailedError
	if !errors.As(err, &fe) || fe.Info.Attempts != 1 || fe.Info.Message != "invalid order" {
		t.Fatalf("Wait error %v; want a failure after 1 attempt", err)
	}
	if attempts.Load() != 1 {
		t.Fatalf("%d attempts, want 1", attempts.Load())
	}
}

func testPanicIsAFailureWithStack(t *testing.T, h Harness) {
	t.Parallel()
	boom := task.New("boom", func(ctx context.Context, n int) (int, error) {
		var m map[string]int
		//lint:ignore SA5000 the handler panics on purpose, with a runtime error
		m["x"] = n
		return 0, nil
	})
	e := h.setup(t, boom, double)
	ctx := testCtx(t)
	run, err := flow.Start(ctx, e.Client, boom, 1)
	if err != nil {
		t.Fatal(err)
	}
	_, err = run.Wait(ctx)
	var fe *flow.FailedError
	if !errors.As(err, &fe) || fe.Info.Kind != "panic" || !strings.Contains(fe.Info.Stack, "flowsuite/callbacks.go") {
		t.Fatalf("Wait error %v (info %+v); want a panic failure with the stack", err, fe)
	}
	// the worker survived
	run2, err := flow.Start(ctx, e.Client, double, 2)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := run2.Wait(ctx); err != nil || out != 4 {
		t.Fatalf("after the panic: %d, %v", out, err)
	}
}

func testTimeoutFailsTheAttempt(t *testing.T, h Harness) {
	t.Parallel()
	stuck := task.New("stuck", func(ctx context.Context, n int) (int, error) {
		<-ctx.Done()
		return 0, ctx.Err()
	}, task.WithTimeout(20_000_000)) // 20ms
	e := h.setup(t, stuck)
	ctx := testCtx(t)
	run, err := flow.Start(ctx, e.Client, stuck, 1)
	if err != nil {
		t.Fatal(err)
	}
	_, err = run.Wait(ctx)
	var fe *flow.FailedError
	if !errors.As(err, &fe) || fe.Info.Kind != "timeout" {
		t.Fatalf("Wait error %v; want a timeout failure", err)
	}
}

func testBindStoresArgs(t *testing.T, h Harness) {
	t.Parallel()
	type greeting struct {
		Greeting string `json:"greeting"`
	}
	greet := task.New("greet", func(ctx context.Context, a flow.Args[greeting, string]) (string, error) {
		return a.Args.Greeting + ", " + a.In, nil
	})
	upper := task.New("upper", func(ctx context.Context, s string) (string, error) { return strings.ToUpper(s), nil })
	e := h.setup(t, greet, upper)
	ctx := testCtx(t)
	f := flow.Then(flow.Bind(greet, greeting{"hello"}), upper)
	sg, err := flow.Sign(ctx, e.Client, f)
	if err != nil {
		t.Fatal(err)
	}
	// a handle attached by id, as another process would
	other, err := flow.Attach[string](e.Client, sg.ID())
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sg.Start(ctx, "gopher"); err != nil {
		t.Fatal(err)
	}
	if _, err := sg.Start(ctx, "again"); err == nil {
		t.Fatal("a signed flow started twice")
	}
	out, err := other.Wait(ctx)
	if err != nil || out != "HELLO, GOPHER" {
		t.Fatalf("Wait = %q, %v", out, err)
	}
}

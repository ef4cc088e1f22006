package flowsuite

import (
	"context"
	"errors"
	"sync"
	"testing"

	"github.com/mageflow-go/mageflow/flow"
	"github.com/mageflow-go/mageflow/task"
)

func testThenPassesOutputs(t *testing.T, h Harness) {
	t.Parallel()
	e := h.setup(t, double, inc, show)
	ctx := testCtx(t)
	run, err := flow.Start(ctx, e.Client, flow.Then(flow.Then(double, inc), show), 20)
	if err != nil {
		t.Fatal(err)
	}
	out, err := run.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if out != "41" {
		t.Fatalf("output %q, want %q", out, "41")
	}
}

func testChainHelperAndNesting(t *testing.T, h Harness) {
	t.Parallel()
	e := h.setup(t, double, inc, show)
	ctx := testCtx(t)
	// a chain nested as a step of a chain, behind callbacks so it does not flatten
	inner := flow.OnSuccess(flow.Chain(inc, inc), double)
	run, err := flow.Start(ctx, e.Client, flow.Then(flow.Chain(double, inner, double), show), 1)
	if err != nil {
		t.Fatal(err)
	}
	out, err := run.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if out != "8" { // ((1*2)+1+1)*2
		t.Fatalf("output %q, want 8", out)
	}
}

func testChainFailureStopsAndFiresCallbacksOnce(t *testing.T, h Harness) {
	t.Parallel()
	rec := NewRecorder()
	step := func(name string) task.Task[int, int] {
		return task.New(name, func(ctx context.Context, n int) (int, error) { rec.Add(name); return n + 1, nil })
	}
	a, c := step("a"), step("c")
	boom := task.New("b", func(ctx context.Context, n int) (int, error) {
		rec.Add("b")
		return 0, errors.New("b broke")
	}, task.WithRetries(2))
	var stepFailure, chainFailure flow.Failure[int]
	var mu sync.Mutex
	onStep := task.New("on-step", func(ctx context.Context, f flow.Failure[int]) (bool, error) {
		rec.Add("on-step")
		mu.Lock()
		stepFailure = f
		mu.Unlock()
		return true, nil
	})
	onChain := task.New("on-chain", func(ctx context.Context, f flow.Failure[int]) (bool, error) {
		rec.Add("on-chain")
		mu.Lock()
		chainFailure = f
		mu.Unlock()
		return true, nil
	})
	e := h.setup(t, a, boom, c, onStep, onChain)
	ctx := testCtx(t)
	f := flow.OnError(flow.Chain(a, flow.OnError(boom, onStep), c), onChain)
	run, err := flow.Start(ctx, e.Client, f, 10)
	if err != nil {
		t.Fatal(err)
	}
	_, err = run.Wait(ctx)
	var fe *flow.FailedError
	if !errors.As(err, &fe) {
		t.Fatalf("Wait error %v, want *flow.FailedError", err)
	}
	if fe.Info.Task != "b" || fe.Info.Message != "b broke" || fe.Info.Attempts != 3 {
		t.Fatalf("failure info %+v", fe.Info)
	}
	e.WaitEnded(t, run.ID())
	for label, want := range map[string]int{"a": 1, "b": 3, "c": 0, "on-step": 1, "on-chain": 1} {
		if got := rec.Count(label); got != want {
			t.Errorf("%s ran %d times, want %d", label, got, want)
		}
	}
	mu.Lock()
	defer mu.Unlock()
	if stepFailure.Input != 11 || stepFailure.Error.Task != "b" {
		t.Errorf("step callback got %+v, want input 11 from task b", stepFailure)
	}
	if chainFailure.Input != 10 || chainFailure.Error.Message != "b broke" {
		t.Errorf("chain callback got %+v, want the chain's input 10 and b's error", chainFailure)
	}
}

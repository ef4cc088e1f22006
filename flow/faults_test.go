package flow_test

import (
	"context"
	"fmt"
	"slices"
	"testing"

	membackend "github.com/mageflow-go/mageflow/backend/memory"
	"github.com/mageflow-go/mageflow/flow"
	"github.com/mageflow-go/mageflow/flowsuite"
	"github.com/mageflow-go/mageflow/task"
)

// countedFlow is a chain, then a swarm, with a success callback on the
// swarm and one on the whole flow, every task counting its calls.
func countedFlow(rec *flowsuite.Recorder) (flow.Flow[int, []int], []task.Registrable) {
	step := func(name string, d int) task.Task[int, int] {
		return task.New(name, func(ctx context.Context, n int) (int, error) {
			rec.Add(name)
			return n + d, nil
		})
	}
	a, b := step("a", 1), step("b", 10)
	items := []flow.Flow[int, int]{}
	regs := []task.Registrable{a, b}
	for i := 0; i < 6; i++ {
		it := step(fmt.Sprintf("item-%d", i), i)
		items = append(items, it)
		regs = append(regs, it)
	}
	swarmDone := task.New("swarm-done", func(ctx context.Context, xs []int) (int, error) {
		rec.Add("swarm-done")
		return len(xs), nil
	})
	flowDone := task.New("flow-done", func(ctx context.Context, xs []int) (int, error) {
		rec.Add("flow-done")
		return len(xs), nil
	})
	regs = append(regs, swarmDone, flowDone)
	s := flow.OnSuccess(flow.Swarm(items...).WithConfig(flow.SwarmConfig{MaxConcurrency: 2}), swarmDone)
	return flow.OnSuccess(flow.Then(flow.Then(a, b), s), flowDone), regs
}

func TestFaultsLoseNothingAndRunNothingTwice(t *testing.T) {
	t.Parallel()
	for _, kind := range []membackend.FaultKind{membackend.DuplicateDelivery, membackend.Redeliver, membackend.CrashBeforeDispatch} {
		t.Run(kind.String(), func(t *testing.T) {
			t.Parallel()
			rec := flowsuite.NewRecorder()
			f, regs := countedFlow(rec)
			e := setup(t, regs...)
			// every delivery misbehaves, many times over
			e.backend.Inject(membackend.Fault{Kind: kind, Times: 1000})
			ctx := testCtx(t)
			run, err := flow.Start(ctx, e.Client, f, 0)
			if err != nil {
				t.Fatal(err)
			}
			out, err := run.Wait(ctx)
			if err != nil {
				t.Fatal(err)
			}
			if want := []int{11, 12, 13, 14, 15, 16}; !slices.Equal(out, want) {
				t.Fatalf("output %v, want %v", out, want)
			}
			e.WaitEnded(t, run.ID())
			calls := rec.Calls()
			for name, n := range calls {
				if n != 1 {
					t.Errorf("%s ran %d times, want once", name, n)
				}
			}
			if len(calls) != 10 {
				t.Errorf("%d tasks ran, want 10: %v", len(calls), rec.Order())
			}
			if st := e.backend.Stats(); st.FaultsFired == 0 {
				t.Errorf("no fault fired: %+v", st)
			}
		})
	}
}

func TestCrashBetweenCompleteAndDispatchOnSwarmCompletion(t *testing.T) {
	t.Parallel()
	rec := flowsuite.NewRecorder()
	f, regs := countedFlow(rec)
	e := setup(t, regs...)
	// the last item to finish completes the swarm; crash every item once
	// after it completed, before it sent what followed
	for i := 0; i < 6; i++ {
		e.backend.Inject(membackend.Fault{Task: fmt.Sprintf("item-%d", i), Kind: membackend.CrashBeforeDispatch})
	}
	ctx := testCtx(t)
	run, err := flow.Start(ctx, e.Client, f, 0)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := run.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	e.WaitEnded(t, run.ID())
	if rec.Count("swarm-done") != 1 || rec.Count("flow-done") != 1 {
		t.Fatalf("callbacks %v; each must fire once", rec.Calls())
	}
}

package flow_test

import (
	"context"
	"errors"
	"testing"

	"github.com/mageflow-go/mageflow/flow"
	"github.com/mageflow-go/mageflow/task"
)

// A retried task that starts, again, the flow its first attempt started
// and saw end, finds that flow and sends nothing: the first step's
// dispatch (a lone dispatch, owed by the step until its claim) was
// delivered and is owed no more.
func TestRetriedTaskDoesNotResendWhatItsFlowWasGiven(t *testing.T) {
	t.Parallel()
	child := task.New("child", func(ctx context.Context, n int) (int, error) { return n + 1, nil })
	var parent task.Task[int, int]
	var e env
	parent = task.New("parent", func(ctx context.Context, n int) (int, error) {
		info, _ := task.Info(ctx)
		run, err := flow.Start(ctx, e.Client, child, n)
		if err != nil {
			return 0, err
		}
		out, err := run.Wait(ctx)
		if err != nil {
			return 0, err
		}
		if info.Attempt == 1 {
			return 0, errors.New("failing after the child flow ended")
		}
		return out, nil
	}, task.WithRetries(1))
	e = setup(t, child, parent)
	ctx := testCtx(t)
	run, err := flow.Start(ctx, e.Client, parent, 1)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := run.Wait(ctx); err != nil || out != 2 {
		t.Fatalf("Wait = %d, %v; want 2", out, err)
	}
	if err := e.backend.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	// one run of the parent (retried), one of the child
	if s := e.backend.Stats(); s.Dispatched != 2 || s.Deduplicated != 0 {
		t.Fatalf("Dispatched %d, Deduplicated %d; want 2 runs and no repeated dispatch", s.Dispatched, s.Deduplicated)
	}
}

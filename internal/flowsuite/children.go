package flowsuite

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/mageflow-go/mageflow"
	"github.com/mageflow-go/mageflow/flow"
	"github.com/mageflow-go/mageflow/task"
)

// Canceling a flow cancels the flows its tasks started, whether the task
// that started one still runs or already returned, and the flows those
// started; a flow started with flow.Detached runs on.
func testCancelReachesTheFlowsItsTasksStarted(t *testing.T, h Harness) {
	t.Parallel()
	var client atomic.Pointer[mageflow.Client]
	g, hold := newGate("hold")
	var mu sync.Mutex
	kids := map[string]*flow.Run[int]{}
	start := func(ctx context.Context, name string, f flow.Flow[int, int], opts ...flow.StartOption) error {
		run, err := flow.Start(ctx, client.Load(), f, 1, opts...)
		if err != nil {
			return err
		}
		mu.Lock()
		kids[name] = run
		mu.Unlock()
		return nil
	}
	// grandparent starts a child that itself starts a grandchild
	middle := task.New("middle", func(ctx context.Context, n int) (int, error) {
		return n, start(ctx, "grandchild", flow.Then(hold, inc))
	})
	// starter starts three flows and returns: one plain, one through
	// middle, one detached
	starter := task.New("starter", func(ctx context.Context, n int) (int, error) {
		if err := start(ctx, "child", flow.Then(hold, inc)); err != nil {
			return 0, err
		}
		if err := start(ctx, "via", flow.Then(middle, hold)); err != nil {
			return 0, err
		}
		return n, start(ctx, "detached", flow.Then(hold, inc), flow.Detached())
	})
	e := h.setup(t, hold, inc, middle, starter)
	client.Store(e.Client)
	ctx := testCtx(t)
	parent, err := flow.Start(ctx, e.Client, flow.Then(starter, hold), 1)
	if err != nil {
		t.Fatal(err)
	}
	// the parent's second step, the three children's holds and the
	// grandchild's hold run
	for range 5 {
		g.waitStart(t)
	}
	if err := parent.Cancel(ctx); err != nil {
		t.Fatal(err)
	}
	if _, err := parent.Wait(ctx); !errors.Is(err, mageflow.ErrCanceled) {
		t.Fatalf("parent Wait = %v, want ErrCanceled", err)
	}
	mu.Lock()
	defer mu.Unlock()
	for _, name := range []string{"child", "via", "grandchild"} {
		if _, err := kids[name].Wait(ctx); !errors.Is(err, mageflow.ErrCanceled) {
			t.Errorf("%s flow: Wait = %v, want ErrCanceled (canceled with its parent)", name, err)
		}
	}
	close(g.release)
	if out, err := kids["detached"].Wait(ctx); err != nil || out != 3 {
		t.Errorf("detached flow: Wait = %d, %v; want 3 (it runs on)", out, err)
	}
}

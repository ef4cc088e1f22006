package flowsuite

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mageflow-go/mageflow"
	"github.com/mageflow-go/mageflow/flow"
	"github.com/mageflow-go/mageflow/storage"
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

// A retried task does not start again a flow its earlier attempt started
// that ended and expired since: the child runs once.
func testRetriedTaskDoesNotRestartAnExpiredChild(t *testing.T, h Harness) {
	t.Parallel()
	var client atomic.Pointer[mageflow.Client]
	var st atomic.Pointer[storage.Store]
	rec := NewRecorder()
	child := task.New("child", func(ctx context.Context, n int) (int, error) { rec.Add("child"); return n, nil })
	var attempts atomic.Int32
	parent := task.New("parent", func(ctx context.Context, n int) (int, error) {
		a := attempts.Add(1)
		run, err := flow.Start(ctx, client.Load(), child, n)
		if err != nil || a > 1 {
			return n, err
		}
		if _, err := run.Wait(ctx); err != nil {
			return 0, err
		}
		// the child ended; wait until its done TTL passed
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			if _, err := (*st.Load()).Get(ctx, run.ID()); errors.Is(err, storage.ErrNotFound) {
				return 0, errors.New("fail the first attempt once the child expired")
			}
			select {
			case <-tick.C:
			case <-ctx.Done():
				return 0, ctx.Err()
			}
		}
	}, task.WithRetries(1), task.WithBackoff(time.Millisecond, time.Millisecond))
	e := h.setupWith(t, []mageflow.Option{mageflow.WithTTL(time.Hour, mageflow.MinDoneTTL)}, parent, child)
	client.Store(e.Client)
	st.Store(&e.Store)
	ctx := testCtx(t)
	run, err := flow.Start(ctx, e.Client, parent, 7)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := run.Wait(ctx); err != nil || out != 7 {
		t.Fatalf("Wait = %d, %v; want 7 from the second attempt", out, err)
	}
	if a, n := attempts.Load(), rec.Count("child"); a != 2 || n != 1 {
		t.Fatalf("%d attempts ran the child %d times; want 2 attempts, the child once", a, n)
	}
}

package flowsuite

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/mageflow-go/mageflow/backend"
	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
	"github.com/mageflow-go/mageflow/task"
)

// watched is a backend that tells when a handler of its tasks returned.
type watched struct {
	backend.Backend
	returned chan struct{}
}

// Register implements backend.Backend.
func (w *watched) Register(spec backend.TaskSpec, h backend.Handler) error {
	return w.Backend.Register(spec, func(ctx context.Context, d backend.Delivery) error {
		defer func() {
			select {
			case w.returned <- struct{}{}:
			default: // a later delivery's end: the first is the test's
			}
		}()
		return h(ctx, d)
	})
}

// stopGrace bounds how long a handler may run on once the worker's stop
// gave up waiting for it: the engine's store retries end with the stop,
// at their next wait.
const stopGrace = 5 * time.Second

// A worker stopped while its store cannot be reached: the stop's context
// ends while a handler retries the store, and the handler returns soon
// after, instead of retrying for as long as the engine would for a
// running worker (a minute). What the handler could not record is the
// recovery's, as when the process dies.
func testStopEndsTheRetriesOfAnUnreachableStore(t *testing.T, h Harness) {
	t.Parallel()
	o := &Outage{}
	w := &watched{returned: make(chan struct{}, 1)}
	started, release := make(chan struct{}), make(chan struct{})
	var once sync.Once
	held := task.New("held", func(ctx context.Context, n int) (int, error) {
		once.Do(func() { close(started) })
		<-release
		return n, nil
	})
	e := h.Faulty(t, nil, Faults{
		Backend: func(b backend.Backend) backend.Backend { w.Backend = b; return w },
		Store:   func(s storage.Store) storage.Store { o.Store = s; return o },
	}, held)
	ctx := testCtx(t)
	startAwaiting(t, ctx, e.Client, held, started)
	o.Down()
	close(release)
	Eventually(t, "the handler to retry its completion", func() bool { return o.Refused() > 1 })
	sctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := e.StopWithin(sctx); err == nil {
		t.Fatal("stop returned nil while a handler retried an unreachable store")
	}
	stopped := time.Now()
	select {
	case <-w.returned:
	case <-time.After(stopGrace):
		t.Fatalf("the handler still ran %v after its worker's stop gave up (%d store calls refused)", stopGrace, o.Refused())
	}
	t.Logf("the handler returned %v after the stop", time.Since(stopped).Round(time.Millisecond))
}

// A worker stopped while a task runs, with a store that answers: the
// stop's context ends, the task's context is canceled, and what the task
// returns is still recorded (its record is no longer active) although
// the worker's stop gave up on it.
func testStopRecordsWhatItsCanceledTasksReturn(t *testing.T, h Harness) {
	t.Parallel()
	w := &watched{returned: make(chan struct{}, 1)}
	started := make(chan struct{})
	var once sync.Once
	waits := task.New("waits-for-its-context", func(ctx context.Context, n int) (int, error) {
		once.Do(func() { close(started) })
		<-ctx.Done()
		return 0, ctx.Err()
	})
	e := h.Faulty(t, nil, Faults{Backend: func(b backend.Backend) backend.Backend { w.Backend = b; return w }}, waits)
	ctx := testCtx(t)
	run := startAwaiting(t, ctx, e.Client, waits, started)
	sctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	_ = e.StopWithin(sctx) // the task outlives it: an error, or nil if it returned just in time
	select {
	case <-w.returned:
	case <-time.After(stopGrace):
		t.Fatalf("the handler still ran %v after its worker's stop gave up", stopGrace)
	}
	r, err := e.Store.Get(ctx, run.ID())
	if err != nil {
		t.Fatal(err)
	}
	if r.Status == sig.Active {
		t.Fatalf("the canceled task's record is still %s after its handler returned: what it returned was not recorded", r.Status)
	}
}

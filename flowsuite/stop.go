package flowsuite

import (
	"context"
	"testing"
	"time"

	"github.com/mageflow-go/mageflow/backend"
	"github.com/mageflow-go/mageflow/flow"
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
		defer func() { w.returned <- struct{}{} }()
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
	held := task.New("held", func(ctx context.Context, n int) (int, error) {
		close(started)
		<-release
		return n, nil
	})
	e := h.Faulty(t, nil, Faults{
		Backend: func(b backend.Backend) backend.Backend { w.Backend = b; return w },
		Store:   func(s storage.Store) storage.Store { o.Store = s; return o },
	}, held)
	if _, err := flow.Start(testCtx(t), e.Client, held, 1); err != nil {
		t.Fatal(err)
	}
	<-started
	o.Down()
	close(release)
	Eventually(t, "the handler to retry its completion", func() bool { return o.Refused() > 1 })
	ctx, cancel := context.WithTimeout(context.Background(), 200*time.Millisecond)
	defer cancel()
	if err := e.StopWithin(ctx); err == nil {
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

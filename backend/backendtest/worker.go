package backendtest

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mageflow-go/mageflow/backend"
)

func testConcurrent(t *testing.T, h *harness) {
	var arrived atomic.Int32
	both := make(chan struct{})
	met := make(chan bool, 8)
	name := h.register(backend.TaskSpec{Name: "rendezvous"}, func(ctx context.Context, d backend.Delivery) error {
		if arrived.Add(1) == 2 {
			close(both)
		}
		timer := time.NewTimer(WaitTimeout)
		defer timer.Stop()
		ok := false
		select {
		case <-both:
			ok = true
		case <-ctx.Done():
		case <-timer.C:
		}
		select {
		case met <- ok:
		default:
		}
		return nil
	})
	h.start()

	h.dispatch(backend.Dispatch{Task: name, Payload: []byte(`{"n":1}`)})
	h.dispatch(backend.Dispatch{Task: name, Payload: []byte(`{"n":2}`)})
	for range 2 {
		if !recv(t, met, "end of a handler") {
			t.Fatal("a handler did not meet the other one: handlers did not run concurrently")
		}
	}
}

func testStopWaits(t *testing.T, h *harness) {
	started := make(chan struct{}, 8)
	release := make(chan struct{})
	var finished atomic.Bool
	name := h.register(backend.TaskSpec{Name: "slow"}, func(ctx context.Context, d backend.Delivery) error {
		select {
		case started <- struct{}{}:
		default:
		}
		timer := time.NewTimer(WaitTimeout)
		defer timer.Stop()
		select {
		case <-release:
		case <-ctx.Done(): // a backend may cancel handlers when it stops
		case <-timer.C:
		}
		finished.Store(true)
		return nil
	})
	h.start()
	releaseOnce := sync.OnceFunc(func() { close(release) })
	t.Cleanup(releaseOnce) // runs before the stop cleanup

	h.dispatch(backend.Dispatch{Task: name, Payload: []byte(`{}`)})
	recv(t, started, "delivery")

	stopped := make(chan error, 1)
	go func() { stopped <- h.stop() }()
	timer := time.NewTimer(quietWindow)
	defer timer.Stop()
	select {
	case err := <-stopped:
		// Only right if the backend canceled the handler and it returned.
		if !finished.Load() {
			t.Fatalf("stop returned %v while the handler was running", err)
		}
		if err != nil {
			t.Fatalf("stop: %v", err)
		}
		return
	case <-timer.C:
	}
	releaseOnce()
	if err := recv(t, stopped, "return of stop"); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if !finished.Load() {
		t.Fatal("stop returned before the handler returned")
	}
}

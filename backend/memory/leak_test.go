package memory_test

import (
	"context"
	"errors"
	"runtime"
	"testing"
	"time"

	"github.com/mageflow-go/mageflow/backend"
	"github.com/mageflow-go/mageflow/backend/memory"
)

// The tests in this file are not parallel: they count goroutines, and run
// while the parallel tests of the package wait.

func TestStopLeavesNoGoroutine(t *testing.T) {
	base := runtime.NumGoroutine()
	b := setup(t, memory.WithWorkers(8))
	h, got := recorder(func(context.Context, backend.Delivery) error { return errors.New("boom") })
	register(t, b, backend.TaskSpec{Name: "waits", Retries: 3, Backoff: backend.Backoff{Base: time.Hour}}, h)
	register(t, b, backend.TaskSpec{Name: "ok"}, succeed)
	stop, err := b.Start(t.Context())
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	for range 100 {
		dispatch(t, b, backend.Dispatch{Task: "ok"})
	}
	dispatch(t, b, backend.Dispatch{Task: "waits"})
	recv(t, got, "delivery")
	waitStats(t, b, func(s memory.Stats) bool { return s.Retried == 1 }) // a timer is armed

	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	defer cancel()
	if err := stop(ctx); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if err := stop(ctx); err != nil {
		t.Fatalf("second stop: %v", err)
	}
	checkNoLeak(t, base)
}

func TestStopCancelsHandlersWhenItGivesUp(t *testing.T) {
	base := runtime.NumGoroutine()
	b := setup(t)
	started := make(chan struct{}, 1)
	ended := make(chan error, 1)
	release := make(chan struct{})
	register(t, b, backend.TaskSpec{Name: "stubborn"}, func(ctx context.Context, _ backend.Delivery) error {
		started <- struct{}{}
		select {
		case <-ctx.Done():
		case <-release:
		}
		ended <- ctx.Err()
		return nil
	})
	stop, err := b.Start(t.Context())
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	dispatch(t, b, backend.Dispatch{Task: "stubborn"})
	recv(t, started, "delivery")

	// Stop cancels nothing while it waits...
	short, cancel := context.WithTimeout(t.Context(), quietWindow)
	defer cancel()
	if err := stop(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("stop = %v, want DeadlineExceeded", err)
	}
	// ...and cancels the handlers when its ctx ends.
	if err := recv(t, ended, "end of the handler"); !errors.Is(err, context.Canceled) {
		t.Fatalf("handler ctx.Err() = %v, want Canceled", err)
	}
	close(release)
	ctx, cancel2 := context.WithTimeout(t.Context(), waitTimeout)
	defer cancel2()
	if err := stop(ctx); err != nil {
		t.Fatalf("second stop: %v", err)
	}
	checkNoLeak(t, base)
}

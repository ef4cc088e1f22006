package memory_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mageflow-go/mageflow/backend"
	"github.com/mageflow-go/mageflow/backend/memory"
)

func TestWaitIdleWithNothingDispatched(t *testing.T) {
	t.Parallel()
	b := setup(t)
	start(t, b)
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	defer cancel()
	if err := b.WaitIdle(ctx); err != nil {
		t.Fatalf("WaitIdle on a fresh backend: %v", err)
	}
}

// A run that dispatches a follow-up keeps the backend busy until the
// follow-up ended too, and a retry waiting for its backoff is not idle.
func TestWaitIdleWaitsForFollowUpsAndRetries(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var second atomic.Int32
	release := make(chan struct{})
	register(t, b, backend.TaskSpec{Name: "second", Retries: 1, Backoff: backend.Backoff{Base: 20 * time.Millisecond}}, func(ctx context.Context, d backend.Delivery) error {
		if d.Attempt == 1 {
			<-release
			return errors.New("first attempt fails")
		}
		second.Add(1)
		return nil
	})
	register(t, b, backend.TaskSpec{Name: "first"}, func(ctx context.Context, d backend.Delivery) error {
		_, err := b.Dispatch(ctx, backend.Dispatch{Task: "second"})
		return err
	})
	start(t, b)
	dispatch(t, b, backend.Dispatch{Task: "first"})

	idle := make(chan error, 1)
	go func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		idle <- b.WaitIdle(ctx)
	}()
	quiet(t, idle, "idle while a run is blocked")
	close(release)
	if err := recv(t, idle, "idle"); err != nil {
		t.Fatalf("WaitIdle: %v", err)
	}
	if n := second.Load(); n != 1 {
		t.Errorf("second attempt of the follow-up ran %d times before idle; want 1", n)
	}
}

func TestWaitIdleHonoursContext(t *testing.T) {
	t.Parallel()
	b := setup(t)
	register(t, b, backend.TaskSpec{Name: "block"}, func(ctx context.Context, d backend.Delivery) error {
		<-ctx.Done()
		return ctx.Err()
	})
	start(t, b)
	id := dispatch(t, b, backend.Dispatch{Task: "block"})
	defer b.Cancel(context.Background(), id)
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Millisecond)
	defer cancel()
	if err := b.WaitIdle(ctx); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitIdle with a blocked run = %v; want DeadlineExceeded", err)
	}
}

func TestWithoutBackoffRetriesAtOnce(t *testing.T) {
	t.Parallel()
	b := setup(t, memory.WithoutBackoff())
	h, got := recorder(func(_ context.Context, d backend.Delivery) error {
		if d.Attempt < 3 {
			return errors.New("again")
		}
		return nil
	})
	// A backoff far longer than the test's wait: only WithoutBackoff lets
	// the third attempt arrive.
	register(t, b, backend.TaskSpec{Name: "t", Retries: 2, Backoff: backend.Backoff{Base: time.Hour}}, h)
	start(t, b)
	dispatch(t, b, backend.Dispatch{Task: "t"})
	for want := 1; want <= 3; want++ {
		if d := recv(t, got, "delivery"); d.Attempt != want {
			t.Fatalf("attempt = %d; want %d", d.Attempt, want)
		}
	}
}

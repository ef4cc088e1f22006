package backendtest

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mageflow-go/mageflow/backend"
)

var errBoom = errors.New("backendtest: boom")

func testRetryUntilSuccess(t *testing.T, h *harness) {
	const succeedAt = 3
	handler, got := recorder(func(d backend.Delivery) error {
		if d.Attempt < succeedAt {
			return errBoom
		}
		return nil
	})
	name := h.register(backend.TaskSpec{Name: "retry", Retries: 4}, handler)
	h.start()

	id := h.dispatch(backend.Dispatch{Task: name, Payload: []byte(`{}`)})
	for want := 1; want <= succeedAt; want++ {
		d := recv(t, got, "delivery")
		if d.RunID != id || d.Attempt != want || d.MaxAttempts != 5 {
			t.Fatalf("delivery %d: RunID, Attempt, MaxAttempts = %q, %d, %d; want %q, %d, 5", want, d.RunID, d.Attempt, d.MaxAttempts, id, want)
		}
	}
	quiet(t, got, "delivery after success")
}

func testRetriesStop(t *testing.T, h *harness) {
	handler, got := recorder(func(backend.Delivery) error { return errBoom })
	name := h.register(backend.TaskSpec{Name: "always-fails", Retries: 2}, handler)
	h.start()

	id := h.dispatch(backend.Dispatch{Task: name, Payload: []byte(`{}`)})
	for want := 1; want <= 3; want++ {
		d := recv(t, got, "delivery")
		if d.RunID != id || d.Attempt != want || d.MaxAttempts != 3 {
			t.Fatalf("delivery %d: RunID, Attempt, MaxAttempts = %q, %d, %d; want %q, %d, 3", want, d.RunID, d.Attempt, d.MaxAttempts, id, want)
		}
	}
	quiet(t, got, "delivery after the last attempt")
}

func testFinalNotRetried(t *testing.T, h *harness) {
	handler, got := recorder(func(backend.Delivery) error { return backend.Final(errBoom) })
	name := h.register(backend.TaskSpec{Name: "final", Retries: 3}, handler)
	h.start()

	id := h.dispatch(backend.Dispatch{Task: name, Payload: []byte(`{}`)})
	if d := recv(t, got, "delivery"); d.RunID != id || d.Attempt != 1 {
		t.Fatalf("RunID, Attempt = %q, %d; want %q, 1", d.RunID, d.Attempt, id)
	}
	quiet(t, got, "retry after a final error")
}

func testBackoff(t *testing.T, h *harness) {
	const base = 50 * time.Millisecond
	type mark struct {
		attempt int
		at      time.Time
	}
	marks := make(chan mark, 8)
	name := h.register(backend.TaskSpec{Name: "backoff", Retries: 1, Backoff: backend.Backoff{Base: base}},
		func(ctx context.Context, d backend.Delivery) error {
			select {
			case marks <- mark{d.Attempt, time.Now()}:
			default:
			}
			if d.Attempt == 1 {
				return errBoom // the mark was taken just before returning
			}
			return nil
		})
	h.start()

	h.dispatch(backend.Dispatch{Task: name, Payload: []byte(`{}`)})
	failed := recv(t, marks, "first attempt")
	// A remote engine may hold retries that wait for a backoff in a queue
	// it polls at growing intervals (Hatchet: up to 30 s when idle).
	retried := recvWithin(t, marks, "retry", BackoffWaitTimeout)
	if failed.attempt != 1 || retried.attempt != 2 {
		t.Fatalf("attempts = %d, %d; want 1, 2", failed.attempt, retried.attempt)
	}
	if gap := retried.at.Sub(failed.at); gap < base {
		t.Errorf("retry came %v after the failure, want at least the backoff %v", gap, base)
	}
}

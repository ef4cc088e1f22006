package backendtest

import (
	"context"
	"testing"
	"time"

	"github.com/mageflow-go/mageflow/backend"
)

func testTimeout(t *testing.T, h *harness) {
	const timeout = 200 * time.Millisecond
	ended := make(chan bool, 8)
	name := h.register(backend.TaskSpec{Name: "timeout", Timeout: timeout}, func(ctx context.Context, d backend.Delivery) error {
		ok := waitDone(ctx)
		select {
		case ended <- ok:
		default:
		}
		return ctx.Err()
	})
	h.start()

	h.dispatch(backend.Dispatch{Task: name, Payload: []byte(`{}`)})
	if !recv(t, ended, "end of the handler") {
		t.Fatalf("the handler's context was not canceled within %v of a %v timeout", WaitTimeout, timeout)
	}
}

func testCancel(t *testing.T, h *harness) {
	started := make(chan backend.Delivery, 8)
	ended := make(chan bool, 8)
	name := h.register(backend.TaskSpec{Name: "cancel"}, func(ctx context.Context, d backend.Delivery) error {
		select {
		case started <- d:
		default:
		}
		ok := waitDone(ctx)
		select {
		case ended <- ok:
		default:
		}
		return ctx.Err()
	})
	h.start()

	id := h.dispatch(backend.Dispatch{Task: name, Payload: []byte(`{}`)})
	recv(t, started, "delivery")
	if err := h.b.Cancel(h.ctx(), id); err != nil {
		t.Fatalf("Cancel: %v", err)
	}
	if !recv(t, ended, "end of the handler") {
		t.Fatalf("the handler's context was not canceled within %v of Cancel", WaitTimeout)
	}
}

func testCancelEnded(t *testing.T, h *harness) {
	handler, got := recorder(succeed)
	name := h.register(backend.TaskSpec{Name: "cancel-ended"}, handler)
	h.start()

	id := h.dispatch(backend.Dispatch{Task: name, Payload: []byte(`{}`)})
	recv(t, got, "delivery")
	if err := h.b.Cancel(h.ctx(), id); err != nil {
		t.Fatalf("Cancel of an ended run: %v", err)
	}
}

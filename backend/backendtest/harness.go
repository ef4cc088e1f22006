package backendtest

import (
	"context"
	"crypto/rand"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/mageflow-go/mageflow/backend"
)

// WaitTimeout bounds every wait of the suite for something the backend must
// do: a delivery, a canceled context, stop returning.
const WaitTimeout = 20 * time.Second

// BackoffWaitTimeout bounds the wait for a retry that follows a backoff,
// which a remote engine may hold in a queue it polls at growing intervals.
const BackoffWaitTimeout = 90 * time.Second

// quietWindow is how long the suite watches for something that must not
// happen, such as a second delivery.
const quietWindow = 250 * time.Millisecond

// harness holds a case's Backend and the helpers it uses.
type harness struct {
	t      *testing.T
	b      backend.Backend
	prefix string

	stopOnce sync.Once
	stopFn   func(context.Context) error
	stopErr  error
}

func newHarness(t *testing.T, caseName string, b backend.Backend) *harness {
	t.Helper()
	if b == nil {
		t.Fatal("backendtest: newBackend returned nil")
	}
	return &harness{
		t:      t,
		b:      b,
		prefix: "backendtest-" + strings.ToLower(caseName) + "-" + strings.ToLower(rand.Text()[:10]),
	}
}

// name returns a task name unique to this case and run.
func (h *harness) name(s string) string { return h.prefix + "-" + s }

// ctx returns a context that ends after WaitTimeout.
func (h *harness) ctx() context.Context {
	ctx, cancel := context.WithTimeout(context.Background(), WaitTimeout)
	h.t.Cleanup(cancel)
	return ctx
}

// register registers a task named h.name(spec.Name) and returns its full
// name.
func (h *harness) register(spec backend.TaskSpec, fn backend.Handler) string {
	h.t.Helper()
	spec.Name = h.name(spec.Name)
	if err := h.b.Register(spec, fn); err != nil {
		h.t.Fatalf("Register(%q): %v", spec.Name, err)
	}
	return spec.Name
}

// start starts the Backend and stops it in a cleanup.
func (h *harness) start() {
	h.t.Helper()
	stop, err := h.b.Start(h.ctx())
	if err != nil {
		h.t.Fatalf("Start: %v", err)
	}
	if stop == nil {
		h.t.Fatal("Start returned a nil stop function")
	}
	h.stopFn = stop
	h.t.Cleanup(func() {
		if err := h.stop(); err != nil {
			h.t.Errorf("stop: %v", err)
		}
	})
}

// stop stops the Backend once, within WaitTimeout, and returns stop's error.
// Later calls return the same error.
func (h *harness) stop() error {
	h.stopOnce.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), WaitTimeout)
		defer cancel()
		h.stopErr = h.stopFn(ctx)
	})
	return h.stopErr
}

// dispatch dispatches d and fails the test on error.
func (h *harness) dispatch(d backend.Dispatch) string {
	h.t.Helper()
	id, err := h.b.Dispatch(h.ctx(), d)
	if err != nil {
		h.t.Fatalf("Dispatch(%q): %v", d.Task, err)
	}
	if id == "" {
		h.t.Fatalf("Dispatch(%q) returned an empty run id", d.Task)
	}
	return id
}

// recv returns the next value from ch, failing the test after WaitTimeout.
func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	return recvWithin(t, ch, what, WaitTimeout)
}

// recvWithin is recv with its own bound.
func recvWithin[T any](t *testing.T, ch <-chan T, what string, d time.Duration) T {
	t.Helper()
	timer := time.NewTimer(d)
	defer timer.Stop()
	select {
	case v := <-ch:
		return v
	case <-timer.C:
		t.Fatalf("no %s within %v", what, d)
		panic("unreachable")
	}
}

// quiet fails the test when ch yields a value within quietWindow.
func quiet[T any](t *testing.T, ch <-chan T, what string) {
	t.Helper()
	timer := time.NewTimer(quietWindow)
	defer timer.Stop()
	select {
	case v := <-ch:
		t.Fatalf("unexpected %s: %+v", what, v)
	case <-timer.C:
	}
}

// recorder returns a handler that sends each delivery to the returned
// channel and then returns result(delivery). The channel is buffered so the
// handler never blocks on a test that stopped reading.
func recorder(result func(backend.Delivery) error) (backend.Handler, <-chan backend.Delivery) {
	ch := make(chan backend.Delivery, 64)
	return func(ctx context.Context, d backend.Delivery) error {
		select {
		case ch <- d:
		default:
		}
		return result(d)
	}, ch
}

// succeed is a handler result that always succeeds.
func succeed(backend.Delivery) error { return nil }

// waitDone waits for ctx to end, at most WaitTimeout, and reports whether
// it ended.
func waitDone(ctx context.Context) bool {
	timer := time.NewTimer(WaitTimeout)
	defer timer.Stop()
	select {
	case <-ctx.Done():
		return true
	case <-timer.C:
		return false
	}
}

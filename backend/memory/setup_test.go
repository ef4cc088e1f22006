package memory_test

import (
	"context"
	"log/slog"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/mageflow-go/mageflow/backend"
	"github.com/mageflow-go/mageflow/backend/memory"
)

// waitTimeout bounds every wait for something the backend must do.
const waitTimeout = 10 * time.Second

// quietWindow is how long a test watches for something that must not happen.
const quietWindow = 200 * time.Millisecond

// setup returns a Backend with a discarding logger and the given options.
func setup(t *testing.T, opts ...memory.Option) *memory.Backend {
	t.Helper()
	return memory.New(append([]memory.Option{memory.WithLogger(slog.New(slog.DiscardHandler))}, opts...)...)
}

// start starts b and stops it in a cleanup, failing if stop does not
// return nil within waitTimeout. It returns stop.
func start(t *testing.T, b *memory.Backend) func(context.Context) error {
	t.Helper()
	stop, err := b.Start(t.Context())
	if err != nil {
		t.Fatalf("Start: %v", err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		if err := stop(ctx); err != nil {
			t.Errorf("stop: %v", err)
		}
	})
	return stop
}

// register registers a task and fails the test on error.
func register(t *testing.T, b *memory.Backend, spec backend.TaskSpec, h backend.Handler) {
	t.Helper()
	if err := b.Register(spec, h); err != nil {
		t.Fatalf("Register(%q): %v", spec.Name, err)
	}
}

// dispatch dispatches and fails the test on error.
func dispatch(t *testing.T, b *memory.Backend, d backend.Dispatch) string {
	t.Helper()
	id, err := b.Dispatch(t.Context(), d)
	if err != nil {
		t.Fatalf("Dispatch(%q): %v", d.Task, err)
	}
	return id
}

// recorder returns a handler that sends each delivery to the returned
// channel, then returns result(ctx, delivery).
func recorder(result func(context.Context, backend.Delivery) error) (backend.Handler, <-chan backend.Delivery) {
	ch := make(chan backend.Delivery, 1024)
	return func(ctx context.Context, d backend.Delivery) error {
		select {
		case ch <- d:
		default:
		}
		return result(ctx, d)
	}, ch
}

func succeed(context.Context, backend.Delivery) error { return nil }

// recv returns the next value from ch, failing after waitTimeout.
func recv[T any](t *testing.T, ch <-chan T, what string) T {
	t.Helper()
	select {
	case v := <-ch:
		return v
	case <-time.After(waitTimeout):
		t.Fatalf("no %s within %v", what, waitTimeout)
		panic("unreachable")
	}
}

// quiet fails when ch yields a value within quietWindow.
func quiet[T any](t *testing.T, ch <-chan T, what string) {
	t.Helper()
	select {
	case v := <-ch:
		t.Fatalf("unexpected %s: %+v", what, v)
	case <-time.After(quietWindow):
	}
}

// waitStats polls b.Stats until ok accepts them, failing after waitTimeout.
func waitStats(t *testing.T, b *memory.Backend, ok func(memory.Stats) bool) memory.Stats {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		s := b.Stats()
		if ok(s) {
			return s
		}
		if time.Now().After(deadline) {
			t.Fatalf("stats never reached the expected values; last: %+v", s)
		}
		<-time.After(time.Millisecond)
	}
}

// checkNoLeak fails unless, within waitTimeout, no goroutine runs code of
// package memory and the number of goroutines is back to at most base.
func checkNoLeak(t *testing.T, base int) {
	t.Helper()
	deadline := time.Now().Add(waitTimeout)
	for {
		leaked := memoryGoroutines()
		n := runtime.NumGoroutine()
		if len(leaked) == 0 && n <= base {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("goroutines: %d, at start %d; running package memory code:\n%s", n, base, strings.Join(leaked, "\n\n"))
		}
		<-time.After(5 * time.Millisecond)
	}
}

// memoryGoroutines returns the stacks of the goroutines that run code of
// package memory (a frame in one of its non-test files).
func memoryGoroutines() []string {
	buf := make([]byte, 1<<16)
	for {
		n := runtime.Stack(buf, true)
		if n < len(buf) {
			buf = buf[:n]
			break
		}
		buf = make([]byte, 2*len(buf))
	}
	var out []string
	for g := range strings.SplitSeq(string(buf), "\n\n") {
		for line := range strings.SplitSeq(g, "\n") {
			// A frame of the package's code, not of its tests.
			if strings.Contains(line, "/backend/memory/") && !strings.Contains(line, "_test.go:") {
				out = append(out, g)
				break
			}
		}
	}
	return out
}

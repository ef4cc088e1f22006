package memory_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mageflow-go/mageflow/backend"
	"github.com/mageflow-go/mageflow/backend/memory"
)

func TestRegisterErrors(t *testing.T) {
	t.Parallel()
	b := setup(t)
	register(t, b, backend.TaskSpec{Name: "taken"}, succeed)
	for _, tc := range []struct {
		name string
		spec backend.TaskSpec
		h    backend.Handler
		want string
	}{
		{"empty name", backend.TaskSpec{}, succeed, "empty task name"},
		{"nil handler", backend.TaskSpec{Name: "a"}, nil, "nil handler"},
		{"negative retries", backend.TaskSpec{Name: "a", Retries: -1}, succeed, "negative retries"},
		{"twice", backend.TaskSpec{Name: "taken"}, succeed, `backend/memory: task "taken" already registered`},
	} {
		err := b.Register(tc.spec, tc.h)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: Register = %v, want an error containing %q", tc.name, err, tc.want)
		}
	}
}

func TestDispatchUnknownNamesTask(t *testing.T) {
	t.Parallel()
	b := setup(t)
	_, err := b.Dispatch(t.Context(), backend.Dispatch{Task: "nope"})
	if !errors.Is(err, backend.ErrUnknownTask) || !strings.Contains(err.Error(), `"nope"`) {
		t.Fatalf("Dispatch = %v, want an error wrapping ErrUnknownTask naming the task", err)
	}
}

func TestDispatchBeforeStart(t *testing.T) {
	t.Parallel()
	b := setup(t)
	h, got := recorder(succeed)
	register(t, b, backend.TaskSpec{Name: "t"}, h)
	id := dispatch(t, b, backend.Dispatch{Task: "t"})
	quiet(t, got, "delivery before Start")
	start(t, b)
	if d := recv(t, got, "delivery"); d.RunID != id {
		t.Fatalf("RunID = %q, want %q", d.RunID, id)
	}
}

func TestDispatchAfterStop(t *testing.T) {
	t.Parallel()
	b := setup(t)
	register(t, b, backend.TaskSpec{Name: "t"}, succeed)
	stop := start(t, b)
	if err := stop(t.Context()); err != nil {
		t.Fatalf("stop: %v", err)
	}
	if _, err := b.Dispatch(t.Context(), backend.Dispatch{Task: "t"}); !errors.Is(err, backend.ErrStopped) {
		t.Fatalf("Dispatch after stop = %v, want ErrStopped", err)
	}
}

func TestDispatchCanceledContext(t *testing.T) {
	t.Parallel()
	b := setup(t)
	register(t, b, backend.TaskSpec{Name: "t"}, succeed)
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	if _, err := b.Dispatch(ctx, backend.Dispatch{Task: "t"}); !errors.Is(err, context.Canceled) {
		t.Fatalf("Dispatch = %v, want context.Canceled", err)
	}
	if s := b.Stats(); s.Dispatched != 0 {
		t.Fatalf("Dispatched = %d, want 0", s.Dispatched)
	}
}

func TestStartTwice(t *testing.T) {
	t.Parallel()
	b := setup(t)
	start(t, b)
	if _, err := b.Start(t.Context()); err == nil {
		t.Fatal("second Start = nil, want an error")
	}
}

func TestCancelQueued(t *testing.T) {
	t.Parallel()
	b := setup(t, memory.WithWorkers(1))
	h, got := recorder(succeed)
	register(t, b, backend.TaskSpec{Name: "t"}, h)
	canceled := dispatch(t, b, backend.Dispatch{Task: "t"})
	if err := b.Cancel(t.Context(), canceled); err != nil {
		t.Fatalf("Cancel: %v", err)
	}
	marker := dispatch(t, b, backend.Dispatch{Task: "t"})
	start(t, b)
	// One worker takes the queue in order: the canceled run comes first.
	if d := recv(t, got, "delivery"); d.RunID != marker {
		t.Fatalf("delivered %q, want only %q", d.RunID, marker)
	}
	if s := b.Stats(); s.Canceled != 1 {
		t.Errorf("Canceled = %d, want 1", s.Canceled)
	}
}

func TestCancelWaitingRetry(t *testing.T) {
	t.Parallel()
	b := setup(t)
	h, got := recorder(func(context.Context, backend.Delivery) error { return errors.New("boom") })
	register(t, b, backend.TaskSpec{Name: "t", Retries: 1, Backoff: backend.Backoff{Base: quietWindow / 2}}, h)
	start(t, b)
	id := dispatch(t, b, backend.Dispatch{Task: "t"})
	recv(t, got, "delivery")
	waitStats(t, b, func(s memory.Stats) bool { return s.Retried == 1 })
	if err := b.Cancel(t.Context(), id); err != nil {
		t.Fatalf("Cancel: %v", err)
	}
	quiet(t, got, "retry of a canceled run")
	if s := b.Stats(); s.Canceled != 1 || s.Failed != 0 {
		t.Errorf("Canceled, Failed = %d, %d; want 1, 0", s.Canceled, s.Failed)
	}
	if err := b.Cancel(t.Context(), id); err != nil {
		t.Errorf("Cancel of an ended run: %v", err)
	}
	if err := b.Cancel(t.Context(), "no-such-run"); err != nil {
		t.Errorf("Cancel of an unknown run: %v", err)
	}
}

func TestCancelRunningIsNotRetried(t *testing.T) {
	t.Parallel()
	b := setup(t)
	h, got := recorder(func(ctx context.Context, _ backend.Delivery) error {
		<-ctx.Done()
		return ctx.Err()
	})
	register(t, b, backend.TaskSpec{Name: "t", Retries: 3}, h)
	start(t, b)
	id := dispatch(t, b, backend.Dispatch{Task: "t"})
	recv(t, got, "delivery")
	if err := b.Cancel(t.Context(), id); err != nil {
		t.Fatalf("Cancel: %v", err)
	}
	quiet(t, got, "retry of a canceled run")
	if s := b.Stats(); s.Canceled != 1 || s.Retried != 0 || s.Failed != 0 {
		t.Errorf("Canceled, Retried, Failed = %d, %d, %d; want 1, 0, 0", s.Canceled, s.Retried, s.Failed)
	}
}

func TestTimeoutIsDeadline(t *testing.T) {
	t.Parallel()
	b := setup(t)
	errs := make(chan error, 1)
	register(t, b, backend.TaskSpec{Name: "t", Timeout: 20 * time.Millisecond}, func(ctx context.Context, _ backend.Delivery) error {
		<-ctx.Done()
		errs <- ctx.Err()
		return ctx.Err()
	})
	start(t, b)
	dispatch(t, b, backend.Dispatch{Task: "t"})
	if err := recv(t, errs, "end of the handler"); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("ctx.Err() = %v, want DeadlineExceeded", err)
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent use, for logs.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

func TestPanicIsAnError(t *testing.T) {
	t.Parallel()
	var logs syncBuffer
	b := memory.New(memory.WithLogger(slog.New(slog.NewTextHandler(&logs, nil))))
	retried, gotRetried := recorder(func(_ context.Context, d backend.Delivery) error {
		if d.Attempt == 1 {
			panic("first attempt")
		}
		return nil
	})
	register(t, b, backend.TaskSpec{Name: "retried", Retries: 1}, retried)
	final, gotFinal := recorder(func(context.Context, backend.Delivery) error { panic("always") })
	register(t, b, backend.TaskSpec{Name: "final"}, final)
	start(t, b)

	id := dispatch(t, b, backend.Dispatch{Task: "retried"})
	for want := 1; want <= 2; want++ {
		if d := recv(t, gotRetried, "delivery"); d.RunID != id || d.Attempt != want {
			t.Fatalf("RunID, Attempt = %q, %d; want %q, %d", d.RunID, d.Attempt, id, want)
		}
	}
	dispatch(t, b, backend.Dispatch{Task: "final"})
	recv(t, gotFinal, "delivery")
	s := waitStats(t, b, func(s memory.Stats) bool { return s.Succeeded == 1 && s.Failed == 1 })
	if s.Panicked != 2 || s.Retried != 1 || s.Delivered != 3 {
		t.Errorf("stats = %+v, want Panicked 2, Retried 1, Delivered 3", s)
	}
	if l := logs.String(); !strings.Contains(l, "handler panicked") || !strings.Contains(l, "first attempt") || !strings.Contains(l, "stack=") {
		t.Errorf("logs lack the panic and its stack:\n%s", l)
	}
}

func TestStats(t *testing.T) {
	t.Parallel()
	b := setup(t)
	register(t, b, backend.TaskSpec{Name: "ok"}, succeed)
	// a key dedupes while its run lives: the keyed run waits until the
	// second dispatch of its key was answered
	release := make(chan struct{})
	register(t, b, backend.TaskSpec{Name: "held"}, func(context.Context, backend.Delivery) error {
		<-release
		return nil
	})
	register(t, b, backend.TaskSpec{Name: "fails", Retries: 2}, func(context.Context, backend.Delivery) error {
		return errors.New("boom")
	})
	register(t, b, backend.TaskSpec{Name: "final", Retries: 2}, func(context.Context, backend.Delivery) error {
		return backend.Final(errors.New("bad input"))
	})
	start(t, b)

	dispatch(t, b, backend.Dispatch{Task: "held", Key: "k"})
	dispatch(t, b, backend.Dispatch{Task: "held", Key: "k"})
	close(release)
	dispatch(t, b, backend.Dispatch{Task: "ok"})
	dispatch(t, b, backend.Dispatch{Task: "fails"})
	dispatch(t, b, backend.Dispatch{Task: "final"})
	want := memory.Stats{
		Dispatched:   4,
		Deduplicated: 1,
		Delivered:    2 + 3 + 1,
		Retried:      2,
		Succeeded:    2,
		Failed:       2,
	}
	got := waitStats(t, b, func(s memory.Stats) bool { return s.Succeeded+s.Failed == 4 })
	if got != want {
		t.Fatalf("Stats = %+v, want %+v", got, want)
	}
}

func TestDispatchNeverBlocks(t *testing.T) {
	t.Parallel()
	const depth = 9 // a binary tree of 2^10-1 runs on 2 workers
	b := setup(t, memory.WithWorkers(2))
	var ran atomic.Int64
	all := make(chan struct{})
	register(t, b, backend.TaskSpec{Name: "tree"}, func(ctx context.Context, d backend.Delivery) error {
		if n := ran.Add(1); n == 1<<(depth+1)-1 {
			close(all)
		}
		level := int(d.Payload[0])
		if level == depth {
			return nil
		}
		for range 2 {
			if _, err := b.Dispatch(ctx, backend.Dispatch{Task: "tree", Payload: []byte{byte(level + 1)}}); err != nil {
				return backend.Final(err)
			}
		}
		return nil
	})
	start(t, b)
	dispatch(t, b, backend.Dispatch{Task: "tree", Payload: []byte{0}})
	recv(t, all, "end of the whole tree")
}

func TestDispatchWhileSaturated(t *testing.T) {
	t.Parallel()
	const n = 10_000
	b := setup(t, memory.WithWorkers(1))
	release := make(chan struct{})
	started := make(chan struct{}, 1)
	register(t, b, backend.TaskSpec{Name: "block"}, func(ctx context.Context, _ backend.Delivery) error {
		select {
		case started <- struct{}{}:
		default:
		}
		<-release
		return nil
	})
	var ran atomic.Int64
	all := make(chan struct{})
	register(t, b, backend.TaskSpec{Name: "count"}, func(context.Context, backend.Delivery) error {
		if ran.Add(1) == n {
			close(all)
		}
		return nil
	})
	start(t, b)
	dispatch(t, b, backend.Dispatch{Task: "block"})
	recv(t, started, "start of the blocking handler")

	dispatched := make(chan struct{})
	go func() {
		defer close(dispatched)
		for range n {
			if _, err := b.Dispatch(context.Background(), backend.Dispatch{Task: "count"}); err != nil {
				t.Errorf("Dispatch: %v", err)
				return
			}
		}
	}()
	recv(t, dispatched, "end of the dispatches while the pool is busy")
	close(release)
	recv(t, all, "end of the queued runs")
}

func TestDispatchKeyForgottenWhenRunEnds(t *testing.T) {
	t.Parallel()
	b := setup(t)
	h, got := recorder(succeed)
	register(t, b, backend.TaskSpec{Name: "t"}, h)
	start(t, b)
	first := dispatch(t, b, backend.Dispatch{Task: "t", Key: "k"})
	recv(t, got, "delivery")
	if err := b.WaitIdle(t.Context()); err != nil {
		t.Fatalf("WaitIdle: %v", err)
	}
	// The run ended: its key is not kept for the life of the backend. A
	// repeat after the end is a new run, which the store's claim refuses
	// in a flow.
	second := dispatch(t, b, backend.Dispatch{Task: "t", Key: "k"})
	if second == first {
		t.Fatalf("dispatch after the run ended = %q, the ended run's id; want a new run", second)
	}
	recv(t, got, "delivery of the repeat")
}

func TestCanceledRunLivesUntilItsHandlerReturns(t *testing.T) {
	t.Parallel()
	b := setup(t)
	release := make(chan struct{})
	h, got := recorder(func(ctx context.Context, _ backend.Delivery) error {
		<-ctx.Done()
		<-release
		return ctx.Err()
	})
	register(t, b, backend.TaskSpec{Name: "t", Retries: 3}, h)
	start(t, b)
	first := dispatch(t, b, backend.Dispatch{Task: "t", Key: "k"})
	recv(t, got, "delivery")
	if err := b.Cancel(t.Context(), first); err != nil {
		t.Fatalf("Cancel: %v", err)
	}
	// its handler still runs: the Backend is not idle, and a repeat of
	// the key is still that run
	short, cancel := context.WithTimeout(t.Context(), quietWindow)
	defer cancel()
	if err := b.WaitIdle(short); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("WaitIdle while the canceled handler runs = %v, want DeadlineExceeded", err)
	}
	if again := dispatch(t, b, backend.Dispatch{Task: "t", Key: "k"}); again != first {
		t.Fatalf("dispatch while the canceled handler runs = %q, want %q", again, first)
	}
	close(release)
	if err := b.WaitIdle(t.Context()); err != nil {
		t.Fatal(err)
	}
	// it ended canceled, not retried, and its key is forgotten
	if s := b.Stats(); s.Canceled != 1 || s.Retried != 0 || s.Failed != 0 || s.Delivered != 1 {
		t.Errorf("stats = %+v, want Canceled 1, Retried 0, Failed 0, Delivered 1", s)
	}
	next := dispatch(t, b, backend.Dispatch{Task: "t", Key: "k"})
	if next == first {
		t.Fatalf("dispatch after the handler returned = %q, the canceled run's id", next)
	}
	// the new run's handler waits for its context: cancel it, so that
	// the stop in the cleanup does not wait for it
	if err := b.Cancel(t.Context(), next); err != nil {
		t.Fatalf("Cancel: %v", err)
	}
}

// WithLateRegistration lets Register run after Start, and nothing else:
// Start still runs once.
func TestLateRegistrationStartsOnce(t *testing.T) {
	b := memory.New(memory.WithLateRegistration())
	stop, err := b.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = stop(context.Background()) }()
	if err := b.Register(backend.TaskSpec{Name: "late"}, succeed); err != nil {
		t.Errorf("Register after Start with WithLateRegistration: %v", err)
	}
	if _, err := b.Start(context.Background()); err == nil {
		t.Error("a second Start succeeded")
	}
}

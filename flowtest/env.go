package flowtest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/mageflow-go/mageflow"
	"github.com/mageflow-go/mageflow/backend/memory"
	"github.com/mageflow-go/mageflow/internal/engine"
	"github.com/mageflow-go/mageflow/internal/graph"
	"github.com/mageflow-go/mageflow/sig"
	memstore "github.com/mageflow-go/mageflow/storage/memory"
	"github.com/mageflow-go/mageflow/task"
)

// DefaultTimeout bounds [Env.Quiesce] and [Run] when [WithTimeout] is not
// given.
const DefaultTimeout = 10 * time.Second

// Env is a client on the in-memory backend and store, with a fake clock
// and a record of what it dispatched. Make it with [New]; it is safe for
// concurrent use.
type Env struct {
	// Client runs flows: pass it to flow.Start, flow.Sign, flow.Attach.
	Client *mageflow.Client
	// Backend is the in-memory backend; its Stats and Inject are there
	// for what the helpers do not cover.
	Backend *memory.Backend
	// Store is the in-memory store; read records with Store.Get.
	Store *memstore.Store
	// Clock is the store's clock.
	Clock *Clock

	t       testing.TB
	eng     *engine.Engine
	rec     *recorder
	timeout time.Duration

	mu    sync.Mutex
	stubs map[string]func(context.Context, []byte) ([]byte, error)
	fails map[string]map[int]error // task -> attempt -> error
}

// Option configures an [Env].
type Option func(*options)

type options struct {
	client  []mageflow.Option
	workers int
	backoff bool
	timeout time.Duration
	start   time.Time
}

// WithClientOptions passes options to mageflow.New, such as
// mageflow.WithTTL or mageflow.WithLogger.
func WithClientOptions(opts ...mageflow.Option) Option {
	return func(o *options) { o.client = append(o.client, opts...) }
}

// WithWorkers sets how many tasks run at once (default
// memory.DefaultWorkers).
func WithWorkers(n int) Option {
	return func(o *options) { o.workers = n }
}

// WithTaskBackoff makes retries wait the backoff their task asks for
// (task.WithBackoff). By default an Env retries at once, so that a test of
// a retried task does not wait.
func WithTaskBackoff() Option {
	return func(o *options) { o.backoff = true }
}

// WithTimeout bounds how long [Env.Quiesce] and [Run] wait before failing
// the test (default [DefaultTimeout]).
func WithTimeout(d time.Duration) Option {
	return func(o *options) { o.timeout = d }
}

// WithClockAt starts the Env's clock at start instead of the time New was
// called.
func WithClockAt(start time.Time) Option {
	return func(o *options) { o.start = start }
}

// New returns a started Env. Its worker is stopped when the test ends.
func New(t testing.TB, opts ...Option) *Env {
	t.Helper()
	o := options{timeout: DefaultTimeout, start: time.Now()}
	for _, opt := range opts {
		if opt != nil {
			opt(&o)
		}
	}
	bopts := []memory.Option{memory.WithWorkers(o.workers), memory.WithLateRegistration()}
	if !o.backoff {
		bopts = append(bopts, memory.WithoutBackoff())
	}
	clock := NewClock(o.start)
	e := &Env{
		Backend: memory.New(bopts...),
		Store:   memstore.New(memstore.WithClock(clock.Now)),
		Clock:   clock,
		t:       t,
		timeout: o.timeout,
		stubs:   make(map[string]func(context.Context, []byte) ([]byte, error)),
		fails:   make(map[string]map[int]error),
	}
	e.rec = newRecorder(e.Backend)
	c, err := mageflow.New(e.rec, e.Store, o.client...)
	if err != nil {
		t.Fatalf("flowtest: new client: %v", err)
		return nil
	}
	e.Client = c
	if e.eng, err = engine.From(c); err != nil {
		t.Fatalf("flowtest: %v", err)
		return nil
	}
	e.eng.Intercept(e.invoke)
	stop, err := c.StartWorker(context.Background())
	if err != nil {
		t.Fatalf("flowtest: start worker: %v", err)
		return nil
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), e.timeout)
		defer cancel()
		if err := stop(ctx); err != nil {
			t.Errorf("flowtest: stop worker: %v", err)
		}
	})
	return e
}

// Register makes the Env's worker run tasks, failing the test on error
// (two different tasks under one name, a task built with bad arguments).
func (e *Env) Register(tasks ...task.Registrable) {
	e.t.Helper()
	if err := e.Client.Register(tasks...); err != nil {
		e.t.Fatalf("flowtest: %v", err)
	}
}

// Quiesce waits until nothing is queued, running or waiting for a retry,
// and fails the test when that takes longer than the Env's timeout. A flow
// that is neither running nor ended when Quiesce returns is suspended or
// waits for something outside the Env.
func (e *Env) Quiesce() {
	e.t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), e.timeout)
	defer cancel()
	if err := e.Backend.WaitIdle(ctx); err != nil {
		e.t.Fatalf("flowtest: still running after %v: %v (last dispatches: %s)", e.timeout, err, e.rec.summary(5))
	}
}

// Record returns the stored record id (a run id, or the id of a node in
// it, as Dispatch.Record gives), failing the test when it is missing.
func (e *Env) Record(id string) *sig.Record {
	e.t.Helper()
	r, err := e.Store.Get(context.Background(), id)
	if err != nil {
		e.t.Fatalf("flowtest: record %s: %v", id, err)
		return nil
	}
	return r
}

// invoke runs a task for the worker: an injected failure, a stub or the
// task's own function.
func (e *Env) invoke(ctx context.Context, def *graph.TaskDef, payload []byte) ([]byte, error) {
	info, _ := task.Info(ctx)
	e.mu.Lock()
	failure, fails := e.fails[def.Name()][info.Attempt]
	stub := e.stubs[def.Name()]
	e.mu.Unlock()
	switch {
	case fails:
		return nil, failure
	case stub != nil:
		return stub(ctx, payload)
	}
	return def.Invoke(ctx, payload)
}

// errInjected is wrapped by the failures of FailOnAttempt given a nil error.
var errInjected = errors.New("flowtest: injected failure")

func injected(name string, attempt int) error {
	return fmt.Errorf("%w of %s on attempt %d", errInjected, name, attempt)
}

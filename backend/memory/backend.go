package memory

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/mageflow-go/mageflow/backend"
)

// lifecycle is where a Backend is between New and stop.
type lifecycle int

const (
	created lifecycle = iota // dispatches queue up
	started                  // workers deliver
	stopped                  // no new deliveries, no new dispatches
)

// Backend is an in-process [backend.Backend]. Make it with [New]. It is safe
// for concurrent use.
type Backend struct {
	workers   int
	log       *slog.Logger
	noBackoff bool
	late      bool // Register after Start is allowed (WithLateRegistration)

	mu    sync.Mutex
	cond  *sync.Cond // signaled when the queue grows or the state changes
	state lifecycle
	tasks map[string]*task
	keys  map[string]string // dedupe key -> id of its live run
	runs  map[string]*run   // runs not ended yet
	// reserved are the run ids NextRun gave, until the run is dispatched
	// or the attempt that asked ends (see reservation).
	reserved map[string]reservation
	// tag makes the ids NextRun gives unique to this Backend: the store
	// holds them, where another Backend's runs meet them.
	tag     string
	queue   queue
	seq     uint64
	running int // handlers executing now
	faults  []*armedFault
	stats   Stats
	idle    []chan struct{} // closed when runs becomes empty

	pool     sync.WaitGroup // worker goroutines
	timers   sync.WaitGroup // backoff timers armed and not yet finished
	waitOnce sync.Once
	done     chan struct{} // closed when the pool and timers are finished
}

// task is a registered task.
type task struct {
	spec    backend.TaskSpec
	handler backend.Handler
}

var _ backend.Backend = (*Backend)(nil)

var _ backend.Continuer = (*Backend)(nil)

// New returns a Backend that is not started. Dispatches made before
// [Backend.Start] are queued and delivered once it starts.
func New(opts ...Option) *Backend {
	o := options{workers: DefaultWorkers, log: slog.New(slog.DiscardHandler)}
	for _, opt := range opts {
		opt(&o)
	}
	b := &Backend{
		workers:   o.workers,
		log:       o.log,
		noBackoff: o.noBackoff,
		late:      o.late,
		tasks:     make(map[string]*task),
		keys:      make(map[string]string),
		runs:      make(map[string]*run),
		reserved:  make(map[string]reservation),
		tag:       newTag(),
		done:      make(chan struct{}),
	}
	b.cond = sync.NewCond(&b.mu)
	return b
}

// Register makes the Backend execute spec.Name with h. It fails on an empty
// name, a nil handler, negative retries and a name already registered.
// After Start it fails with an error wrapping backend.ErrWorkerStarted,
// as the contract asks, unless the Backend was made with
// WithLateRegistration.
func (b *Backend) Register(spec backend.TaskSpec, h backend.Handler) error {
	if err := spec.Check(h); err != nil {
		return fmt.Errorf("backend/memory: register: %w", err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state != created && !b.late {
		return fmt.Errorf("backend/memory: register %q: %w (register tasks before Start)", spec.Name, backend.ErrWorkerStarted)
	}
	if _, ok := b.tasks[spec.Name]; ok {
		return fmt.Errorf("backend/memory: task %q already registered", spec.Name)
	}
	b.tasks[spec.Name] = &task{spec: spec, handler: h}
	return nil
}

// Known reports whether a task named name is registered. It never fails.
func (b *Backend) Known(ctx context.Context, name string) (bool, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	_, ok := b.tasks[name]
	return ok, nil
}

// Cancel cancels the run runID: the context of its running attempt is
// canceled, and the run ends, not retried, when that attempt's handler
// returns; a queued run or one waiting for its backoff ends at once.
// Canceling an ended or unknown run returns nil.
func (b *Backend) Cancel(ctx context.Context, runID string) error {
	b.mu.Lock()
	defer b.mu.Unlock()
	if rv, ok := b.reserved[runID]; ok {
		// reserved and not dispatched yet: it never starts
		rv.canceled = true
		b.reserved[runID] = rv
		b.stats.Canceled++
		return nil
	}
	r, ok := b.runs[runID]
	if !ok || r.canceled {
		return nil
	}
	switch r.state {
	case runRunning:
		// it lives, and keeps its key, until its handler returns (finish)
		r.canceled = true
		r.live.cancel()
		b.stats.Canceled++
		return nil
	case runWaiting:
		b.stopTimer(r)
	}
	b.end(r)
	b.stats.Canceled++
	return nil
}

// Start starts the pool of workers. It fails when the Backend was started
// before. Canceling ctx later does not stop the workers; stop does.
//
// stop stops taking new deliveries and dispatches (Dispatch then fails with
// [backend.ErrStopped]), drops the retries waiting for their backoff and the
// queued runs, cancels nothing and waits for the running handlers to return.
// It returns nil once every goroutine of the Backend has ended. If its ctx
// ends first, stop cancels the running handlers' contexts and returns an
// error wrapping ctx.Err(). stop may be called more than once.
func (b *Backend) Start(ctx context.Context) (stop func(context.Context) error, err error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("backend/memory: start: %w", err)
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state != created {
		return nil, fmt.Errorf("backend/memory: start: already started")
	}
	b.state = started
	for range b.workers {
		b.pool.Go(b.work)
	}
	return b.stop, nil
}

func (b *Backend) stop(ctx context.Context) error {
	b.mu.Lock()
	if b.state == started {
		b.state = stopped
		for _, r := range b.runs {
			if r.state == runWaiting {
				b.stopTimer(r)
				r.state = runQueued // never delivered: the workers are gone
			}
		}
		b.cond.Broadcast()
	}
	b.mu.Unlock()

	b.waitOnce.Do(func() {
		go func() {
			b.pool.Wait()
			b.timers.Wait()
			close(b.done)
		}()
	})
	select {
	case <-b.done:
		return nil
	case <-ctx.Done():
	}
	select {
	case <-b.done:
		return nil
	default:
	}
	b.mu.Lock()
	n := b.running
	for _, r := range b.runs {
		if r.state == runRunning {
			r.live.cancel()
		}
	}
	b.mu.Unlock()
	return fmt.Errorf("backend/memory: stop: %d handlers still running: %w", n, ctx.Err())
}

// stopTimer stops the backoff timer of a waiting run. b.mu must be held.
func (b *Backend) stopTimer(r *run) {
	if r.timer != nil && r.timer.Stop() {
		b.timers.Done() // the callback will not run
	}
	r.timer = nil
}

// end marks r ended and forgets it. b.mu must be held.
func (b *Backend) end(r *run) {
	r.state = runEnded
	delete(b.runs, r.id)
	if r.dead != "" {
		delete(b.reserved, r.dead)
	}
	if r.key != "" && b.keys[r.key] == r.id {
		delete(b.keys, r.key)
	}
	if len(b.runs) == 0 {
		for _, ch := range b.idle {
			close(ch)
		}
		b.idle = nil
	}
}

// WaitIdle returns nil once no run is queued, running or waiting for a
// retry, or ctx's error if it ends first. A run's follow-up dispatches are
// made by its handler, before the run ends, so an idle Backend whose work
// comes from its own handlers has nothing left to do. Runs queued before
// Start keep it busy until they ran.
func (b *Backend) WaitIdle(ctx context.Context) error {
	b.mu.Lock()
	if len(b.runs) == 0 {
		b.mu.Unlock()
		return nil
	}
	ch := make(chan struct{})
	b.idle = append(b.idle, ch)
	b.mu.Unlock()
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("backend/memory: wait idle: %w", ctx.Err())
	}
}

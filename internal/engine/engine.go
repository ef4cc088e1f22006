// Package engine is the runtime behind mageflow.Client: it validates and
// lowers flows into records, runs the protocol around the store and the
// backend, and executes tasks for the worker.
package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mageflow-go/mageflow/backend"
	"github.com/mageflow-go/mageflow/internal/graph"
	"github.com/mageflow-go/mageflow/middleware"
	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
)

// ErrCanceled: the flow was canceled (Wait, and operations on it).
var ErrCanceled = errors.New("mageflow: flow canceled")

// ErrFinished: the flow's root ended (done, failed or canceled), so the
// operation does not apply. (A record's Finished says more: the root and
// its callbacks ended.)
var ErrFinished = errors.New("mageflow: flow already ended")

// TTL is how long records of one kind live: Active while their graph runs,
// Done after it ended.
type TTL struct {
	Active time.Duration
	Done   time.Duration
}

// Config is an engine's configuration.
type Config struct {
	Logger *slog.Logger
	// TTL per kind of record.
	TTL map[sig.Kind]TTL
	// Now is the clock for new ids.
	Now func() time.Time
	// Fresh turns off derived ids: graphs created inside a running task
	// get fresh ids, so a retried task creates them again.
	Fresh bool
	// Sweep tunes the worker's recovery of owed effects (see sweep.go); a
	// zero Every takes both defaults.
	Sweep Sweep
	// Middleware wraps every task execution (the first is outermost);
	// those that are middleware.Starter wrap every start, and those that
	// are middleware.Ender hear of every end.
	Middleware []middleware.Middleware
}

// Sweep is how often the worker recovers owed effects, and how long it
// leaves the process of a transition to deliver them itself.
type Sweep struct {
	Every, Grace time.Duration
}

// Engine is the runtime of one client.
type Engine struct {
	backend backend.Backend
	store   storage.Store
	log     *slog.Logger
	ttl     map[sig.Kind]TTL
	now     func() time.Time
	derive  bool
	sweep   Sweep
	// cont and ahead are the backend and the store when the engine has
	// the store claim, in the operation that completes a task, the task
	// that completion dispatches alone, for a run the backend's worker
	// then runs itself (worker.go).
	cont  backend.Continuer
	ahead storage.Aheader

	mws      []middleware.Middleware
	starters []middleware.Starter
	enders   []middleware.Ender
	fanners  []middleware.Fanner

	// invoke, when set, runs tasks instead of their own function.
	invoke atomic.Pointer[Invoker]

	mu    sync.RWMutex
	tasks map[string]*graph.TaskDef
	known map[string]bool // names the backend said it knows

	// running are the attempts this worker runs, whose graphs it keeps
	// alive (touch.go), in a list through their taskContexts; touchEvery
	// is how often.
	runMu      sync.Mutex
	running    *taskContext
	touchEvery time.Duration

	// halt is the running worker's: it ends the store retries of the
	// calls that follow tasks (detach.go) once the worker's stop gave up
	// waiting for its handlers.
	halt atomic.Pointer[halting]
}

// New returns an engine over b and s.
func New(b backend.Backend, s storage.Store, cfg Config) *Engine {
	if cfg.Sweep.Every <= 0 {
		cfg.Sweep = Sweep{Every: DefaultRecoverEvery, Grace: DefaultRecoverGrace}
	}
	touchEvery := DefaultTouchEvery
	for _, t := range cfg.TTL {
		touchEvery = min(touchEvery, t.Active/3)
	}
	e := &Engine{
		touchEvery: touchEvery,
		backend:    b,
		store:      s,
		log:        cfg.Logger,
		ttl:        cfg.TTL,
		now:        cfg.Now,
		derive:     !cfg.Fresh,
		sweep:      cfg.Sweep,
		tasks:      make(map[string]*graph.TaskDef),
		known:      make(map[string]bool),
	}
	if c, ok := b.(backend.Continuer); ok {
		if a, ok := s.(storage.Aheader); ok {
			// the claim's lease is the recovery grace (ahead.go)
			e.cont, e.ahead = c, a
		}
	}
	for _, m := range cfg.Middleware {
		e.mws = append(e.mws, m)
		if s, ok := m.(middleware.Starter); ok {
			e.starters = append(e.starters, s)
		}
		if en, ok := m.(middleware.Ender); ok {
			e.enders = append(e.enders, en)
		}
		if f, ok := m.(middleware.Fanner); ok {
			e.fanners = append(e.fanners, f)
		}
	}
	return e
}

// Store returns the engine's store.
func (e *Engine) Store() storage.Store { return e.store }

// Backend returns the engine's backend.
func (e *Engine) Backend() backend.Backend { return e.backend }

// Unwrap gives package flow the engine of a *mageflow.Client. The root
// package sets it.
var Unwrap func(client any) (*Engine, error)

// From returns the engine of client.
func From(client any) (*Engine, error) {
	if Unwrap == nil {
		return nil, errors.New("mageflow: engine not linked")
	}
	return Unwrap(client)
}

// Invoker runs a task's function on its payload, in place of def.Invoke.
// Package flowtest uses one to stub tasks and inject failures.
type Invoker func(ctx context.Context, def *graph.TaskDef, payload []byte) ([]byte, error)

// Intercept makes the worker call inv to run every task; nil restores the
// tasks' own functions. The protocol around the call (claim, complete or
// fail, dispatch) is unchanged.
func (e *Engine) Intercept(inv Invoker) {
	if inv == nil {
		e.invoke.Store(nil)
		return
	}
	e.invoke.Store(&inv)
}

// run calls def's function, or the interceptor.
func (e *Engine) run(ctx context.Context, def *graph.TaskDef, payload []byte) ([]byte, error) {
	if inv := e.invoke.Load(); inv != nil {
		return (*inv)(ctx, def, payload)
	}
	return def.Invoke(ctx, payload)
}

// Register makes this process execute defs.
func (e *Engine) Register(defs ...*graph.TaskDef) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, d := range defs {
		if d == nil {
			return errors.New("mageflow: register: zero task (use task.New)")
		}
		if d.Err != nil {
			return fmt.Errorf("mageflow: register: %w", d.Err)
		}
		name := d.Name()
		if old, ok := e.tasks[name]; ok {
			if old == d {
				continue
			}
			if old.In != d.In || old.Out != d.Out {
				return fmt.Errorf("mageflow: register: task %q is already registered as %s -> %s, not %s -> %s", name, old.In, old.Out, d.In, d.Out)
			}
			return fmt.Errorf("mageflow: register: task %q is already registered by another task.New", name)
		}
		if err := e.backend.Register(d.Spec, e.handler(d)); err != nil {
			return fmt.Errorf("mageflow: register %q: %w", name, err)
		}
		e.tasks[name] = d
	}
	return nil
}

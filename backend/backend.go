package backend

import (
	"context"
	"errors"
	"fmt"
	"time"
)

// ErrUnknownTask: no worker knows a task of that name.
var ErrUnknownTask = errors.New("backend: unknown task")

// ErrStopped: the backend's worker was stopped.
var ErrStopped = errors.New("backend: stopped")

// ErrWorkerStarted is wrapped by the error of Register after Start: a worker
// runs the tasks registered before it started.
var ErrWorkerStarted = errors.New("backend: worker already started")

// Metadata keys under which a backend that carries metadata rather than
// fields (the Hatchet backend's run metadata, shown in its dashboard) sends
// a dispatch's Record and Root.
const (
	// MetaRecord holds [Dispatch.Record].
	MetaRecord = "mageflow-record"
	// MetaRoot holds [Dispatch.Root].
	MetaRoot = "mageflow-root"
)

// TaskSpec describes a task to a backend.
type TaskSpec struct {
	// Name is the task's lasting identity.
	Name string
	// Retries is how many times a failed run is tried again.
	Retries int
	// Backoff is the wait before retry n (n from 1): Base doubled for each
	// earlier retry, at most Max. A zero Base retries at once.
	Backoff Backoff
	// Timeout bounds one attempt; zero means none.
	Timeout time.Duration
	// Durable asks for a backend's durable execution where it has one.
	Durable bool
}

// Backoff is an exponential wait between attempts.
type Backoff struct {
	Base time.Duration
	Max  time.Duration
}

// Delay returns the wait before retry n (n from 1).
func (b Backoff) Delay(n int) time.Duration {
	if b.Base <= 0 || n < 1 {
		return 0
	}
	d := b.Base
	for i := 1; i < n; i++ {
		d *= 2
		if b.Max > 0 && d >= b.Max {
			return b.Max
		}
		if d <= 0 { // overflow
			return b.Max
		}
	}
	if b.Max > 0 && d > b.Max {
		return b.Max
	}
	return d
}

// Check reports what makes spec and h unfit to register: an empty name, a
// nil handler, negative retries, timeout or backoff. Backends call it in
// Register and wrap its error.
func (s TaskSpec) Check(h Handler) error {
	switch {
	case s.Name == "":
		return errors.New("empty task name")
	case h == nil:
		return fmt.Errorf("task %q: nil handler", s.Name)
	case s.Retries < 0:
		return fmt.Errorf("task %q: negative retries %d", s.Name, s.Retries)
	case s.Timeout < 0:
		return fmt.Errorf("task %q: negative timeout %v", s.Name, s.Timeout)
	case s.Backoff.Base < 0 || s.Backoff.Max < 0:
		return fmt.Errorf("task %q: negative backoff", s.Name)
	}
	return nil
}

// MaxAttempts is Retries+1.
func (s TaskSpec) MaxAttempts() int { return s.Retries + 1 }

// Delivery is one attempt of a run, given to a [Handler]. Its Payload and
// Meta belong to the backend: a handler reads them and does not change
// them.
type Delivery struct {
	Task    string
	Payload []byte
	// Record and Root are the dispatch's.
	Record string
	Root   string
	// Meta is the dispatch's metadata; a backend may add keys of its own,
	// named with the "mageflow-" prefix (the engine carries the other keys
	// on, as the flow's metadata, to the dispatches that follow).
	Meta map[string]string
	// RunID identifies the run; it is the same for every attempt.
	RunID string
	// Attempt counts from 1.
	Attempt int
	// MaxAttempts is the number of attempts the backend makes at most; a
	// failure of attempt MaxAttempts is final.
	MaxAttempts int
	// Claimed is set on the first attempt of a run dispatched with
	// [Dispatch.Claimed]: the store already claimed the run's record for
	// RunID.
	Claimed bool
}

// Handler executes one delivery. Returning an error makes the backend retry
// while attempts remain, unless the error is marked [Final].
type Handler func(ctx context.Context, d Delivery) error

// Dispatch asks for one run of a task. A backend may keep Payload and
// Meta without copying them: the caller does not change them after
// Backend.Dispatch.
type Dispatch struct {
	Task    string
	Payload []byte
	// Record is the id of the record the run executes and Root the id of
	// its graph; the backend hands both back in every [Delivery].
	Record string
	Root   string
	// Meta is optional metadata handed back in every Delivery.
	Meta map[string]string
	// Key deduplicates: a second dispatch with the same key is dropped by
	// backends that can, which then return the first run's id. How long a
	// backend remembers a key is its own (the memory backend: while the
	// first run lives); the store's claim refuses any repeat it lets
	// through.
	Key string
	// Run, when set, names the run the store claimed the record for:
	// the id [Continuer.NextRun] reserved. A Continuer gives the run that
	// id while it is reserved, returns the run while it lives, and
	// otherwise makes a run of its own, as other backends do.
	Run string
	// Claimed says the store claimed the run's record for Run in the
	// operation that decided the dispatch: its first attempt's Delivery
	// says so.
	Claimed bool
}

// Backend runs tasks by name.
type Backend interface {
	// Register makes this process's worker execute spec.Name with h. It is
	// called before Start: after it, it returns an error wrapping
	// ErrWorkerStarted. Registering a name twice is an error.
	Register(spec TaskSpec, h Handler) error

	// Known reports whether some worker executes tasks named name.
	Known(ctx context.Context, name string) (bool, error)

	// Dispatch starts a run and returns its id.
	Dispatch(ctx context.Context, d Dispatch) (runID string, err error)

	// Cancel cancels a run: its handler's context is canceled, and a run
	// not started yet never starts. Canceling an ended or unknown run is
	// not an error.
	Cancel(ctx context.Context, runID string) error

	// Start starts the worker that executes the registered tasks. stop
	// stops taking new deliveries and waits for running handlers until its
	// context ends.
	Start(ctx context.Context) (stop func(context.Context) error, err error)
}

// Batcher is implemented by backends that start many runs faster together
// than one at a time (a remote engine, where each dispatch is a network
// round trip). DispatchBatch dispatches ds and returns, for each, its run
// id or its error, in order; it follows Dispatch's contract for each.
type Batcher interface {
	DispatchBatch(ctx context.Context, ds []Dispatch) (runIDs []string, errs []error)
}

// Continuer is implemented by backends whose worker runs the dispatch a
// handler makes as its last act ([Tail]) itself, once the handler
// returned, and that let the handler name that run before it dispatches
// it: the handler has the store claim the run's record in the operation
// that completes its own (storage.Aheader), and the worker runs it
// without a store call of its own to claim it. A remote engine, which
// assigns runs to workers itself, does not implement it.
type Continuer interface {
	// NextRun reserves a new run id, unique to the backend, for the
	// dispatch the handler whose context is ctx makes as its last act
	// (with Dispatch.Run set to it), or returns "" when that dispatch
	// will not run on the handler's worker: ctx is not such a handler's,
	// or the worker is stopping. Cancel of a reserved id before the
	// dispatch makes the dispatch start nothing.
	NextRun(ctx context.Context) string
}

// finalError marks an error as not to be retried.
type finalError struct{ err error }

func (e *finalError) Error() string { return e.err.Error() }
func (e *finalError) Unwrap() error { return e.err }

// Final marks err as final: the backend does not retry the run.
func Final(err error) error {
	if err == nil {
		return nil
	}
	return &finalError{err: err}
}

// IsFinal reports whether err was marked with [Final].
func IsFinal(err error) bool {
	var f *finalError
	return errors.As(err, &f)
}

type tailKey struct{}

// Tail returns ctx marked for the dispatches a handler makes as its last
// act, right before it returns (the engine sends what follows a task this
// way). A backend may run the first such dispatch on the handler's own
// worker once the handler returned, instead of waking another worker.
// Dispatches made with an unmarked context, such as a task that starts a
// flow and waits for it, are never deferred that way.
func Tail(ctx context.Context) context.Context { return context.WithValue(ctx, tailKey{}, true) }

// IsTail reports whether ctx was marked by [Tail].
func IsTail(ctx context.Context) bool {
	v, _ := ctx.Value(tailKey{}).(bool)
	return v
}

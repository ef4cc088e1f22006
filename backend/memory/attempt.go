package memory

import (
	"context"
	"sync"
	"time"
)

// attempt is one delivery of a run. It is the handler's context, so that
// Dispatch knows which delivery it is called from, and so that a delivery
// costs one allocation at most (none for a run's first, which is part of
// the run): it is canceled by Cancel, by the end of the attempt, and when
// a stop gives up waiting. A task with a timeout gets a deadline context
// of its own under it.
type attempt struct {
	b   *Backend // the Backend that made the delivery
	run *run
	// crashed is set when a CrashBeforeDispatch fault blocked one of this
	// delivery's dispatches. Guarded by Backend.mu.
	crashed bool
	// tail is a run dispatched by the handler as its last act (see
	// backend.Tail): the worker runs it next, without the queue. Guarded
	// by Backend.mu.
	tail *run
	// reserved is the run id NextRun reserved for the attempt's tail
	// dispatch. Guarded by Backend.mu.
	reserved string
	// stopTimeout releases the timeout context of a task with a timeout.
	stopTimeout context.CancelFunc

	mu    sync.Mutex
	done  chan struct{} // made on first use
	err   error
	after map[*afterFunc]struct{}
}

type attemptKey struct{}

// afterFunc is a function registered with AfterFunc.
type afterFunc struct{ f func() }

// Deadline implements context.Context: none (a timeout is a child context).
func (a *attempt) Deadline() (time.Time, bool) { return time.Time{}, false }

// Done implements context.Context.
func (a *attempt) Done() <-chan struct{} {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.done == nil {
		a.done = make(chan struct{})
		if a.err != nil {
			close(a.done)
		}
	}
	return a.done
}

// Err implements context.Context.
func (a *attempt) Err() error {
	a.mu.Lock()
	defer a.mu.Unlock()
	return a.err
}

// Value returns the attempt itself for attemptKey.
func (a *attempt) Value(key any) any {
	if key == (attemptKey{}) {
		return a
	}
	return nil
}

// AfterFunc runs f in its own goroutine once the attempt is canceled, and
// lets package context propagate cancellation to children without a
// goroutine of its own.
func (a *attempt) AfterFunc(f func()) (stop func() bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.err != nil {
		go f()
		return func() bool { return false }
	}
	af := &afterFunc{f: f}
	if a.after == nil {
		a.after = make(map[*afterFunc]struct{})
	}
	a.after[af] = struct{}{}
	return func() bool {
		a.mu.Lock()
		defer a.mu.Unlock()
		_, ok := a.after[af]
		delete(a.after, af)
		return ok
	}
}

// end cancels the attempt once its handler returned.
func (a *attempt) end() {
	a.cancel()
	if a.stopTimeout != nil {
		a.stopTimeout()
	}
}

// cancel cancels the attempt; later calls do nothing.
func (a *attempt) cancel() {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.err != nil {
		return
	}
	a.err = context.Canceled
	if a.done != nil {
		close(a.done)
	}
	for af := range a.after {
		go af.f()
	}
	a.after = nil
}

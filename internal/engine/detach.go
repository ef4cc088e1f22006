package engine

import (
	"context"
	"sync"
	"sync/atomic"
	"time"
)

// detached is the context of the store and dispatch calls that follow a
// task: it carries the values of the handler's context but not its cancel
// or deadline, since what the task decided is recorded even when its own
// context ended (timeout, interrupt, a stop that canceled it). It carries
// the worker's halt too: the retries of a store that cannot be reached
// end when it closes (sleep), so that a stop that gave up waiting for
// its handlers does not leave them retrying for storeTimeout. A call to a
// store that answers still goes through after the halt.
//
// It looks values up in the handler's context itself rather than through
// context.WithoutCancel, whose Value allocates when it is not the
// outermost context.
type detached struct {
	values context.Context // the handler's
	halt   *halting
}

// haltKey is the key of a detached context's halt channel.
type haltKey struct{}

// detach returns the context of the calls that follow a task run with
// ctx, ended by nothing, that carries the halt of the worker running.
func (e *Engine) detach(ctx context.Context) context.Context {
	return detached{values: ctx, halt: e.halt.Load()}
}

// Deadline implements context.Context: none.
func (d detached) Deadline() (time.Time, bool) { return time.Time{}, false }

// Done implements context.Context: never closed.
func (d detached) Done() <-chan struct{} { return nil }

// Err implements context.Context: nil.
func (d detached) Err() error { return nil }

// Value implements context.Context: the handler's values, and the halt.
func (d detached) Value(key any) any {
	if key == (haltKey{}) {
		return d.halt
	}
	return d.values.Value(key)
}

// halting is a worker's halt: closed when its stop gave up waiting for
// the running handlers.
type halting struct {
	ch     chan struct{}
	once   sync.Once
	gaveUp atomic.Bool // a retry ended because of it
}

func newHalting() *halting { return &halting{ch: make(chan struct{})} }

// close halts the worker.
func (h *halting) close() { h.once.Do(func() { close(h.ch) }) }

// haltOf returns the halt ctx carries: nil outside a worker's calls.
func haltOf(ctx context.Context) *halting {
	h, _ := ctx.Value(haltKey{}).(*halting)
	return h
}

// sleep waits d, or until ctx ends or the halt it carries closes (then it
// returns false).
func sleep(ctx context.Context, d time.Duration) bool {
	t := time.NewTimer(d)
	defer t.Stop()
	var halt chan struct{}
	h := haltOf(ctx)
	if h != nil {
		halt = h.ch
	}
	select {
	case <-t.C:
		return true
	case <-ctx.Done():
		return false
	case <-halt:
		h.gaveUp.Store(true)
		return false
	}
}

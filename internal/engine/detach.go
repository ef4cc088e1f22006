package engine

import (
	"context"
	"time"
)

// detached is the context of the store and dispatch calls that follow a
// task: it carries the values of the handler's context (ctx) but not its
// cancel or deadline, since what the task decided is recorded even when
// its own context ended (timeout, interrupt), and it ends only when the
// worker halts: its stop gave up waiting for the running handlers.
//
// It looks values up in ctx itself rather than through
// context.WithoutCancel, whose Value allocates when it is not the
// outermost context. Only context.Cause sees through it: for a detached
// context it answers the handler's cause, which nothing on the store path
// asks for.
type detached struct {
	values context.Context // the handler's
	halt   context.Context
}

// detach returns the context of the calls that follow a task run with
// ctx.
func (e *Engine) detach(ctx context.Context) context.Context {
	return detached{values: ctx, halt: e.halt}
}

// Value implements context.Context: ctx's values.
func (d detached) Value(key any) any { return d.values.Value(key) }

// Deadline implements context.Context: none.
func (d detached) Deadline() (time.Time, bool) { return time.Time{}, false }

// Done implements context.Context: closed when the worker halts.
func (d detached) Done() <-chan struct{} { return d.halt.Done() }

// Err implements context.Context.
func (d detached) Err() error { return d.halt.Err() }

// AfterFunc lets the contexts made from d end with the halt without a
// goroutine each (context.WithCancel uses it).
func (d detached) AfterFunc(f func()) func() bool { return context.AfterFunc(d.halt, f) }

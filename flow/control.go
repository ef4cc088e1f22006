package flow

import (
	"context"

	"github.com/mageflow-go/mageflow/internal/engine"
	"github.com/mageflow-go/mageflow/sig"
)

// control is the lifecycle part of every handle.
type control struct {
	eng *engine.Engine
	id  string
}

// ID returns the id of the flow's root record.
func (h control) ID() string { return h.id }

// Status returns the flow's status.
func (h control) Status(ctx context.Context) (sig.Status, error) {
	r, err := h.eng.Get(ctx, h.id)
	if err != nil {
		return "", err
	}
	return r.Status, nil
}

// Suspend pauses the flow gracefully: tasks that have not started do not
// start (their input is kept), running tasks finish, chains and swarms do
// not advance. Suspending twice is fine.
func (h control) Suspend(ctx context.Context) error { return h.eng.Apply(ctx, h.id, sig.OpSuspend) }

// Interrupt pauses the flow and stops its running tasks: their context is
// canceled. A task that stops (it returns an error, such as ctx.Err())
// runs again on Resume, as its next attempt; one that returns its result
// anyway has completed, and does not run again.
func (h control) Interrupt(ctx context.Context) error {
	return h.eng.Apply(ctx, h.id, sig.OpInterrupt)
}

// Resume continues a suspended or interrupted flow where it stopped.
func (h control) Resume(ctx context.Context) error { return h.eng.Apply(ctx, h.id, sig.OpResume) }

// Cancel stops the flow for good: nothing more runs, running tasks are
// canceled, error callbacks do not fire, and Wait returns an error wrapping
// mageflow.ErrCanceled. A flow whose body already has its outcome, with
// callbacks still to run, keeps that outcome: Cancel stops the callbacks.
func (h control) Cancel(ctx context.Context) error { return h.eng.Apply(ctx, h.id, sig.OpCancel) }

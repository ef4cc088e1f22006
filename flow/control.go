package flow

import (
	"context"
	"errors"

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

// errZero is the error of a handle's method called on its zero value.
var errZero = errors.New("flow: zero handle (get one from flow.Start, flow.Sign, flow.SignSwarm or flow.Attach)")

// ready says why the handle cannot be used with ctx, or nil.
func (h control) ready(ctx context.Context) error {
	if h.eng == nil {
		return errZero
	}
	return checkCtx(ctx)
}

// checkCtx refuses a nil context.
func checkCtx(ctx context.Context) error {
	if ctx == nil {
		return errors.New("flow: nil context")
	}
	return nil
}

// apply performs op on the flow.
func (h control) apply(ctx context.Context, op sig.Op) error {
	if err := h.ready(ctx); err != nil {
		return err
	}
	return h.eng.Apply(ctx, h.id, op)
}

// Status returns the flow's status.
func (h control) Status(ctx context.Context) (sig.Status, error) {
	if err := h.ready(ctx); err != nil {
		return "", err
	}
	r, err := h.eng.Get(ctx, h.id)
	if err != nil {
		return "", err
	}
	return r.Status, nil
}

// Suspend pauses the flow gracefully: tasks that have not started do not
// start (their input is kept), running tasks finish, chains and swarms do
// not advance. Suspending twice is fine.
func (h control) Suspend(ctx context.Context) error { return h.apply(ctx, sig.OpSuspend) }

// Interrupt pauses the flow and stops its running tasks: their context is
// canceled. A task that stops (it returns an error, such as ctx.Err())
// runs again on Resume, as its next attempt; one that returns its result
// anyway has completed, and does not run again.
func (h control) Interrupt(ctx context.Context) error {
	return h.apply(ctx, sig.OpInterrupt)
}

// Resume continues a suspended or interrupted flow where it stopped.
func (h control) Resume(ctx context.Context) error { return h.apply(ctx, sig.OpResume) }

// Cancel stops the flow for good: nothing more runs, running tasks are
// canceled, error callbacks do not fire, and Wait returns an error wrapping
// mageflow.ErrCanceled. A flow whose body already has its outcome, with
// callbacks still to run, keeps that outcome: Cancel stops the callbacks.
func (h control) Cancel(ctx context.Context) error { return h.apply(ctx, sig.OpCancel) }

// Retry runs a failed flow again from where it failed, once it ended (its
// callbacks too). What ended done does not run again: a failed task runs
// again with its stored input, with all its attempts; a failed chain
// continues from its failed step, with the input that step had; a swarm
// that failed at its failure limit runs its failed items, the items the
// limit stopped and those it kept from starting, counting failures from
// zero and keeping its done items' results; nested chains and swarms
// follow the same rules. A failed callback runs again with its input;
// callbacks that fired for the earlier end fire again only for the next
// one. A task that started flows inside it starts them afresh (new ids),
// so that a failure inside them runs again too. Retry of a flow whose
// root ended and whose callbacks still run waits until they ended (as
// long as ctx allows). Wait then returns the new outcome. A retried open
// swarm (SignSwarm) runs open again, until it is closed.
//
// Retry of a flow that runs, or in which nothing failed (a swarm that
// tolerates failed items has not failed: its output holds the others'
// results), returns an error wrapping mageflow.ErrNotFailed; of a
// canceled flow, one wrapping mageflow.ErrCanceled. It is safe to repeat
// after an error whose outcome is unknown: a repeat that finds the flow
// running again reports success.
func (h control) Retry(ctx context.Context) error { return h.apply(ctx, sig.OpRetry) }

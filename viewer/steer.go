package viewer

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
)

// The errors of Steer, besides the store's (storage.ErrNotFound for a
// flow that is not stored).
var (
	// ErrNotAFlow: the id is a record of a flow, not a flow's.
	ErrNotAFlow = errors.New("viewer: not a flow id")
	// ErrEnded: the flow ended, and the operation applies only to one
	// that runs.
	ErrEnded = errors.New("viewer: flow already ended")
	// ErrNotApplicable: the operation does not apply to the flow's status
	// (resume of a flow not paused, retry of one that did not fail).
	ErrNotApplicable = errors.New("viewer: operation does not apply")
	// ErrNoWorker: no worker of the store applied the request in time.
	ErrNoWorker = errors.New("viewer: no worker applied it")
)

// applyGrace is how long after a request's deadline Steer still looks for
// it to be applied by a worker that took it in time.
const applyGrace = 500 * time.Millisecond

// Steer applies op to flow id as the tools do, and returns the flow's
// root after it. Suspend applies at once, with the store. Resume,
// interrupt, cancel and retry dispatch tasks or cancel runs, which takes
// a backend: Steer queues the request on the store (storage.Requests), a
// worker of the application (any process that called
// mageflow.Client.StartWorker on the store) applies it, and Steer waits
// until the flow shows it, for at most wait (the request expires then).
func Steer(ctx context.Context, s storage.Store, op sig.Op, id string, wait time.Duration) (*sig.Record, error) {
	r, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if r.Role != sig.RoleRoot {
		return nil, fmt.Errorf("%w: %s is a record of flow %s", ErrNotAFlow, id, r.Root)
	}
	if r.Status.Terminal() && op != sig.OpRetry {
		return nil, fmt.Errorf("%w: flow %s ended (%s), nothing to %s", ErrEnded, id, r.Status, op)
	}
	switch {
	case op == sig.OpSuspend:
		if _, err := s.Apply(ctx, id, sig.OpSuspend); err != nil {
			if errors.Is(err, storage.ErrState) {
				return nil, fmt.Errorf("%w: flow %s cannot be suspended now (%s)", ErrNotApplicable, id, r.Status)
			}
			return nil, err
		}
		return s.Get(ctx, id)
	case op == sig.OpResume && !r.Status.Paused():
		return nil, fmt.Errorf("%w: flow %s is %s, not suspended or interrupted: nothing to resume", ErrNotApplicable, id, r.Status)
	case op == sig.OpInterrupt && r.Status == sig.Interrupted:
		return nil, fmt.Errorf("%w: flow %s is already interrupted", ErrNotApplicable, id)
	case op == sig.OpRetry && (!r.Finished || r.Status == sig.Canceled):
		why := "it has not ended"
		if r.Status == sig.Canceled {
			why = "it was canceled"
		}
		return nil, fmt.Errorf("%w: flow %s is %s: %s, nothing to retry", ErrNotApplicable, id, r.Status, why)
	case op != sig.OpResume && op != sig.OpInterrupt && op != sig.OpCancel && op != sig.OpRetry:
		return nil, fmt.Errorf("%w: unknown operation %q", ErrNotApplicable, op)
	}
	if wait <= 0 {
		return nil, fmt.Errorf("viewer: %s %s: want a positive wait, got %v", op, id, wait)
	}
	before, was := r.UpdatedAt, r.Status
	q, ok := s.(storage.Requests)
	if !ok {
		return nil, errors.New("viewer: the store cannot carry requests to workers")
	}
	deadline := time.Now().Add(wait)
	if err := q.Request(ctx, id, op, deadline); err != nil {
		return nil, err
	}
	applied := func(r *sig.Record) bool {
		switch op {
		case sig.OpResume:
			return !r.Status.Paused()
		case sig.OpInterrupt:
			return r.Status == sig.Interrupted || r.Status.Terminal()
		case sig.OpRetry:
			// it runs again, or it ran and ended since (a store on a
			// clock that stands still shows only the new status)
			return !r.Finished || r.UpdatedAt.After(before) || r.Status != was
		}
		return r.Status.Terminal()
	}
	for {
		r, err := s.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		if applied(r) {
			return r, nil
		}
		// a worker that took the request by its deadline may still be
		// applying it: look a little longer before saying it was not
		if time.Now().After(deadline.Add(applyGrace)) {
			if op == sig.OpRetry {
				return nil, fmt.Errorf("%w: retry %s, within %v: nothing in the flow failed, or no worker of this store (mageflow.Client.StartWorker) took the request by then", ErrNoWorker, id, wait)
			}
			return nil, fmt.Errorf("%w: %s %s, within %v; the request expired and a worker that did not take it by then never applies it: is a worker of this store (mageflow.Client.StartWorker) running?", ErrNoWorker, op, id, wait)
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(20 * time.Millisecond):
		}
	}
}

package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"time"

	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
)

// errEnded wraps the error of an operation on a flow that ended.
var errEnded = errors.New("already ended")

// errNoWorker wraps the error of a request no worker applied in time.
var errNoWorker = errors.New("no worker applied it")

// errNotApplicable wraps the error of an operation that does not apply
// to the flow's status.
var errNotApplicable = errors.New("does not apply")

// flowRecord reads the root record of flow id, refusing other ids and
// ended flows.
func flowRecord(ctx context.Context, s storage.Store, id string, op sig.Op) (*sig.Record, error) {
	r, err := s.Get(ctx, id)
	if err != nil {
		return nil, err
	}
	if r.Role != sig.RoleRoot {
		return nil, fmt.Errorf("%w: %s is not a flow id but a record of flow %s", errUsage, id, r.Root)
	}
	if r.Status.Terminal() && op != sig.OpRetry {
		return nil, fmt.Errorf("%w: flow %s ended (%s), nothing to %s", errEnded, id, r.Status, op)
	}
	return r, nil
}

// suspend is `mageflow suspend ID`. Suspending needs no worker: nothing
// is sent, and what is running finishes its attempt.
func suspend(ctx context.Context, s storage.Store, args []string, out io.Writer) error {
	id, err := oneID(ctx, s, flag.NewFlagSet("suspend", flag.ContinueOnError), "suspend ID", args)
	if err != nil {
		return err
	}
	r, err := flowRecord(ctx, s, id, sig.OpSuspend)
	if err != nil {
		return err
	}
	if _, err := s.Apply(ctx, id, sig.OpSuspend); err != nil {
		if errors.Is(err, storage.ErrState) {
			return fmt.Errorf("%w: flow %s cannot be suspended now (%s)", errNotApplicable, id, r.Status)
		}
		return err
	}
	fmt.Fprintf(out, "suspended %s: nothing new starts until it is resumed\n", id)
	return nil
}

// applyGrace is how long after a request's deadline the command still
// looks for it to be applied by a worker that took it in time.
const applyGrace = 500 * time.Millisecond

// lifecycle returns the command of op (resume, interrupt, cancel, retry): these
// dispatch tasks or cancel runs, which takes a backend, so the command
// queues the request on the store and a worker of the application applies
// it; the command waits until the flow shows it.
func lifecycle(op sig.Op) func(context.Context, storage.Store, []string, io.Writer) error {
	return func(ctx context.Context, s storage.Store, args []string, out io.Writer) error {
		fs := flag.NewFlagSet(string(op), flag.ContinueOnError)
		wait := fs.Duration("wait", 10*time.Second, "how long to wait for a worker to apply it")
		id, err := oneID(ctx, s, fs, string(op)+" [--wait D] ID", args)
		if err != nil {
			return err
		}
		if *wait <= 0 {
			return fmt.Errorf("%w: --wait %v: want a positive wait (the request expires then)", errUsage, *wait)
		}
		r, err := flowRecord(ctx, s, id, op)
		if err != nil {
			return err
		}
		if op == sig.OpResume && !r.Status.Paused() {
			return fmt.Errorf("%w: flow %s is %s, not suspended or interrupted: nothing to resume", errNotApplicable, id, r.Status)
		}
		if op == sig.OpInterrupt && r.Status == sig.Interrupted {
			return fmt.Errorf("%w: flow %s is already interrupted", errNotApplicable, id)
		}
		if op == sig.OpRetry && (!r.Finished || r.Status == sig.Canceled) {
			why := "it has not ended"
			if r.Status == sig.Canceled {
				why = "it was canceled"
			}
			return fmt.Errorf("%w: flow %s is %s: %s, nothing to retry", errNotApplicable, id, r.Status, why)
		}
		before := r.UpdatedAt
		q, ok := s.(storage.Requests)
		if !ok {
			return fmt.Errorf("the store cannot carry requests to workers")
		}
		deadline := time.Now().Add(*wait)
		if err := q.Request(ctx, id, op, deadline); err != nil {
			return err
		}
		applied := func(r *sig.Record) bool {
			switch op {
			case sig.OpResume:
				return !r.Status.Paused()
			case sig.OpInterrupt:
				return r.Status == sig.Interrupted || r.Status.Terminal()
			case sig.OpRetry:
				// it runs again, or it ran and ended since
				return !r.Finished || r.UpdatedAt.After(before)
			}
			return r.Status.Terminal()
		}
		for {
			r, err := s.Get(ctx, id)
			if err != nil {
				return err
			}
			if applied(r) {
				fmt.Fprintf(out, "%s %s: %s\n", op, id, r.Status)
				return nil
			}
			// a worker that took the request by its deadline may still be
			// applying it: look a little longer before saying it was not
			if time.Now().After(deadline.Add(applyGrace)) {
				if op == sig.OpRetry {
					return fmt.Errorf("%w: retry %s, within %v: nothing in the flow failed, or no worker of this store (mageflow.Client.StartWorker) took the request by then", errNoWorker, id, *wait)
				}
				return fmt.Errorf("%w: %s %s, within %v; the request expired and a worker that did not take it by then never applies it: is a worker of this store (mageflow.Client.StartWorker) running?", errNoWorker, op, id, *wait)
			}
			select {
			case <-ctx.Done():
				return ctx.Err()
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
}

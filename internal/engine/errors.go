package engine

import (
	"context"
	"errors"
	"fmt"

	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
)

// The errors users match, re-exported by the root package. The engine
// translates the store's sentinels into them, once, at the calls users
// make (start, lifecycle, swarm items, reads).
var (
	// ErrNotFound: no flow or record has the id: never stored, or
	// expired.
	ErrNotFound = errors.New("mageflow: flow not found")
	// ErrStarted: a signed flow was started already.
	ErrStarted = errors.New("mageflow: flow already started")
	// ErrNotPaused: Resume of a flow that is not suspended or interrupted.
	ErrNotPaused = errors.New("mageflow: flow not paused")
	// ErrNotFailed: Retry of a flow in which nothing failed, or that has
	// not ended yet.
	ErrNotFailed = errors.New("mageflow: flow not failed")
	// ErrSwarmClosed: items added to a swarm that was closed (or is full).
	ErrSwarmClosed = errors.New("mageflow: swarm closed")
	// ErrInvalidFlow: a flow refused before anything was stored (a nil or
	// zero node, an empty chain or closed swarm, a bad config, a task no
	// worker registered or registered with other types); the error says
	// which node and why.
	ErrInvalidFlow = errors.New("mageflow: invalid flow")
)

// opError is the error of an operation users called: its message says
// what happened once, and it matches the user's sentinels and the store's
// error it stands for.
type opError struct {
	msg  string
	errs []error
}

func (e *opError) Error() string   { return e.msg }
func (e *opError) Unwrap() []error { return e.errs }

// fail returns the error of op on id: msg, matching the sentinels and
// the store's err.
func fail(op, id, msg string, err error, sentinels ...error) error {
	return &opError{msg: "mageflow: " + op + " " + id + ": " + msg, errs: append(sentinels, err)}
}

// Fail is fail for the flow package: the error of op on id, saying msg
// and matching errs.
func Fail(op, id, msg string, errs ...error) error {
	return &opError{msg: "mageflow: " + op + " " + id + ": " + msg, errs: errs}
}

// explain turns the store's error of op (start, resume, add items to, …)
// on id into the one users get: the store's sentinels become the
// engine's, with what the flow's state says; any other error (an
// unreachable or corrupt store) is wrapped as it is.
func (e *Engine) explain(ctx context.Context, op, id string, err error) error {
	switch {
	case err == nil:
		return nil
	case errors.Is(err, storage.ErrNotFound):
		return fail(op, id, "flow not found (never stored, or expired)", err, ErrNotFound)
	case errors.Is(err, storage.ErrCanceled):
		return fail(op, id, "flow canceled", err, ErrCanceled, ErrFinished)
	case errors.Is(err, storage.ErrExists):
		return fail(op, id, "flow already stored", err, ErrStarted)
	case errors.Is(err, storage.ErrState):
		r, gerr := e.store.Get(ctx, id)
		if gerr != nil {
			return fail(op, id, "does not apply", err)
		}
		if x := stateError(op, id, r, err); x != nil {
			return x
		}
		return fail(op, id, "does not apply to a "+string(r.Kind)+" that is "+string(r.Status), err)
	}
	return fmt.Errorf("mageflow: %s %s: %w", op, id, err)
}

// stateError explains a store's "does not apply" of op on record r (the
// flow's root, or the swarm items are added to), or returns nil.
func stateError(op, id string, r *sig.Record, err error) error {
	switch {
	case r.Status == sig.Canceled:
		return fail(op, id, "flow canceled", err, ErrCanceled, ErrFinished)
	case r.Status.Terminal():
		return fail(op, id, "flow already ended ("+string(r.Status)+")", err, ErrFinished)
	case op == "start" && r.Entered:
		return fail(op, id, "flow already started (it is "+string(r.Status)+")", err, ErrStarted)
	case op == string(sig.OpResume) && !r.Status.Paused():
		return fail(op, id, "flow not paused (it is "+string(r.Status)+")", err, ErrNotPaused)
	case op == "add items to" && r.Swarm != nil && (r.Swarm.Closed || r.Swarm.Config.MaxItems > 0 && r.Children >= r.Swarm.Config.MaxItems):
		return fail(op, id, "swarm closed (or at its MaxItems)", err, ErrSwarmClosed)
	}
	return nil
}

package flow

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/mageflow-go/mageflow"
	"github.com/mageflow-go/mageflow/internal/engine"
	"github.com/mageflow-go/mageflow/sig"
)

// Run is a started flow with output Out.
type Run[Out any] struct {
	control
}

// Attach returns the handle of a run started elsewhere, by its id. It
// does not read the store (it takes no context): an id that is not a run
// id is an error now, and one no flow has (never stored, or expired)
// makes the handle's Status, Wait and lifecycle operations return an
// error wrapping mageflow.ErrNotFound.
func Attach[Out any](c *mageflow.Client, id string) (*Run[Out], error) {
	eng, err := engine.From(c)
	if err != nil {
		return nil, err
	}
	if !sig.ValidID(id) || sig.RootOf(id) != id {
		return nil, fmt.Errorf("flow.Attach: %q is not a run id", id)
	}
	return &Run[Out]{control{eng: eng, id: id}}, nil
}

// Wait blocks until the run ends and returns its output. A failed run gives
// a *FailedError; a canceled one an error wrapping mageflow.ErrCanceled.
// Callbacks of the run may still be running when Wait returns.
func (r *Run[Out]) Wait(ctx context.Context) (Out, error) {
	var out Out
	if err := r.ready(ctx); err != nil {
		return out, err
	}
	rec, err := r.eng.Wait(ctx, r.id)
	if err != nil {
		return out, err
	}
	switch rec.Status {
	case sig.Done:
		if err := json.Unmarshal(rec.Result, &out); err != nil {
			return out, fmt.Errorf("mageflow: run %s: decode output: %w", r.id, err)
		}
		return out, nil
	case sig.Failed:
		fe := &FailedError{RunID: r.id}
		if rec.Error != nil {
			fe.Info = *rec.Error
		}
		return out, fe
	case sig.Canceled:
		return out, engine.Fail("wait for", r.id, "flow canceled", mageflow.ErrCanceled, mageflow.ErrFinished)
	}
	return out, errors.New("mageflow: run " + r.id + " ended in status " + string(rec.Status))
}

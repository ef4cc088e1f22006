package engine

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/mageflow-go/mageflow/storage"
)

// sentinels are the store's answers: errors that say something about the
// data, as opposed to a store that could not be reached.
var sentinels = []error{
	storage.ErrNotFound, storage.ErrExists, storage.ErrNotOwner, storage.ErrCanceled,
	storage.ErrConflict, storage.ErrState, storage.ErrCorrupt,
}

// transient reports whether err is a failure to reach the store, which
// retrying may cure.
func transient(err error) bool {
	if err == nil || errors.Is(err, context.Canceled) || errors.Is(err, context.DeadlineExceeded) {
		return false
	}
	for _, s := range sentinels {
		if errors.Is(err, s) {
			return false
		}
	}
	return true
}

// retry runs op until it succeeds, fails with a store's answer, ctx ends
// or storeTimeout passed since the first failure, waiting longer between
// tries. Every transition is idempotent for the same run, so a try whose
// answer was lost is safe to repeat.
func (e *Engine) retry(ctx context.Context, what string, op func() error) error {
	delay := 10 * time.Millisecond
	var giveUp time.Time
	for {
		err := op()
		if !transient(err) {
			return err
		}
		now := time.Now()
		if giveUp.IsZero() {
			giveUp = now.Add(storeTimeout)
		} else if now.After(giveUp) {
			return err
		}
		e.log.WarnContext(ctx, "mageflow: store unreachable; retrying", slog.String("op", what), slog.Any("error", err), slog.Duration("in", delay))
		if !sleep(ctx, delay) {
			return err
		}
		delay = min(2*delay, time.Second)
	}
}

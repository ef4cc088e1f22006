package engine

import (
	"context"
	"errors"
	"log/slog"
	"sync"
	"time"

	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
)

// The recovery of owed effects: every worker, every Sweep.Every, asks the
// store for the records whose outbox has held effects for Sweep.Grace
// (their transition's process did not deliver them: it died, the backend
// refused them, the reply was lost) and delivers them. An effect is so
// delivered at most Grace+Every after it was decided, plus the time of
// the delivery itself.
const (
	// DefaultRecoverEvery is how often a worker recovers owed effects.
	DefaultRecoverEvery = 5 * time.Second
	// DefaultRecoverGrace is how long a transition's own process has to
	// deliver what it decided before any worker does.
	DefaultRecoverGrace = 10 * time.Second
	// recoverBatch is how many records one Due call hands out.
	recoverBatch = 256
	// recoverers is how many records a worker recovers at once.
	recoverers = 8
)

// recoverLoop recovers owed effects, and keeps the graphs of running
// tasks alive, every e.sweep.Every until ctx ends.
func (e *Engine) recoverLoop(ctx context.Context) {
	t := time.NewTicker(e.sweep.Every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		e.keepAlive(ctx)
		if n, err := e.RecoverOnce(ctx); err != nil && ctx.Err() == nil {
			e.log.WarnContext(ctx, "mageflow: recover owed effects", slog.Any("error", err))
		} else if n > 0 {
			e.log.InfoContext(ctx, "mageflow: recovered owed effects", slog.Int("records", n))
		}
	}
}

// RecoverOnce delivers what the records due now owe, and returns how many
// records owed something. Its cost is that of what is owed.
func (e *Engine) RecoverOnce(ctx context.Context) (int, error) {
	total := 0
	for {
		ids, err := e.store.Due(ctx, e.sweep.Grace, recoverBatch)
		if err != nil {
			return total, err
		}
		var (
			wg   sync.WaitGroup
			mu   sync.Mutex
			errs error
			sem  = make(chan struct{}, recoverers)
		)
		for _, id := range ids {
			sem <- struct{}{}
			wg.Go(func() {
				defer func() { <-sem }()
				owed, err := e.recoverRecord(ctx, id)
				mu.Lock()
				defer mu.Unlock()
				if owed {
					total++
				}
				errs = errors.Join(errs, err)
			})
		}
		wg.Wait()
		if errs != nil || len(ids) < recoverBatch {
			return total, errs
		}
	}
}

// recoverRecord delivers what record id owes and acknowledges it.
func (e *Engine) recoverRecord(ctx context.Context, id string) (owed bool, err error) {
	eff, err := e.store.Owed(ctx, id)
	if errors.Is(err, storage.ErrNotFound) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if len(eff.Dispatches)+len(eff.Cancels)+len(eff.Flows) == 0 {
		return false, nil
	}
	if len(eff.Dispatches) > 0 && metaOf(ctx) == nil {
		// what is recovered carries the flow's metadata too
		if r, err := e.store.Get(ctx, sig.RootOf(id)); err == nil {
			ctx = withMeta(ctx, r.Metadata)
		}
	}
	return true, e.resend(ctx, eff)
}

// resendOutbox delivers what the outbox of record id still owes.
func (e *Engine) resendOutbox(ctx context.Context, id string) error {
	_, err := e.recoverRecord(ctx, id)
	return err
}

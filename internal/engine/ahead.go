package engine

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/mageflow-go/mageflow/storage"
)

// A run claimed ahead (storage.Aheader) runs on a claim with a lease of
// the recovery grace, which its worker confirms while it runs: every
// quarter of the grace, the worker confirms the claims of the attempts
// it runs that have not confirmed theirs, so that an attempt confirms
// within a quarter of the grace after it started and has two more tries
// before the lease ends. The loop runs until the backend stopped, while
// the attempts drain.

// aheadEvery is how often the worker confirms the claims made ahead of
// the attempts it runs, and how long a completion may take for the run
// it claims ahead to start on that claim.
func (e *Engine) aheadEvery() time.Duration { return max(e.sweep.Grace/4, time.Millisecond) }

// confirmLoop confirms the claims made ahead of running attempts every
// aheadEvery until ctx ends.
func (e *Engine) confirmLoop(ctx context.Context) {
	t := time.NewTicker(e.aheadEvery())
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		var ahead []*taskContext
		e.runMu.Lock()
		for c := e.running; c != nil; c = c.next {
			if c.ahead {
				ahead = append(ahead, c)
			}
		}
		e.runMu.Unlock()
		for _, c := range ahead {
			e.confirm(ctx, c)
		}
	}
}

// confirm makes the claim made ahead of attempt c its run's own; after a
// failure the next round tries again.
func (e *Engine) confirm(ctx context.Context, c *taskContext) {
	err := e.ahead.Confirm(ctx, c.info.Record, c.info.RunID)
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		if ctx.Err() == nil {
			e.log.WarnContext(ctx, "mageflow: confirm the claim of a running task", slog.String("record", c.info.Record), slog.Any("error", err))
		}
		return
	}
	e.runMu.Lock()
	c.ahead = false
	e.runMu.Unlock()
}

// unconfirmed reports whether attempt c runs on a claim made ahead that
// it has not confirmed.
func (e *Engine) unconfirmed(c *taskContext) bool {
	e.runMu.Lock()
	defer e.runMu.Unlock()
	return c.ahead
}

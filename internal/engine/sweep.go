package engine

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
	"github.com/mageflow-go/mageflow/storage/transition"
)

// sweepLoop sweeps every e.sweep.Every until ctx ends.
func (e *Engine) sweepLoop(ctx context.Context, l storage.Lister) {
	t := time.NewTicker(e.sweep.Every)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		if n, err := e.sweepOnce(ctx, l); err != nil && ctx.Err() == nil {
			e.log.Warn("mageflow: sweep", slog.String("error", err.Error()))
		} else if n > 0 {
			e.log.Info("mageflow: sweep sent what flows' starts owed", slog.Int("dispatches", n))
		}
	}
}

// sweepOnce sends the dispatches that the roots of unfinished flows still
// owe, when the root was last written more than e.sweep.Grace ago: their
// starter stored the start and did not send it. It returns how many it
// sent. Only roots are swept: a task that dies is delivered again and
// sends what its own outbox owes.
func (e *Engine) sweepOnce(ctx context.Context, l storage.Lister) (int, error) {
	sent := 0
	cursor := ""
	for {
		roots, next, err := l.Roots(ctx, cursor, 500)
		if err != nil {
			return sent, err
		}
		for _, root := range roots {
			n, err := e.sweepRoot(ctx, root)
			if err != nil && !errors.Is(err, storage.ErrNotFound) {
				return sent, err
			}
			sent += n
		}
		if next == "" {
			return sent, nil
		}
		cursor = next
	}
}

// owed returns the dispatches of outbox whose targets still wait for
// them. A lone dispatch stays in its outbox after delivery (its target's
// claim acknowledges it), so an outbox read as it is may name dispatches
// delivered long ago.
func (e *Engine) owed(ctx context.Context, outbox []sig.Dispatch) []sig.Dispatch {
	var owed []sig.Dispatch
	for _, d := range outbox {
		t, err := e.store.Get(ctx, d.Target)
		if err != nil {
			continue
		}
		if transition.Undelivered(t, d.Key) {
			owed = append(owed, d)
		}
	}
	return owed
}

// sweepRoot sends what root's outbox owes, if its grace passed.
func (e *Engine) sweepRoot(ctx context.Context, root string) (int, error) {
	r, err := e.store.Get(ctx, root)
	if err != nil {
		return 0, err
	}
	if r.Finished || len(r.Outbox) == 0 || time.Since(r.UpdatedAt) < e.sweep.Grace {
		return 0, nil
	}
	owed := e.owed(ctx, r.Outbox)
	if len(owed) == 0 {
		return 0, nil
	}
	if err := e.resend(ctx, storage.Effects{Source: root, Dispatches: owed}); err != nil {
		return 0, err
	}
	return len(owed), nil
}

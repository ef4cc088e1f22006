package engine

import (
	"context"
	"fmt"
	"log/slog"
	"time"

	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
)

// maxPoll is the longest wait between two reads of a record that Wait
// watches.
const maxPoll = time.Second

// Get returns record id.
func (e *Engine) Get(ctx context.Context, id string) (*sig.Record, error) {
	r, err := e.store.Get(ctx, id)
	if err != nil {
		return nil, e.explain(ctx, "read", id, err)
	}
	return r, nil
}

// Wait blocks until record id is terminal and returns it. It reads the
// record again when the store's notifier (if any) says it ended, and at
// growing intervals otherwise.
func (e *Engine) Wait(ctx context.Context, id string) (*sig.Record, error) {
	n, notifies := e.store.(storage.Notifier)
	delay := time.Millisecond
	spurious := 0
	for {
		r, err := e.Get(ctx, id)
		switch {
		case transient(err):
			// the store is unreachable: keep waiting for it
			e.log.WarnContext(ctx, "mageflow: wait: store unreachable", slog.String("root", id), slog.Any("error", err))
		case err != nil:
			return nil, err
		case r.Status.Terminal():
			return r, nil
		}
		woke, err := e.pause(ctx, n, notifies, id, delay)
		if err != nil {
			return nil, fmt.Errorf("mageflow: wait for %s: %w", id, err)
		}
		if woke {
			// a notifier that keeps firing before the end is not to be
			// trusted: poll instead
			if spurious++; spurious > 3 {
				notifies = false
			}
		}
		delay = min(2*delay, maxPoll)
	}
}

// pause waits until the notifier fires (woke) or a delay passes: delay
// when polling, maxPoll while the notifier watches (it then only bounds a
// lost signal).
func (e *Engine) pause(ctx context.Context, n storage.Notifier, notifies bool, id string, delay time.Duration) (woke bool, err error) {
	if !notifies {
		if !sleep(ctx, delay) {
			return false, ctx.Err()
		}
		return false, nil
	}
	wctx, cancel := context.WithCancel(ctx)
	defer cancel()
	t := time.NewTimer(maxPoll)
	defer t.Stop()
	select {
	case <-n.Ended(wctx, id):
		return ctx.Err() == nil, ctx.Err()
	case <-t.C:
		return false, nil
	case <-ctx.Done():
		return false, ctx.Err()
	}
}

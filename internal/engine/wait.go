package engine

import (
	"context"
	"fmt"
	"time"

	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
)

// Get returns record id.
func (e *Engine) Get(ctx context.Context, id string) (*sig.Record, error) {
	r, err := e.store.Get(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("mageflow: read %s: %w", id, err)
	}
	return r, nil
}

// Wait blocks until record id is terminal and returns it.
func (e *Engine) Wait(ctx context.Context, id string) (*sig.Record, error) {
	n, notifies := e.store.(storage.Notifier)
	delay := time.Millisecond
	for {
		r, err := e.Get(ctx, id)
		if err != nil {
			return nil, err
		}
		if r.Status.Terminal() {
			return r, nil
		}
		if notifies {
			select {
			case <-n.Ended(id):
				continue
			case <-ctx.Done():
				return nil, fmt.Errorf("mageflow: wait for %s: %w", id, ctx.Err())
			}
		}
		t := time.NewTimer(delay)
		select {
		case <-t.C:
		case <-ctx.Done():
			t.Stop()
			return nil, fmt.Errorf("mageflow: wait for %s: %w", id, ctx.Err())
		}
		if delay < 200*time.Millisecond {
			delay *= 2
		}
	}
}

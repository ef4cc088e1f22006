package redis

import (
	"context"

	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
)

var _ storage.Notifier = (*Store)(nil)

// endedChannel is the shard channel on which the scripts announce the ids
// of records that ended in the graph rooted at root. It carries the
// graph's hash tag, so it lives in the graph's slot.
func (s *Store) endedChannel(root string) string { return s.Key(root) + ":ended" }

// Ended implements storage.Notifier with Redis sharded pub/sub: each call
// holds one subscription until id ends or ctx ends.
func (s *Store) Ended(ctx context.Context, id string) <-chan struct{} {
	ch := make(chan struct{})
	if !sig.ValidID(id) {
		close(ch)
		return ch
	}
	go func() {
		defer close(ch)
		ps := s.c.SSubscribe(ctx, s.endedChannel(sig.RootOf(id)))
		defer func() { _ = ps.Close() }()
		if _, err := ps.Receive(ctx); err != nil { // the subscription's confirmation
			return
		}
		// subscribed: an end from now on is seen; one before, read here
		if r, err := s.Get(ctx, id); err != nil || r.Status.Terminal() {
			return
		}
		msgs := ps.Channel()
		for {
			select {
			case m, ok := <-msgs:
				if !ok || m.Payload == id {
					return
				}
			case <-ctx.Done():
				return
			}
		}
	}()
	return ch
}

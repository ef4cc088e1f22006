package redis

import (
	"context"
	"strings"

	goredis "github.com/redis/go-redis/v9"

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
		ps, err := s.subscribe(ctx, s.endedChannel(sig.RootOf(id)))
		if err != nil {
			return
		}
		defer func() { _ = ps.Close() }()
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

// subscribe subscribes to channel and waits for the confirmation: with
// sharded pub/sub, or plain pub/sub on servers without it (before Redis
// 7), where the scripts publish with PUBLISH.
func (s *Store) subscribe(ctx context.Context, channel string) (*goredis.PubSub, error) {
	if !s.plainPubSub.Load() {
		ps := s.c.SSubscribe(ctx, channel)
		_, err := ps.Receive(ctx)
		if err == nil {
			return ps, nil
		}
		_ = ps.Close()
		if !unknownCommand(err) {
			return nil, err
		}
		s.plainPubSub.Store(true)
	}
	ps := s.c.Subscribe(ctx, channel)
	if _, err := ps.Receive(ctx); err != nil {
		_ = ps.Close()
		return nil, err
	}
	return ps, nil
}

// unknownCommand reports whether err is a server's answer to a command it
// does not know.
func unknownCommand(err error) bool {
	return err != nil && strings.Contains(strings.ToLower(err.Error()), "unknown command")
}

package redis

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// ErrNotReplicated wraps the error of an operation whose writes the
// primary made but fewer replicas than [WithReplicas] asks acknowledged
// in time: its outcome is unknown, since a failover now may lose it. The
// engine repeats it, as it does any operation whose reply was lost.
var ErrNotReplicated = errors.New("storage/redis: not acknowledged by enough replicas in time; outcome unknown")

// WithReplicas makes every operation that writes wait, in the same round
// trip, until n replicas have its writes (WAIT n timeout), so that a
// failover to one of them loses nothing the store acknowledged. An
// operation that n replicas did not acknowledge within timeout returns an
// error wrapping [ErrNotReplicated]. The timeout must be well under the
// client's ReadTimeout (go-redis's default is 3s). Reads do not wait.
//
// Without it, Redis replicates asynchronously: a primary that dies right
// after a transition can take it with it, while the worker has already
// sent what followed (RELIABILITY.md, "Running Redis for mageflow").
func WithReplicas(n int, timeout time.Duration) Option {
	return func(s *Store) error {
		if n < 1 || timeout < time.Millisecond {
			return fmt.Errorf("storage/redis: WithReplicas(%d, %v): want at least one replica and a timeout of at least 1ms", n, timeout)
		}
		s.replicas, s.replicaWait = n, timeout
		return nil
	}
}

// syncTTL is how long a shard's sync key lives after its latest write.
const syncTTL = 10 * time.Second

// do sends cmd and returns its reply. With WithReplicas it pipelines,
// on the connection of cmd's node, cmd, a write of the sync key of key's
// slot, and WAIT: the sync write makes WAIT cover everything the server
// wrote before it, so that an operation that wrote nothing (a replay, or
// an error after a lost reply) still waits for what an earlier try wrote.
func (s *Store) do(ctx context.Context, key string, cmd func(goredis.Cmdable) *goredis.Cmd) (any, error) {
	if s.replicas == 0 {
		return cmd(s.c).Result()
	}
	var c goredis.Cmdable = s.c
	if cc, ok := s.c.(*goredis.ClusterClient); ok {
		n, err := cc.MasterForKey(ctx, key)
		if err != nil {
			return nil, err
		}
		c = n
	}
	var res *goredis.Cmd
	var wait *goredis.Cmd
	_, err := c.Pipelined(ctx, func(p goredis.Pipeliner) error {
		res = cmd(p)
		p.Set(ctx, s.syncKey(key), "", syncTTL)
		wait = p.Do(ctx, "WAIT", s.replicas, s.replicaWait.Milliseconds())
		return nil
	})
	if err := res.Err(); err != nil {
		if cc, ok := s.c.(*goredis.ClusterClient); ok && (goredis.HasErrorPrefix(err, "MOVED") || goredis.HasErrorPrefix(err, "ASK")) {
			cc.ReloadState(ctx) // the slot moved: the engine's next try goes to its new node
		}
		return nil, err
	}
	if err != nil {
		return nil, fmt.Errorf("%w: %v", ErrNotReplicated, err)
	}
	if got, err := wait.Int64(); err != nil || got < int64(s.replicas) {
		return nil, fmt.Errorf("%w: %d of %d replicas within %v", ErrNotReplicated, got, s.replicas, s.replicaWait)
	}
	return res.Val(), nil
}

// syncKey is the key written before each WAIT, in key's slot: one per
// shard (and one for the requests list), under the store's prefix.
func (s *Store) syncKey(key string) string {
	tag := key
	if i := strings.IndexByte(key, '{'); i >= 0 {
		if j := strings.IndexByte(key[i+1:], '}'); j > 0 {
			tag = key[i+1 : i+1+j]
		}
	}
	return s.prefix + ":{" + tag + "}!sync"
}

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
// error wrapping [ErrNotReplicated]. The timeout must be under the
// client's ReadTimeout ([New] checks it). [Store.Get] waits too, so
// that what it returns survives a failover. Not on a goredis.Ring,
// which sends WAIT to any shard.
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
// on the connection of key's master, cmd, a write of the sync key of
// key's slot, and WAIT: the sync write makes WAIT cover everything the
// server wrote before it, so that an operation that wrote nothing (a
// replay, or an answer such as "exists" after a lost reply) still waits
// for what an earlier try wrote. An answer of the store's code counts only
// once replicated, so that no caller acts on state a failover may lose.
func (s *Store) do(ctx context.Context, key string, cmd func(goredis.Cmdable) *goredis.Cmd) (any, error) {
	if s.replicas == 0 {
		return cmd(s.c).Result()
	}
	var res *goredis.Cmd
	werr := s.send(ctx, key, func(p goredis.Pipeliner) { res = cmd(p) })
	if res == nil {
		return nil, werr
	}
	val, err := res.Result()
	if err != nil && !answered(err) {
		// not run (no library, no script) or not reached: nothing to wait for
		if cc, ok := s.c.(*goredis.ClusterClient); ok && (goredis.HasErrorPrefix(err, "MOVED") || goredis.HasErrorPrefix(err, "ASK")) {
			cc.ReloadState(ctx) // the slot moved: the engine's next try goes to its new node
		}
		return nil, err
	}
	if werr != nil {
		if err != nil {
			return nil, fmt.Errorf("%w (the answer was: %v)", werr, err)
		}
		return nil, werr
	}
	return val, err
}

// send sends fn's commands in one round trip, on the connection of key's
// master where reads could go elsewhere; with WithReplicas they are
// followed by a write of key's sync key and WAIT, whose verdict send
// returns: nil, or an error wrapping ErrNotReplicated. The commands' own
// replies are theirs to read.
func (s *Store) send(ctx context.Context, key string, fn func(goredis.Pipeliner)) error {
	var c goredis.Cmdable = s.c
	if cc, ok := s.c.(*goredis.ClusterClient); ok && (s.replicas > 0 || readsReplicas(cc)) {
		n, err := cc.MasterForKey(ctx, key)
		if err != nil {
			return err
		}
		c = n
	}
	var wait *goredis.Cmd
	_, _ = c.Pipelined(ctx, func(p goredis.Pipeliner) error {
		fn(p)
		if s.replicas > 0 {
			p.Set(ctx, s.syncKey(key), "", syncTTL)
			wait = p.Do(ctx, "WAIT", s.replicas, s.replicaWait.Milliseconds())
		}
		return nil
	})
	if wait == nil {
		return nil
	}
	got, err := wait.Int64()
	if err != nil {
		return fmt.Errorf("%w: %v", ErrNotReplicated, err)
	}
	if got < int64(s.replicas) {
		return fmt.Errorf("%w: %d of %d replicas within %v", ErrNotReplicated, got, s.replicas, s.replicaWait)
	}
	return nil
}

// readsReplicas reports whether cc may send reads to replicas, which may
// not have the latest writes yet.
func readsReplicas(cc *goredis.ClusterClient) bool {
	o := cc.Options()
	return o.ReadOnly || o.RouteByLatency || o.RouteRandomly
}

// checkReplicas refuses WithReplicas where its WAIT cannot follow the
// write on the same connection (a Ring sends keyless commands to any
// shard), or where the client would give up reading before WAIT answers.
func (s *Store) checkReplicas() error {
	if s.replicas == 0 {
		return nil
	}
	var read time.Duration
	switch c := s.c.(type) {
	case *goredis.Ring:
		return errors.New("storage/redis: WithReplicas: not supported on a Ring (use a Client per server, Sentinel, or Cluster)")
	case *goredis.Client:
		read = c.Options().ReadTimeout
	case *goredis.ClusterClient:
		read = c.Options().ReadTimeout
	}
	if read > 0 && s.replicaWait >= read {
		return fmt.Errorf("storage/redis: WithReplicas: timeout %v is not under the client's ReadTimeout %v", s.replicaWait, read)
	}
	return nil
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

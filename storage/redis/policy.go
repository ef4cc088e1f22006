package redis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// ErrEvictingServer is the error of [New] on a server whose
// maxmemory-policy is not noeviction.
var ErrEvictingServer = errors.New("storage/redis: the server evicts keys when full; set maxmemory-policy noeviction")

// ErrFull wraps the store's errors when Redis refused a write for lack of
// memory (maxmemory reached under noeviction). Nothing was written; the
// operation is worth repeating once memory frees, which is what the
// engine does: flows wait, and go on.
var ErrFull = errors.New("storage/redis: Redis is full (maxmemory reached), nothing written; retry once memory frees")

// policyCheckTimeout bounds the check of the server's configuration in
// [New].
const policyCheckTimeout = 10 * time.Second

// evictingRisk is what a store made with [WithoutPolicyCheck] logs once.
const evictingRisk = "mageflow: the Redis store does not check maxmemory-policy (WithoutPolicyCheck): unless the server's policy is noeviction, a full server evicts running flows without a word"

// WithoutPolicyCheck skips [New]'s check of the server's maxmemory-policy,
// for managed services that hide INFO. Set the policy to noeviction with
// the service's own tools: any other policy lets Redis drop the keys of
// running flows when it is full (every key of the store has a TTL, so the
// volatile-* policies evict them too). The store logs that risk once, at
// its first write.
func WithoutPolicyCheck() Option {
	return func(s *Store) error {
		s.unchecked = true
		return nil
	}
}

// WithLogger makes the store log through l (by default slog.Default():
// the store logs only the risk of [WithoutPolicyCheck], once). With a nil
// logger nothing is logged.
func WithLogger(l *slog.Logger) Option {
	return func(s *Store) error {
		if l == nil {
			l = slog.New(slog.DiscardHandler)
		}
		s.log = l
		return nil
	}
}

// checkPolicy returns an error unless every master of the server has
// maxmemory-policy noeviction.
func (s *Store) checkPolicy() error {
	ctx, cancel := context.WithTimeout(context.Background(), policyCheckTimeout)
	defer cancel()
	switch c := s.c.(type) {
	case *goredis.ClusterClient:
		return c.ForEachMaster(ctx, func(ctx context.Context, n *goredis.Client) error {
			return policyOf(ctx, n, n.Options().Addr)
		})
	case *goredis.Ring:
		return c.ForEachShard(ctx, func(ctx context.Context, n *goredis.Client) error {
			return policyOf(ctx, n, n.Options().Addr)
		})
	case *goredis.Client:
		return policyOf(ctx, c, c.Options().Addr)
	}
	return policyOf(ctx, s.c, "the server")
}

// policyOf checks the maxmemory-policy the server at addr reports in
// INFO memory.
func policyOf(ctx context.Context, c goredis.Cmdable, addr string) error {
	info, err := c.Info(ctx, "memory").Result()
	if err != nil {
		if strings.Contains(err.Error(), "NOPERM") {
			return fmt.Errorf("storage/redis: check maxmemory-policy of %s: %w (grant the store's user +info, or use WithoutPolicyCheck after making sure the policy is noeviction)", addr, err)
		}
		return fmt.Errorf("storage/redis: check maxmemory-policy of %s: %w (a service that hides INFO: use WithoutPolicyCheck after making sure the policy is noeviction)", addr, err)
	}
	for _, line := range strings.Split(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "maxmemory_policy:"); ok {
			if v == "noeviction" {
				return nil
			}
			return fmt.Errorf("%w: %s has maxmemory-policy %s, which lets Redis drop the keys of running flows when it is full (every key of the store has a TTL, so the volatile-* policies evict them too); with noeviction a full server refuses writes and flows wait until memory frees", ErrEvictingServer, addr, v)
		}
	}
	return fmt.Errorf("storage/redis: check maxmemory-policy of %s: INFO memory has no maxmemory_policy (use WithoutPolicyCheck after making sure the policy is noeviction)", addr)
}

// warnUnchecked logs the risk of an unchecked policy, once.
func (s *Store) warnUnchecked() {
	s.warnOnce.Do(func() { s.log.Warn(evictingRisk) })
}

// full reports whether err is Redis refusing a write for lack of memory.
func full(err error) bool {
	// Redis 7 answers "OOM command not allowed …"; a script of Redis 6
	// raises it inside "ERR Error running script …"
	return err != nil && strings.Contains(err.Error(), "OOM command not allowed")
}

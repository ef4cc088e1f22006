package redis

import (
	"fmt"
	"strings"
	"time"
)

// DefaultPrefix starts every key of a store made without [WithPrefix].
const DefaultPrefix = "mageflow"

// Option configures a [Store].
type Option func(*Store) error

// WithPrefix starts every key with prefix instead of [DefaultPrefix], so
// that several applications, or tests, share one Redis. The prefix must
// not hold braces, which would break the hash tags.
func WithPrefix(prefix string) Option {
	return func(s *Store) error {
		if prefix == "" || strings.ContainsAny(prefix, "{}") {
			return fmt.Errorf("storage/redis: WithPrefix: %q is empty or holds a brace", prefix)
		}
		s.prefix = prefix
		return nil
	}
}

// WithClock makes the store read time from now instead of time.Now, for
// the timestamps of records. Expiry is Redis's own clock.
func WithClock(now func() time.Time) Option {
	return func(s *Store) error {
		if now == nil {
			return fmt.Errorf("storage/redis: WithClock: nil clock")
		}
		s.now = now
		return nil
	}
}

// DefaultShards is the number of shards of a store made without
// [WithShards].
const DefaultShards = 16

// WithShards spreads the store's graphs over n shards (default
// [DefaultShards]): a graph's keys carry its shard as their hash tag, so
// on Redis Cluster the graphs of a shard share a slot, and each shard
// keeps its own index of the records that owe effects, updated in the
// same script as the graph. More shards spread a cluster's load over more
// slots; each round of recovery asks every shard once. Every client of
// one store must use the same n: the shard is part of every key.
func WithShards(n int) Option {
	return func(s *Store) error {
		if n < 1 || n > 16384 {
			return fmt.Errorf("storage/redis: WithShards(%d): want 1 to 16384", n)
		}
		s.shards = n
		return nil
	}
}

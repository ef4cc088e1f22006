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

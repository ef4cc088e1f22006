// Package redistest gives this module's tests a Redis: the one named by
// MAGEFLOW_REDIS_URL (default redis://127.0.0.1:6379/0), or a 3-master
// Redis Cluster that it starts on free ports. Each test gets its own key
// prefix, removed when the test ends. When Redis cannot be reached the
// test is skipped with a message naming the variable, unless
// MAGEFLOW_REQUIRE_SERVICES=1, which makes it fail instead.
package redistest

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"os"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// DefaultURL is the Redis tests use when MAGEFLOW_REDIS_URL is not set.
const DefaultURL = "redis://127.0.0.1:6379/0"

// URL returns the Redis URL tests use.
func URL() string {
	if u := os.Getenv("MAGEFLOW_REDIS_URL"); u != "" {
		return u
	}
	return DefaultURL
}

// Required reports whether missing services fail tests instead of
// skipping them.
func Required() bool { return os.Getenv("MAGEFLOW_REQUIRE_SERVICES") == "1" }

// unavailable skips or fails t because a service is missing.
func unavailable(t testing.TB, format string, args ...any) {
	t.Helper()
	if Required() {
		t.Fatalf(format+" (MAGEFLOW_REQUIRE_SERVICES=1)", args...)
	}
	t.Skipf(format, args...)
}

// Client returns a client of the Redis at URL(), closed when t ends.
func Client(t testing.TB) *goredis.Client {
	t.Helper()
	opt, err := goredis.ParseURL(URL())
	if err != nil {
		t.Fatalf("MAGEFLOW_REDIS_URL %q: %v", URL(), err)
	}
	c := goredis.NewClient(opt)
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	if err := c.Ping(ctx).Err(); err != nil {
		_ = c.Close()
		unavailable(t, "no Redis at %s (set MAGEFLOW_REDIS_URL): %v", URL(), err)
	}
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Prefix returns a key prefix no other test uses; every key under it is
// deleted when t ends.
func Prefix(t testing.TB, c goredis.UniversalClient) string {
	t.Helper()
	var b [6]byte
	_, _ = rand.Read(b[:])
	name := strings.NewReplacer("/", "-", " ", "-", "{", "", "}", "").Replace(t.Name())
	if len(name) > 40 {
		name = name[:40]
	}
	prefix := "mftest:" + name + ":" + hex.EncodeToString(b[:])
	t.Cleanup(func() { Delete(t, c, prefix) })
	return prefix
}

// Keys returns every key under prefix, on every master of a cluster.
func Keys(t testing.TB, c goredis.UniversalClient, prefix string) []string {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var keys []string
	scan := func(ctx context.Context, n goredis.Cmdable) error {
		iter := n.Scan(ctx, 0, prefix+":*", 1000).Iterator()
		for iter.Next(ctx) {
			keys = append(keys, iter.Val())
		}
		return iter.Err()
	}
	var err error
	if cc, ok := c.(*goredis.ClusterClient); ok {
		mu := make(chan struct{}, 1)
		err = cc.ForEachMaster(ctx, func(ctx context.Context, n *goredis.Client) error {
			mu <- struct{}{}
			defer func() { <-mu }()
			return scan(ctx, n)
		})
	} else {
		err = scan(ctx, c)
	}
	if err != nil {
		t.Errorf("scan %s: %v", prefix, err)
	}
	return keys
}

// Delete removes every key under prefix.
func Delete(t testing.TB, c goredis.UniversalClient, prefix string) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	for _, k := range Keys(t, c, prefix) {
		if err := c.Del(ctx, k).Err(); err != nil {
			t.Errorf("delete %s: %v", k, err)
			return
		}
	}
}

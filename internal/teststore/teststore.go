// Package teststore gives this module's flow-level tests the store that
// MAGEFLOW_TEST_STORE names, so that one suite runs on every store:
// "memory" (the default), "redis" (the Redis of MAGEFLOW_REDIS_URL) or
// "redis-cluster" (a local 3-master cluster), or "redis-legacy" (a local
// Redis without functions or sharded pub/sub, as before Redis 7); for the
// last two the package's TestMain must call redistest.Main.
package teststore

import (
	"context"
	"os"
	"slices"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/mageflow-go/mageflow/flowsuite"
	"github.com/mageflow-go/mageflow/internal/redistest"
	memstore "github.com/mageflow-go/mageflow/storage/memory"
	redisstore "github.com/mageflow-go/mageflow/storage/redis"
)

// Kind returns the store kind tests use.
func Kind() string {
	if k := os.Getenv("MAGEFLOW_TEST_STORE"); k != "" {
		return k
	}
	return "memory"
}

// Store is a store for one test, as the flow suite takes it.
type Store = flowsuite.Store

// New returns a fresh store of Kind() for t, emptied when t ends.
func New(t testing.TB) Store {
	t.Helper()
	switch k := Kind(); k {
	case "memory":
		s := memstore.New()
		return Store{Store: s, Records: s.Len}
	case "redis":
		return Redis(t)
	case "redis-cluster":
		return redisStore(t, redistest.Cluster(t))
	case "redis-legacy":
		return redisStore(t, redistest.Legacy(t))
	default:
		t.Fatalf("MAGEFLOW_TEST_STORE=%q: want memory, redis, redis-cluster or redis-legacy", k)
		return Store{}
	}
}

// Redis returns a Redis store on the Redis of MAGEFLOW_REDIS_URL, under a
// prefix of t's own.
func Redis(t testing.TB) Store {
	t.Helper()
	return redisStore(t, redistest.Client(t))
}

func redisStore(t testing.TB, c goredis.UniversalClient) Store {
	t.Helper()
	prefix := redistest.Prefix(t, c)
	s, err := redisstore.New(c, redisstore.WithPrefix(prefix))
	if err != nil {
		t.Fatal(err)
	}
	// the flows' keys: not the hash of the tasks workers registered
	// (storage.Tasks), which lives on while workers run
	// (redisstore.TasksTTL), not with the flows
	flowKeys := func() []string {
		return slices.DeleteFunc(redistest.Keys(t, c, prefix), func(k string) bool { return k == prefix+":tasks" })
	}
	keyTTLs := func() map[string]time.Duration {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		out := map[string]time.Duration{}
		for _, k := range flowKeys() {
			d, err := c.PTTL(ctx, k).Result()
			if err != nil {
				t.Errorf("PTTL %s: %v", k, err)
				continue
			}
			if d == -2 {
				continue // expired since it was listed: it did not outlive its TTL
			}
			out[k] = d
		}
		return out
	}
	return Store{Store: s, KeyTTLs: keyTTLs, Records: func() int {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		n := 0
		for _, k := range flowKeys() {
			if h, err := c.HLen(ctx, k).Result(); err == nil {
				n += int(h)
			}
		}
		return n
	}}
}

package redis_test

import (
	"context"
	"testing"
	"time"

	"github.com/mageflow-go/mageflow/internal/redistest"
	"github.com/mageflow-go/mageflow/storage"
	redisstore "github.com/mageflow-go/mageflow/storage/redis"
)

// The tasks workers registered are one hash, <prefix>:tasks, that
// expires TasksTTL after the last worker recorded them (the test stores
// leave it out of the flows' keys by that name).
func TestTasksExpireAfterTheLastWorker(t *testing.T) {
	c := redistest.Client(t)
	prefix := redistest.Prefix(t, c)
	s, err := redisstore.New(c, redisstore.WithPrefix(prefix))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if err := s.SeeTasks(ctx, []storage.TaskInfo{{Name: "resize", In: "string", Out: "string", Seen: time.Now()}}); err != nil {
		t.Fatal(err)
	}
	key := prefix + ":tasks"
	ttl, err := c.PTTL(ctx, key).Result()
	if err != nil {
		t.Fatal(err)
	}
	if ttl <= redisstore.TasksTTL-time.Minute || ttl > redisstore.TasksTTL {
		t.Errorf("TTL of %s: %v, want %v", key, ttl, redisstore.TasksTTL)
	}
	if n, err := c.HLen(ctx, key).Result(); err != nil || n != 1 {
		t.Errorf("HLEN %s = %d, %v; want 1", key, n, err)
	}
}

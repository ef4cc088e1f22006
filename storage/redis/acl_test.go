package redis_test

import (
	"context"
	"strings"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/mageflow-go/mageflow/internal/redistest"
	"github.com/mageflow-go/mageflow/storage"
	redisstore "github.com/mageflow-go/mageflow/storage/redis"
	"github.com/mageflow-go/mageflow/storage/storagetest"
)

// workerACL is the ACL RELIABILITY.md gives workers, for the tests'
// prefix: the store's data commands under the prefix, its code, and the
// check of New.
const workerACL = "on >worker-pw ~mftest:* &mftest:* -@all +@read +@write +@scripting +@pubsub +@connection +info"

// TestConformanceAsWorkerUser runs the conformance suite as a user with
// the worker ACL of RELIABILITY.md, on a server whose function library
// the store loads itself.
func TestConformanceAsWorkerUser(t *testing.T) {
	srv := redistest.NewServer(t, "--appendonly", "no")
	ctx := context.Background()
	if err := srv.Client(t).Do(ctx, append([]any{"ACL", "SETUSER", "worker"}, fields(workerACL)...)...).Err(); err != nil {
		t.Fatalf("ACL SETUSER: %v", err)
	}
	c := goredis.NewClient(&goredis.Options{Addr: srv.Addr, Username: "worker", Password: "worker-pw"})
	t.Cleanup(func() { _ = c.Close() })
	storagetest.Run(t, func(t *testing.T) storage.Store {
		s, err := redisstore.New(c, redisstore.WithPrefix(redistest.Prefix(t, c)))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func fields(s string) []any {
	var out []any
	for _, f := range strings.Fields(s) {
		out = append(out, f)
	}
	return out
}

package redis_test

import (
	"context"
	"strings"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/mageflow-go/mageflow/internal/redistest"
	"github.com/mageflow-go/mageflow/storage"
	redisstore "github.com/mageflow-go/mageflow/storage/redis"
	"github.com/mageflow-go/mageflow/storage/storagetest"
)

// workerACL is the ACL RELIABILITY.md gives workers, for the tests'
// prefix: the store's data commands under the prefix, its code, and the
// check of New.
const workerACL = "on >worker-pw ~mftest:* &mftest:* -@all +@read +@write +@pubsub +@connection -@dangerous -function +function|load +fcall +fcall_ro +evalsha +eval +info"

// TestConformanceAsWorkerUser runs the conformance suite as a user with
// the worker ACL of RELIABILITY.md, on a server with a replica the store
// waits for and whose function library the store loads itself; the user
// may not run what could harm the server.
func TestConformanceAsWorkerUser(t *testing.T) {
	srv := redistest.NewServer(t, "--appendonly", "no")
	redistest.NewReplica(t, srv.Addr, "--appendonly", "no")
	admin := srv.Client(t)
	ctx := context.Background()
	if err := admin.Do(ctx, append([]any{"ACL", "SETUSER", "worker"}, fields(workerACL)...)...).Err(); err != nil {
		t.Fatalf("ACL SETUSER: %v", err)
	}
	for _, cmd := range [][]any{{"FLUSHALL"}, {"FLUSHDB"}, {"KEYS", "*"}, {"CLIENT", "KILL", "ID", "1"}, {"CLIENT", "PAUSE", "10"}, {"FUNCTION", "FLUSH"}, {"FUNCTION", "DELETE", "x"}, {"CONFIG", "SET", "maxmemory-policy", "allkeys-lru"}, {"SWAPDB", "0", "1"}} {
		expectDenied(t, admin, "worker", cmd...)
	}
	c := goredis.NewClient(&goredis.Options{Addr: srv.Addr, Username: "worker", Password: "worker-pw"})
	t.Cleanup(func() { _ = c.Close() })
	storagetest.Run(t, func(t *testing.T) storage.Store {
		s, err := redisstore.New(c, redisstore.WithPrefix(redistest.Prefix(t, c)), redisstore.WithReplicas(1, time.Second))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// expectDenied checks with ACL DRYRUN that user may not run cmd.
func expectDenied(t *testing.T, admin *goredis.Client, user string, cmd ...any) {
	t.Helper()
	res, err := admin.Do(context.Background(), append([]any{"ACL", "DRYRUN", user}, cmd...)...).Text()
	if err == nil && res == "OK" {
		t.Errorf("user %s may run %v", user, cmd)
	}
}

func fields(s string) []any {
	var out []any
	for _, f := range strings.Fields(s) {
		out = append(out, f)
	}
	return out
}

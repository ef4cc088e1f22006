package redis_test

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"strings"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/mageflow-go/mageflow/internal/redistest"
	redisstore "github.com/mageflow-go/mageflow/storage/redis"
)

// New refuses a server that evicts keys under memory pressure: every
// key of the store has a TTL, so even the volatile policies would drop
// running flows.
func TestNewRefusesAnEvictingServer(t *testing.T) {
	t.Parallel()
	srv := redistest.NewServer(t, "--maxmemory", "64mb")
	c := srv.Client(t)
	ctx := context.Background()
	for _, policy := range []string{"volatile-lru", "allkeys-lru", "volatile-ttl", "allkeys-random", "volatile-lfu"} {
		if err := c.ConfigSet(ctx, "maxmemory-policy", policy).Err(); err != nil {
			t.Fatal(err)
		}
		_, err := redisstore.New(c)
		if !errors.Is(err, redisstore.ErrEvictingServer) || !strings.Contains(err.Error(), "noeviction") || !strings.Contains(err.Error(), policy) {
			t.Errorf("New on a server with maxmemory-policy %s: %v; want ErrEvictingServer naming %s and noeviction", policy, err, policy)
		}
	}
	if err := c.ConfigSet(ctx, "maxmemory-policy", "noeviction").Err(); err != nil {
		t.Fatal(err)
	}
	if _, err := redisstore.New(c); err != nil {
		t.Errorf("New on a noeviction server: %v", err)
	}
}

// On a cluster every master is checked.
func TestNewChecksEveryMaster(t *testing.T) {
	t.Parallel()
	good := redistest.NewServer(t)
	bad := redistest.NewServer(t, "--maxmemory-policy", "allkeys-lru")
	cc := goredis.NewClusterClient(&goredis.ClusterOptions{
		ClusterSlots: func(ctx context.Context) ([]goredis.ClusterSlot, error) {
			return []goredis.ClusterSlot{
				{Start: 0, End: 8191, Nodes: []goredis.ClusterNode{{Addr: good.Addr}}},
				{Start: 8192, End: 16383, Nodes: []goredis.ClusterNode{{Addr: bad.Addr}}},
			}, nil
		},
	})
	t.Cleanup(func() { _ = cc.Close() })
	_, err := redisstore.New(cc)
	port := bad.Addr[strings.LastIndex(bad.Addr, ":"):]
	if !errors.Is(err, redisstore.ErrEvictingServer) || !strings.Contains(err.Error(), port+" has maxmemory-policy allkeys-lru") {
		t.Errorf("New on a cluster with one evicting master: %v; want ErrEvictingServer naming %s", err, bad.Addr)
	}
}

// WithoutPolicyCheck skips the check, for services that hide the
// server's configuration; the store logs the risk once, at its first
// write, so that tools that only read say nothing.
func TestWithoutPolicyCheckLogsTheRiskOnce(t *testing.T) {
	t.Parallel()
	srv := redistest.NewServer(t, "--maxmemory-policy", "volatile-lru")
	c := srv.Client(t)
	var logs bytes.Buffer
	log := slog.New(slog.NewTextHandler(&logs, nil))
	s, err := redisstore.New(c, redisstore.WithoutPolicyCheck(), redisstore.WithLogger(log))
	if err != nil {
		t.Fatalf("New with WithoutPolicyCheck: %v", err)
	}
	ctx := context.Background()
	_, _ = s.Get(ctx, "01M8AVWP3GWCX7WKK9VQXSBDYQ")
	if logs.Len() != 0 {
		t.Errorf("a read logged: %s", logs.String())
	}
	for range 3 {
		_, _ = s.Claim(ctx, "01M8AVWP3GWCX7WKK9VQXSBDYQ", "run")
	}
	if n := strings.Count(logs.String(), "noeviction"); n != 1 {
		t.Errorf("the risk was logged %d times, want once:\n%s", n, logs.String())
	}
}

// A user that may not read the server's INFO gets an error that says
// what to grant or to skip.
func TestNewWithoutInfoRightsSaysWhatToDo(t *testing.T) {
	t.Parallel()
	srv := redistest.NewServer(t)
	admin := srv.Client(t)
	ctx := context.Background()
	if err := admin.Do(ctx, "ACL", "SETUSER", "worker", "on", ">pw", "~*", "&*", "+@all", "-info").Err(); err != nil {
		t.Fatal(err)
	}
	c := goredis.NewClient(&goredis.Options{Addr: srv.Addr, Username: "worker", Password: "pw"})
	t.Cleanup(func() { _ = c.Close() })
	_, err := redisstore.New(c)
	if err == nil || !strings.Contains(err.Error(), "+info") || !strings.Contains(err.Error(), "WithoutPolicyCheck") {
		t.Errorf("New as a user without INFO: %v; want an error naming +info and WithoutPolicyCheck", err)
	}
}

package chaos

import (
	"context"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/mageflow-go/mageflow/internal/redistest"
)

// The proxy forwards, and once armed cuts a reply after Redis applied its
// command: the caller gets an error for a write that took effect.
func TestProxyCutsRepliesAfterRedisApplied(t *testing.T) {
	srv := redistest.NewServer(t)
	px := newProxy(t, srv.Addr)
	ctx := context.Background()
	via := goredis.NewClient(&goredis.Options{Addr: px.Addr(), MaxRetries: -1})
	defer via.Close()
	direct := goredis.NewClient(&goredis.Options{Addr: srv.Addr})
	defer direct.Close()

	if err := via.Set(ctx, "k", "1", 0).Err(); err != nil {
		t.Fatalf("through the proxy: %v", err)
	}
	px.cut(1)
	if err := via.Incr(ctx, "k").Err(); err == nil {
		t.Fatal("INCR's reply was cut, yet it returned no error")
	}
	px.cut(0)
	if got, err := direct.Get(ctx, "k").Result(); err != nil || got != "2" {
		t.Fatalf("k = %q, %v; want 2: the cut command took effect", got, err)
	}
	if got, err := via.Get(ctx, "k").Result(); err != nil || got != "2" {
		t.Fatalf("after the cut, through a new connection: %q, %v", got, err)
	}
	if px.cuts.Load() != 1 {
		t.Fatalf("%d cuts counted, want 1", px.cuts.Load())
	}
}

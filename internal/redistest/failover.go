package redistest

import (
	"context"
	"net"
	"sync/atomic"
	"testing"

	goredis "github.com/redis/go-redis/v9"
)

// Follower is a client whose new connections go to the address it
// holds, which a test's failover changes, as a Sentinel client follows
// its primary.
type Follower struct {
	*goredis.Client
	addr atomic.Value // string
}

// NewFollower returns a follower of addr, closed when t ends.
func NewFollower(t testing.TB, addr string) *Follower {
	f := &Follower{}
	f.addr.Store(addr)
	f.Client = goredis.NewClient(&goredis.Options{
		Dialer: func(ctx context.Context, network, _ string) (net.Conn, error) {
			var d net.Dialer
			return d.DialContext(ctx, network, f.addr.Load().(string))
		},
		MaxRetries: -1,
	})
	t.Cleanup(func() { _ = f.Close() })
	return f
}

// Failover kills primary, promotes replica (REPLICAOF NO ONE) and points
// f at it.
func Failover(t testing.TB, f *Follower, primary, replica *Server) {
	t.Helper()
	primary.Kill()
	rc := replica.Client(t)
	if err := rc.ReplicaOf(context.Background(), "NO", "ONE").Err(); err != nil {
		t.Fatalf("REPLICAOF NO ONE on %s: %v", replica.Addr, err)
	}
	f.addr.Store(replica.Addr)
}

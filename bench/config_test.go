package bench

import (
	"testing"
	"time"

	"github.com/mageflow-go/mageflow/internal/redistest"
	redisstore "github.com/mageflow-go/mageflow/storage/redis"
)

// serverConfig is a Redis configured as production runs it, started by
// the benchmark on a free port: its persistence, and a replica the store
// waits for or not.
type serverConfig struct {
	name string
	args []string // redis-server options
	// replica starts a replica of the server; wait makes the store wait
	// for it (WithReplicas(1, time.Second)).
	replica, wait bool
}

// serverConfigs are the configurations the report compares: the
// append-only file off, fsynced every second and on every write; and a
// primary with a replica, without and with WithReplicas(1).
var serverConfigs = []serverConfig{
	{name: "aof-no", args: []string{"--appendonly", "no"}},
	{name: "aof-everysec", args: []string{"--appendonly", "yes", "--appendfsync", "everysec"}},
	{name: "aof-always", args: []string{"--appendonly", "yes", "--appendfsync", "always"}},
	{name: "replica-nowait", args: []string{"--appendonly", "no"}, replica: true},
	{name: "replica-wait", args: []string{"--appendonly", "no"}, replica: true, wait: true},
}

// configuredStore starts cfg's server (and replica) and returns a store
// on it, with a hook counting what the store sends.
func configuredStore(b *testing.B, cfg serverConfig) (*redisstore.Store, *counter) {
	b.Helper()
	srv := redistest.NewServer(b, cfg.args...)
	if cfg.replica {
		redistest.NewReplica(b, srv.Addr, "--appendonly", "no")
	}
	c := srv.Client(b)
	cnt := &counter{}
	c.AddHook(cnt)
	opts := []redisstore.Option{redisstore.WithPrefix("bench")}
	if cfg.wait {
		opts = append(opts, redisstore.WithReplicas(1, time.Second))
	}
	s, err := redisstore.New(c, opts...)
	if err != nil {
		b.Fatal(err)
	}
	return s, cnt
}

package bench

import (
	"context"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/mageflow-go/mageflow"
	membackend "github.com/mageflow-go/mageflow/backend/memory"
	"github.com/mageflow-go/mageflow/internal/redistest"
	"github.com/mageflow-go/mageflow/storage"
	memstore "github.com/mageflow-go/mageflow/storage/memory"
	redisstore "github.com/mageflow-go/mageflow/storage/redis"
	"github.com/mageflow-go/mageflow/task"
)

// inc is the no-op task of every workload: the cost measured is the
// library's.
func incFn(ctx context.Context, n int) (int, error) { return n + 1, nil }

var inc = task.New("bench-inc", incFn)

// client returns a client on the memory backend and store s, with inc and
// tasks registered and a worker that stops when b ends.
func client(b *testing.B, s storage.Store, tasks ...task.Registrable) *mageflow.Client {
	b.Helper()
	return clientWith(b, s, nil, tasks...)
}

// clientWith is client with client options.
func clientWith(b *testing.B, s storage.Store, opts []mageflow.Option, tasks ...task.Registrable) *mageflow.Client {
	b.Helper()
	c, err := mageflow.New(membackend.New(), s, opts...)
	if err != nil {
		b.Fatal(err)
	}
	if err := c.Register(append(tasks, inc)...); err != nil {
		b.Fatal(err)
	}
	stop, err := c.StartWorker(context.Background())
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := stop(ctx); err != nil {
			b.Errorf("stop worker: %v", err)
		}
	})
	return c
}

// memoryStore returns a fresh in-memory store.
func memoryStore(b *testing.B) storage.Store { return memstore.New() }

// redisStore returns a Redis store under a prefix of b's own, and its
// client, with a hook counting what the store sends.
func redisStore(b *testing.B) (*redisstore.Store, *goredis.Client, *counter) {
	b.Helper()
	c := redistest.Client(b)
	cnt := &counter{}
	c.AddHook(cnt)
	s, err := redisstore.New(c, redisstore.WithPrefix(redistest.Prefix(b, c)))
	if err != nil {
		b.Fatal(err)
	}
	return s, c, cnt
}

// counter is a go-redis hook counting round trips (a command or a
// pipeline sent and answered) and the commands they carry, and among them
// the calls of the store's operations (FCALL, or EVALSHA/EVAL where the
// server has no functions).
type counter struct {
	trips, cmds, calls atomic.Int64
}

func isCall(cmd goredis.Cmder) bool {
	switch cmd.Name() {
	case "fcall", "evalsha", "eval":
		return true
	}
	return false
}

func (h *counter) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (h *counter) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		h.trips.Add(1)
		h.cmds.Add(1)
		if isCall(cmd) {
			h.calls.Add(1)
		}
		return next(ctx, cmd)
	}
}

func (h *counter) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		h.trips.Add(1)
		h.cmds.Add(int64(len(cmds)))
		for _, cmd := range cmds {
			if isCall(cmd) {
				h.calls.Add(1)
			}
		}
		return next(ctx, cmds)
	}
}

func (h *counter) reset() { h.trips.Store(0); h.cmds.Store(0); h.calls.Store(0) }

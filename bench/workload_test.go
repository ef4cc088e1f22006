package bench

import (
	"context"
	"runtime"
	"testing"
	"time"

	"github.com/mageflow-go/mageflow"
	"github.com/mageflow-go/mageflow/flow"
	"github.com/mageflow-go/mageflow/middleware"
	redisstore "github.com/mageflow-go/mageflow/storage/redis"
)

// Sizes of the workloads of BENCHMARKS.md.
const (
	chainSteps  = 1000
	swarmItems  = 100_000
	swarmWidth  = 1000
	redisSwarm  = 20_000 // the Redis rows use a smaller swarm, same width
	pendingSize = 10_000
)

func chainOf(n int) flow.Flow[int, int] {
	steps := make([]flow.Flow[int, int], n)
	for i := range steps {
		steps[i] = inc
	}
	return flow.Chain(steps...)
}

func swarmOf(n, width int) flow.Flow[int, []int] {
	items := make([]flow.Flow[int, int], n)
	for i := range items {
		items[i] = inc
	}
	return flow.Swarm(items...).WithConfig(flow.SwarmConfig{MaxConcurrency: width})
}

// runChain runs a chain of steps no-op tasks b.N times and reports the
// time and allocations per step.
func runChain(b *testing.B, c *mageflow.Client, steps int) {
	f := chainOf(steps)
	ctx := context.Background()
	var before, after runtime.MemStats
	runtime.ReadMemStats(&before)
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		run, err := flow.Start(ctx, c, f, 0)
		if err != nil {
			b.Fatal(err)
		}
		if out, err := run.Wait(ctx); err != nil || out != steps {
			b.Fatalf("chain: Wait = %d, %v; want %d", out, err, steps)
		}
	}
	elapsed := time.Since(start)
	b.StopTimer()
	runtime.ReadMemStats(&after)
	n := float64(b.N * steps)
	b.ReportMetric(float64(elapsed.Nanoseconds())/n, "ns/step")
	b.ReportMetric(float64(after.Mallocs-before.Mallocs)/n, "allocs/step")
	b.ReportMetric(float64(after.TotalAlloc-before.TotalAlloc)/n, "B/step")
}

// runSwarm runs a swarm of items no-op tasks, width at once, b.N times
// and reports items per second.
func runSwarm(b *testing.B, c *mageflow.Client, items, width int) {
	f := swarmOf(items, width)
	ctx := context.Background()
	b.ResetTimer()
	start := time.Now()
	for range b.N {
		run, err := flow.Start(ctx, c, f, 0)
		if err != nil {
			b.Fatal(err)
		}
		if out, err := run.Wait(ctx); err != nil || len(out) != items {
			b.Fatalf("swarm: Wait = %d items, %v; want %d", len(out), err, items)
		}
	}
	b.StopTimer()
	b.ReportMetric(float64(b.N*items)/time.Since(start).Seconds(), "items/s")
}

// BenchmarkChainSteps is a chain of 1,000 no-op steps on the memory backend
// and store, and the same 1,000 calls of the task's function made
// directly, for the ratio.
func BenchmarkChainSteps(b *testing.B) {
	b.Run("memory", func(b *testing.B) {
		runChain(b, client(b, memoryStore(b)), chainSteps)
	})
	b.Run("memory-middleware", func(b *testing.B) {
		// the cost of the middleware path: one middleware that does
		// nothing but run the task
		noop := middleware.Func(func(ctx context.Context, x *middleware.Execution, next func(context.Context) error) error {
			return next(ctx)
		})
		runChain(b, clientWith(b, memoryStore(b), []mageflow.Option{mageflow.WithMiddleware(noop)}), chainSteps)
	})
	b.Run("direct", func(b *testing.B) {
		ctx := context.Background()
		b.ResetTimer()
		start := time.Now()
		for range b.N {
			n := 0
			for range chainSteps {
				n, _ = incFn(ctx, n)
			}
			if n != chainSteps {
				b.Fatal(n)
			}
		}
		b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(b.N*chainSteps), "ns/step")
	})
	onRedis(b, func(b *testing.B, c *mageflow.Client) { runChain(b, c, chainSteps) })
}

// BenchmarkSwarmItems is a swarm of no-op items, 1,000 at once: 100,000 items
// on the memory backend and store, 20,000 with the Redis store.
func BenchmarkSwarmItems(b *testing.B) {
	b.Run("memory", func(b *testing.B) {
		runSwarm(b, client(b, memoryStore(b)), swarmItems, swarmWidth)
	})
	onRedis(b, func(b *testing.B, c *mageflow.Client) { runSwarm(b, c, redisSwarm, swarmWidth) })
}

// reportTrips reports, per store operation, the Redis calls of the
// store's code (each a round trip of one command: FCALL), all round
// trips and all commands; and the operations per task run. Round trips
// that are no store operation (the notifier's subscription, a first
// FUNCTION LOAD) make trips/op exceed calls/op slightly. A task run ends
// in one complete or fail; ops/task is the store operations per run.
func reportTrips(b *testing.B, hook *counter, cs *countingStore) {
	ops := float64(cs.ops())
	b.ReportMetric(float64(hook.calls.Load())/ops, "calls/op")
	b.ReportMetric(float64(hook.trips.Load())/ops, "trips/op")
	b.ReportMetric(float64(hook.cmds.Load())/ops, "cmds/op")
	b.ReportMetric(ops/float64(cs.runs()), "ops/task")
}

// BenchmarkRedisPendingItem stores a swarm of 10,000 items, signed and
// not started, and reports the Redis memory each pending item takes
// (MEMORY USAGE of the graph's key, over the same swarm of 1 item).
func BenchmarkRedisPendingItem(b *testing.B) {
	b.Run("redis", func(b *testing.B) {
		s, rc, _ := redisStore(b)
		c := client(b, s)
		ctx := context.Background()
		usage := func(items int) int64 {
			sw, err := flow.SignSwarm(ctx, c, swarmOf(items, swarmWidth))
			if err != nil {
				b.Fatal(err)
			}
			n, err := rc.MemoryUsage(ctx, s.Key(sw.ID()), 0).Result() // 0: every field
			if err != nil {
				b.Fatal(err)
			}
			return n
		}
		for range b.N {
			one, many := usage(1), usage(pendingSize+1)
			b.ReportMetric(float64(many-one)/pendingSize, "B/item")
		}
	})
}

// onRedis runs workload as sub-benchmarks on Redis stores: "redis" on the
// Redis of MAGEFLOW_REDIS_URL, then on each of serverConfigs' servers,
// with the round trips and store operations it made.
func onRedis(b *testing.B, workload func(*testing.B, *mageflow.Client)) {
	run := func(b *testing.B, s *redisstore.Store, hook *counter) {
		cs := &countingStore{Store: s}
		c := client(b, cs)
		hook.reset()
		cs.reset()
		workload(b, c)
		reportTrips(b, hook, cs)
	}
	b.Run("redis", func(b *testing.B) {
		s, _, hook := redisStore(b)
		run(b, s, hook)
	})
	for _, cfg := range serverConfigs {
		b.Run(cfg.name, func(b *testing.B) {
			s, hook := configuredStore(b, cfg)
			run(b, s, hook)
		})
	}
}

package flow_test

import (
	"context"
	"testing"
	"time"

	"github.com/mageflow-go/mageflow"
	membackend "github.com/mageflow-go/mageflow/backend/memory"
	"github.com/mageflow-go/mageflow/flow"
	"github.com/mageflow-go/mageflow/flowsuite"
	"github.com/mageflow-go/mageflow/internal/teststore"
	"github.com/mageflow-go/mageflow/task"
)

var noop = task.New("noop", func(ctx context.Context, n int) (int, error) { return n + 1, nil })

// benchClient is a client on the memory backend and the store
// MAGEFLOW_TEST_STORE names (memory by default), with a worker.
func benchClient(b *testing.B) *mageflow.Client {
	b.Helper()
	return flowsuite.NewEnv(b, membackend.New(), teststore.New(b), nil, noop).Client
}

// BenchmarkChainStep measures one step of a 100-step chain of no-op tasks
// on the memory backend, from start to the result.
func BenchmarkChainStep(b *testing.B) {
	const steps = 100
	c := benchClient(b)
	chain := make([]flow.Flow[int, int], steps)
	for i := range chain {
		chain[i] = noop
	}
	f := flow.Chain(chain...)
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		run, err := flow.Start(ctx, c, f, 0)
		if err != nil {
			b.Fatal(err)
		}
		if out, err := run.Wait(ctx); err != nil || out != steps {
			b.Fatalf("Wait = %d, %v", out, err)
		}
	}
	b.ReportMetric(float64(time.Since(start).Nanoseconds())/float64(b.N*steps), "ns/step")
}

// BenchmarkSwarmItems measures a swarm of 10,000 no-op items with
// concurrency 1,000 on the memory backend.
func BenchmarkSwarmItems(b *testing.B) {
	const items = 10_000
	c := benchClient(b)
	its := make([]flow.Flow[int, int], items)
	for i := range its {
		its[i] = noop
	}
	f := flow.Swarm(its...).WithConfig(flow.SwarmConfig{MaxConcurrency: 1000})
	ctx := context.Background()
	b.ReportAllocs()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		run, err := flow.Start(ctx, c, f, 0)
		if err != nil {
			b.Fatal(err)
		}
		if out, err := run.Wait(ctx); err != nil || len(out) != items {
			b.Fatalf("Wait = %d items, %v", len(out), err)
		}
	}
	b.ReportMetric(float64(b.N*items)/time.Since(start).Seconds(), "items/s")
}

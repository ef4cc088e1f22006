package otelmageflow_test

import (
	"context"
	"runtime"
	"testing"
	"time"

	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/mageflow-go/mageflow"
	membackend "github.com/mageflow-go/mageflow/backend/memory"
	"github.com/mageflow-go/mageflow/flow"
	otelmageflow "github.com/mageflow-go/mageflow/otel"
	memstore "github.com/mageflow-go/mageflow/storage/memory"
	"github.com/mageflow-go/mageflow/task"
)

var inc = task.New("inc", func(ctx context.Context, n int) (int, error) { return n + 1, nil })

// BenchmarkChainSteps is bench's BenchmarkChainSteps/memory (a chain of
// 1,000 no-op steps on the memory backend and store) with the middleware
// installed (its spans batched to an exporter that drops them, as a
// batching exporter does its work off the step's path, its metrics
// aggregated), and without it, for the cost the middleware adds to a
// step.
func BenchmarkChainSteps(b *testing.B) {
	b.Run("plain", func(b *testing.B) { runChain(b, nil) })
	b.Run("otel", func(b *testing.B) {
		tp := sdktrace.NewTracerProvider(sdktrace.WithBatcher(tracetest.NewNoopExporter()))
		defer tp.Shutdown(context.Background())
		mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewManualReader()))
		runChain(b, []mageflow.Option{mageflow.WithMiddleware(otelmageflow.New(otelmageflow.WithTracerProvider(tp), otelmageflow.WithMeterProvider(mp)))})
	})
}

func runChain(b *testing.B, opts []mageflow.Option) {
	const steps = 1000
	c, err := mageflow.New(membackend.New(), memstore.New(), opts...)
	if err != nil {
		b.Fatal(err)
	}
	if err := c.Register(inc); err != nil {
		b.Fatal(err)
	}
	ctx := context.Background()
	stop, err := c.StartWorker(ctx)
	if err != nil {
		b.Fatal(err)
	}
	defer stop(ctx)
	fs := make([]flow.Flow[int, int], steps)
	for i := range fs {
		fs[i] = inc
	}
	f := flow.Chain(fs...)
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
			b.Fatalf("Wait = %d, %v", out, err)
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

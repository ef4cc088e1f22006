package hatchet_test

import (
	"context"
	"fmt"
	"sync/atomic"
	"testing"
	"time"

	v0client "github.com/hatchet-dev/hatchet/pkg/client"
	sdk "github.com/hatchet-dev/hatchet/sdks/go"
	"github.com/rs/zerolog"

	"github.com/mageflow-go/mageflow"
	hatchetbackend "github.com/mageflow-go/mageflow/backend/hatchet"
	"github.com/mageflow-go/mageflow/backend/hatchet/internal/hatchettest"
	"github.com/mageflow-go/mageflow/flow"
	"github.com/mageflow-go/mageflow/flowsuite"
	"github.com/mageflow-go/mageflow/internal/teststore"
	"github.com/mageflow-go/mageflow/task"
)

// The benchmarks here put mageflow on Hatchet beside Hatchet's own DAG and
// fan-out, on the same local engine in the same run, with no-op tasks and
// the same worker slots. Run them from backend/hatchet with
//
//	go test -run '^$' -bench . -benchtime 3x .

const (
	benchSteps = 20
	benchItems = 500
	benchSlots = 100
)

type num struct {
	N int `json:"n"`
}

// benchClient is a mageflow client on Hatchet with the Redis store, whose
// worker runs noop.
func benchClient(b *testing.B, noop task.Registrable) *mageflow.Client {
	b.Helper()
	be := newBackendWith(b, hatchetbackend.WithSlots(benchSlots, benchSlots))
	return flowsuite.NewEnv(b, be, teststore.Redis(b), nil, noop).Client
}

// BenchmarkChain20 is a 20-step chain of no-op tasks through mageflow.
func BenchmarkChain20(b *testing.B) {
	noop := task.New("noop", func(ctx context.Context, n int) (int, error) { return n + 1, nil })
	c := benchClient(b, noop)
	steps := make([]flow.Flow[int, int], benchSteps)
	for i := range steps {
		steps[i] = noop
	}
	f := flow.Chain(steps...)
	ctx := context.Background()
	run := func() {
		r, err := flow.Start(ctx, c, f, 0)
		if err != nil {
			b.Fatal(err)
		}
		if out, err := r.Wait(ctx); err != nil || out != benchSteps {
			b.Fatalf("Wait = %d, %v", out, err)
		}
	}
	run() // warm the engine's queue for the task
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		run()
	}
	b.ReportMetric(float64(time.Since(start).Milliseconds())/float64(b.N*benchSteps), "ms/step")
}

// BenchmarkHatchetDAG20 is Hatchet's own DAG of 20 no-op tasks, each the
// parent of the next (WithParents).
func BenchmarkHatchetDAG20(b *testing.B) {
	hc, ns := hatchetClient(b)
	wf := hc.NewWorkflow("dag")
	var prev *sdk.Task
	for i := 0; i < benchSteps; i++ {
		opts := []sdk.TaskOption{}
		if prev != nil {
			opts = append(opts, sdk.WithParents(prev))
		}
		prev = wf.NewTask(fmt.Sprintf("step-%d", i), func(hctx sdk.Context, in num) (num, error) {
			return num{N: in.N + 1}, nil
		}, opts...)
	}
	startWorker(b, hc, ns, wf)
	ctx := context.Background()
	run := func() {
		if _, err := wf.Run(ctx, num{}); err != nil {
			b.Fatal(err)
		}
	}
	run()
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		run()
	}
	b.ReportMetric(float64(time.Since(start).Milliseconds())/float64(b.N*benchSteps), "ms/step")
}

// BenchmarkSwarm500 is a swarm of 500 no-op items (concurrency 500)
// through mageflow.
func BenchmarkSwarm500(b *testing.B) {
	noop := task.New("noop", func(ctx context.Context, n int) (int, error) { return n + 1, nil })
	c := benchClient(b, noop)
	items := make([]flow.Flow[int, int], benchItems)
	for i := range items {
		items[i] = noop
	}
	f := flow.Swarm(items...).WithConfig(flow.SwarmConfig{MaxConcurrency: benchItems})
	ctx := context.Background()
	warm, err := flow.Start(ctx, c, noop, 0)
	if err != nil {
		b.Fatal(err)
	}
	if _, err := warm.Wait(ctx); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		r, err := flow.Start(ctx, c, f, 0)
		if err != nil {
			b.Fatal(err)
		}
		if out, err := r.Wait(ctx); err != nil || len(out) != benchItems {
			b.Fatalf("Wait = %d items, %v", len(out), err)
		}
	}
	b.ReportMetric(float64(b.N*benchItems)/time.Since(start).Seconds(), "items/s")
}

// BenchmarkHatchetFanout500 is Hatchet's own fan-out: 500 runs of a no-op
// standalone task triggered at once (RunMany), until all of them ran.
// (Awaiting each run's result through the SDK hangs on some runs, so the
// runs are counted as they execute.)
func BenchmarkHatchetFanout500(b *testing.B) {
	hc, ns := hatchetClient(b)
	var ran atomic.Int64
	noop := hc.NewStandaloneTask("noop", func(hctx sdk.Context, in num) (num, error) {
		ran.Add(1)
		return num{N: in.N + 1}, nil
	})
	startWorker(b, hc, ns, noop)
	ctx := context.Background()
	if _, err := noop.Run(ctx, num{}); err != nil {
		b.Fatal(err)
	}
	inputs := make([]sdk.RunManyOpt, benchItems)
	for i := range inputs {
		inputs[i] = sdk.RunManyOpt{Input: num{N: i}}
	}
	b.ResetTimer()
	start := time.Now()
	for i := 0; i < b.N; i++ {
		want := ran.Load() + benchItems
		if _, err := noop.RunMany(ctx, inputs); err != nil {
			b.Fatal(err)
		}
		deadline := time.Now().Add(5 * time.Minute)
		for ran.Load() < want {
			if time.Now().After(deadline) {
				b.Fatalf("%d of %d runs ran in 5 minutes", ran.Load()-want+benchItems, benchItems)
			}
			time.Sleep(5 * time.Millisecond) // polling a counter in a benchmark loop
		}
	}
	b.ReportMetric(float64(b.N*benchItems)/time.Since(start).Seconds(), "items/s")
}

// hatchetClient returns a plain Hatchet client on the local engine, in a
// namespace of its own.
func hatchetClient(b *testing.B) (*sdk.Client, string) {
	b.Helper()
	dev := hatchettest.Engine(b)
	ns := fmt.Sprintf("b%d", time.Now().UnixNano())
	envMu.Lock()
	defer envMu.Unlock()
	setEnv(dev)
	hc, err := hatchetbackend.NewClient(v0client.WithNamespace(ns))
	if err != nil {
		b.Fatal(err)
	}
	return hc, ns
}

// startWorker starts a Hatchet worker for workflows and waits for it to
// take work.
func startWorker(b *testing.B, hc *sdk.Client, ns string, workflows ...sdk.WorkflowBase) {
	b.Helper()
	quiet := zerolog.Nop()
	w, err := hc.NewWorker("bench-"+ns, sdk.WithWorkflows(workflows...), sdk.WithSlots(benchSlots), sdk.WithLogger(&quiet))
	if err != nil {
		b.Fatal(err)
	}
	cleanup, err := w.Start()
	if err != nil {
		b.Fatal(err)
	}
	// stopping before the worker registered would panic in the SDK: the
	// warm-up run each benchmark makes first proves it did
	b.Cleanup(func() { _ = cleanup() })
}

package flow_test

import (
	"context"
	"log/slog"
	"sync/atomic"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/mageflow-go/mageflow"
	membackend "github.com/mageflow-go/mageflow/backend/memory"
	"github.com/mageflow-go/mageflow/flow"
	"github.com/mageflow-go/mageflow/flowsuite"
	"github.com/mageflow-go/mageflow/internal/redistest"
	"github.com/mageflow-go/mageflow/storage"
	redisstore "github.com/mageflow-go/mageflow/storage/redis"
	"github.com/mageflow-go/mageflow/task"
)

// TestFlowsSurviveARedisRestart kills the Redis store's server while
// chains and a swarm run, starts it again, and checks that every flow
// finishes with the right result and every callback fired once.
func TestFlowsSurviveARedisRestart(t *testing.T) {
	if testing.Short() {
		t.Skip("starts and kills a redis-server")
	}
	t.Parallel()
	srv := redistest.NewServer(t)
	rc := goredis.NewClient(&goredis.Options{Addr: srv.Addr, MaxRetries: -1})
	t.Cleanup(func() { _ = rc.Close() })
	s, err := redisstore.New(rc)
	if err != nil {
		t.Fatal(err)
	}
	var steps atomic.Int64
	killAt := make(chan struct{})
	restarted := make(chan struct{})
	step := task.New("step", func(ctx context.Context, n int) (int, error) {
		if steps.Add(1) == 30 {
			close(killAt)
			<-restarted // finish while the store is back
		}
		return n + 1, nil
	})
	var callbacks atomic.Int64
	cb := task.New("cb", func(ctx context.Context, xs []int) (int, error) { callbacks.Add(1); return len(xs), nil })
	e, warned := runClient(t, s, step, cb)
	c := e.Client
	ctx := testCtx(t)

	steps10 := make([]flow.Flow[int, int], 10)
	for i := range steps10 {
		steps10[i] = step
	}
	chain := flow.Chain(steps10...)
	var runs []*flow.Run[[]int]
	for i := 0; i < 4; i++ {
		sw := flow.OnSuccess(flow.Swarm(chain, chain, chain).WithConfig(flow.SwarmConfig{MaxConcurrency: 2}), cb)
		run, err := flow.Start(ctx, c, sw, i*100)
		if err != nil {
			t.Fatal(err)
		}
		runs = append(runs, run)
	}
	<-killAt
	srv.Kill()
	srv.Start(t)
	close(restarted)
	waitRuns(t, ctx, s, runs, 10)
	if n := callbacks.Load(); n != 4 {
		t.Fatalf("%d success callbacks fired, want 4", n)
	}
	if n := steps.Load(); n < 4*3*10 {
		t.Fatalf("%d steps ran, want at least %d", n, 4*3*10)
	}
	if warned.warnings.Load() == 0 {
		t.Fatal("no store operation failed: the restart happened while nothing talked to Redis")
	}
}

// countingHandler is a slog handler that counts warnings.
type countingHandler struct{ warnings atomic.Int64 }

func (h *countingHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelWarn }
func (h *countingHandler) Handle(_ context.Context, r slog.Record) error {
	h.warnings.Add(1)
	return nil
}
func (h *countingHandler) WithAttrs([]slog.Attr) slog.Handler { return h }
func (h *countingHandler) WithGroup(string) slog.Handler      { return h }

// runClient returns a client over the memory backend and s that runs
// tasks, with its worker started (and stopped when t ends), and the
// handler counting the warnings it logs.
func runClient(t *testing.T, s storage.Store, tasks ...task.Registrable) (flowsuite.Env, *countingHandler) {
	t.Helper()
	warned := &countingHandler{}
	opts := []mageflow.Option{mageflow.WithLogger(slog.New(warned))}
	return flowsuite.NewEnv(t, membackend.New(), flowsuite.Store{Store: s}, opts, tasks...), warned
}

// waitRuns waits for each of runs, the i-th started with input i*100,
// and checks that every item of its output is i*100+steps; then waits
// until each graph, callbacks included, ended.
func waitRuns(t *testing.T, ctx context.Context, s storage.Store, runs []*flow.Run[[]int], steps int) {
	t.Helper()
	for i, run := range runs {
		out, err := run.Wait(ctx)
		if err != nil {
			t.Fatalf("run %d: %v", i, err)
		}
		for _, v := range out {
			if v != i*100+steps {
				t.Fatalf("run %d: output %v, want each item %d", i, out, i*100+steps)
			}
		}
	}
	for _, run := range runs {
		flowsuite.Eventually(t, "the graph to end", func() bool {
			r, err := s.Get(ctx, run.ID())
			return err == nil && r.Finished
		})
	}
}

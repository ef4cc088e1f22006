package bench

import (
	"context"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mageflow-go/mageflow"
	membackend "github.com/mageflow-go/mageflow/backend/memory"
	"github.com/mageflow-go/mageflow/flow"
	"github.com/mageflow-go/mageflow/internal/redistest"
	redisstore "github.com/mageflow-go/mageflow/storage/redis"
	"github.com/mageflow-go/mageflow/task"
)

// mageflowWorkers is the size of the memory backend's goroutine pool, and
// the concurrency cap of the swarms.
const mageflowWorkers = 100

// peerStep is the no-op step of the mageflow side of the workloads.
var peerStep = task.New("peer-step", func(ctx context.Context, n int) (int, error) { return n + 1, nil })

// mageflowPeer is a mageflow client on the memory backend, with a worker
// of mageflowWorkers goroutines, and the Redis store under a key prefix of
// its own, deleted when the test ends.
type mageflowPeer struct {
	c     *mageflow.Client
	sum   task.Task[[]int, int]
	done  chan int // the sums the callback saw
	fired atomic.Int64
	end   func(context.Context) error
	halt  sync.Once
}

func newMageflow(tb testing.TB) *mageflowPeer {
	tb.Helper()
	rc := redistest.Client(tb) // skips or fails when Redis does not answer
	store, err := redisstore.New(rc, redisstore.WithPrefix(redistest.Prefix(tb, rc)))
	if err != nil {
		tb.Fatal(err)
	}
	c, err := mageflow.New(membackend.New(membackend.WithWorkers(mageflowWorkers)), store)
	if err != nil {
		tb.Fatal(err)
	}
	p := &mageflowPeer{c: c, done: make(chan int, 16)}
	p.sum = task.New("peer-sum", func(ctx context.Context, xs []int) (int, error) {
		s := 0
		for _, x := range xs {
			s += x
		}
		p.fired.Add(1)
		select {
		case p.done <- s:
		default:
		}
		return s, nil
	})
	if err := c.Register(peerStep, p.sum); err != nil {
		tb.Fatal(err)
	}
	if p.end, err = c.StartWorker(context.Background()); err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { p.stop(tb) })
	// one task through, so that connections and scripts are ready before
	// any timing
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if out, err := p.chain(tb, 1)(ctx); err != nil || out != 1 {
		tb.Fatalf("mageflow: warm-up task = %d, %v", out, err)
	}
	return p
}

func (p *mageflowPeer) chain(tb testing.TB, n int) func(ctx context.Context) (int, error) {
	steps := make([]flow.Flow[int, int], n)
	for i := range steps {
		steps[i] = peerStep
	}
	f := flow.Chain(steps...)
	return func(ctx context.Context) (int, error) {
		run, err := flow.Start(ctx, p.c, f, 0)
		if err != nil {
			return 0, err
		}
		return run.Wait(ctx)
	}
}

func (p *mageflowPeer) chord(tb testing.TB, n int) func(ctx context.Context) (int, error) {
	items := make([]flow.Flow[int, int], n)
	for i := range items {
		items[i] = peerStep
	}
	f := flow.OnSuccess(flow.Swarm(items...).WithConfig(flow.SwarmConfig{MaxConcurrency: mageflowWorkers}), p.sum)
	drain(p.done)
	return func(ctx context.Context) (int, error) {
		run, err := flow.Start(ctx, p.c, f, 0)
		if err != nil {
			return 0, err
		}
		ctx, cancel := context.WithCancel(ctx)
		defer cancel()
		failed := make(chan error, 1)
		go func() {
			// a failed swarm never calls back: say so at once
			if _, err := run.Wait(ctx); err != nil && ctx.Err() == nil {
				failed <- err
			}
		}()
		select {
		case s := <-p.done:
			return s, nil
		case err := <-failed:
			return 0, fmt.Errorf("mageflow: swarm of %d: %w", n, err)
		case <-ctx.Done():
			return 0, fmt.Errorf("mageflow: swarm of %d: %w: %w", n, errNoCallback, ctx.Err())
		}
	}
}

func (p *mageflowPeer) callbacks() int64 { return p.fired.Load() }

// stop stops the worker, which waits for the tasks it runs.
func (p *mageflowPeer) stop(tb testing.TB) {
	p.halt.Do(func() {
		ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
		defer cancel()
		if err := p.end(ctx); err != nil {
			tb.Errorf("mageflow: stop worker: %v", err)
		}
	})
}

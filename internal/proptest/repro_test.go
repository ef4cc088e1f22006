package proptest

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mageflow-go/mageflow"
	membackend "github.com/mageflow-go/mageflow/backend/memory"
	"github.com/mageflow-go/mageflow/flow"
	memstore "github.com/mageflow-go/mageflow/storage/memory"
	"github.com/mageflow-go/mageflow/task"
)

// TestFailedInnerSwarmKeepsOuterCap is the reproduction of what
// TestSwarmCapHolds found at commit 147d2ea (fixed by 459d2f0, which
// stops the running items of a swarm at its failure limit): a swarm that
// reached its failure limit failed at once, but its items already running
// went on. Inside an item of an outer swarm, the outer item ended with it
// and freed its slot while the inner items still ran: the outer swarm, of
// MaxConcurrency 1, then had two items running.
//
//	swarm[cap=1](then(swarm[stop=1](fail, block), sum), next)
//
// block waits until next starts, its run is canceled, or 3 s pass; next
// fails the test when block's record is still active as it starts.
func TestFailedInnerSwarmKeepsOuterCap(t *testing.T) {
	t.Parallel()
	nextStarted := make(chan struct{})
	st := memstore.New()
	var blockID atomic.Value
	fail := task.New("fail", func(ctx context.Context, n int) (int, error) {
		return 0, task.NonRetryable(errors.New("no"))
	})
	block := task.New("block", func(ctx context.Context, n int) (int, error) {
		info, _ := task.Info(ctx)
		blockID.Store(info.Record)
		select {
		case <-nextStarted:
		case <-ctx.Done():
		case <-time.After(3 * time.Second):
		}
		return n, nil
	})
	next := task.New("next", func(ctx context.Context, n int) (int, error) {
		defer close(nextStarted)
		id, _ := blockID.Load().(string)
		if id == "" {
			return n, nil // block never started: nothing overlaps
		}
		r, err := st.Get(ctx, id)
		if err != nil {
			t.Errorf("read block's record: %v", err)
		} else if !r.Status.Terminal() {
			t.Errorf("item 1 of a swarm of MaxConcurrency 1 started while item 0's task %s is %s", id, r.Status)
		}
		return n, nil
	})
	sum := task.New("sum", func(ctx context.Context, xs []int) (int, error) { return len(xs), nil })
	c, err := mageflow.New(membackend.New(), st)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Register(fail, block, next, sum); err != nil {
		t.Fatal(err)
	}
	stop, err := c.StartWorker(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = stop(context.Background()) }()
	inner := flow.Then(flow.Swarm(fail, block).WithConfig(flow.SwarmConfig{StopAfterNFailures: 1}), sum)
	outer := flow.Swarm(inner, next).WithConfig(flow.SwarmConfig{MaxConcurrency: 1})
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	run, err := flow.Start(ctx, c, outer, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := run.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	// the graph finishes once block returned
	if err := waitFinished(ctx, st, run.ID()); err != nil {
		t.Fatal(err)
	}
}

package flow_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mageflow-go/mageflow/flow"
	"github.com/mageflow-go/mageflow/flowsuite"
	"github.com/mageflow-go/mageflow/internal/redistest"
	"github.com/mageflow-go/mageflow/storage"
	redisstore "github.com/mageflow-go/mageflow/storage/redis"
	"github.com/mageflow-go/mageflow/task"
)

// notReplicated counts the store's operations that returned
// ErrNotReplicated.
type notReplicated struct {
	storage.Store
	n atomic.Int64
}

func (s *notReplicated) count(err error) {
	if errors.Is(err, redisstore.ErrNotReplicated) {
		s.n.Add(1)
	}
}

func (s *notReplicated) Claim(ctx context.Context, id, run string) (storage.Claim, error) {
	c, err := s.Store.Claim(ctx, id, run)
	s.count(err)
	return c, err
}

func (s *notReplicated) Complete(ctx context.Context, id, run string, out []byte) (storage.Effects, error) {
	e, err := s.Store.Complete(ctx, id, run, out)
	s.count(err)
	return e, err
}

// TestFlowsSurviveAFailoverWithReplicas runs chains and swarms on a
// primary whose replica is cut off mid-run, so that the store's writes
// are not acknowledged; the primary then dies and the replica is
// promoted (with a replica of its own). With WithReplicas(1, …) nothing
// the store acknowledged is lost: every flow finishes with its result
// and every callback fires once.
func TestFlowsSurviveAFailoverWithReplicas(t *testing.T) {
	if testing.Short() {
		t.Skip("starts three redis-servers and fails one over")
	}
	t.Parallel()
	primary := redistest.NewServer(t, "--appendonly", "no")
	link := redistest.NewLink(t, primary.Addr)
	replica := redistest.NewReplica(t, link.Addr, "--appendonly", "no")
	rc := redistest.NewFollower(t, primary.Addr)
	rs, err := redisstore.New(rc.Client, redisstore.WithReplicas(1, 100*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	s := &notReplicated{Store: rs}
	var steps atomic.Int64
	cutAt := make(chan struct{})
	failedOver := make(chan struct{})
	step := task.New("step", func(ctx context.Context, n int) (int, error) {
		if steps.Add(1) == 40 {
			close(cutAt)
			<-failedOver
		}
		return n + 1, nil
	})
	var callbacks atomic.Int64
	cb := task.New("cb", func(ctx context.Context, xs []int) (int, error) { callbacks.Add(1); return len(xs), nil })
	e, warned := runClient(t, s, step, cb)
	c := e.Client
	ctx := testCtx(t)

	chain := flow.Chain(step, step, step, step, step)
	const swarms = 6
	var runs []*flow.Run[[]int]
	for i := range swarms {
		sw := flow.OnSuccess(flow.Swarm(chain, chain, chain).WithConfig(flow.SwarmConfig{MaxConcurrency: 2}), cb)
		run, err := flow.Start(ctx, c, sw, i*100)
		if err != nil {
			t.Fatal(err)
		}
		runs = append(runs, run)
	}
	<-cutAt
	link.Cut()
	flowsuite.Eventually(t, "writes to go unacknowledged", func() bool { return s.n.Load() > 0 })
	began := time.Now()
	redistest.Failover(t, rc, primary, replica)
	redistest.NewReplica(t, replica.Addr, "--appendonly", "no")
	// the worker stops before the new replica goes (cleanups run last
	// first): without a replica every write is refused as not
	// replicated, and a handler still running would retry until the
	// stop gave up on it
	t.Cleanup(e.Stop)
	close(failedOver)
	waitRuns(t, ctx, s, runs, 5)
	if n := callbacks.Load(); n != swarms {
		t.Fatalf("%d success callbacks fired, want %d", n, swarms)
	}
	t.Logf("failover: %d flows of %d steps finished %v after it; %d steps ran (%d more than once), %d claims and completes refused as not replicated, %d store warnings",
		swarms, 15, time.Since(began).Round(time.Millisecond), steps.Load(), steps.Load()-swarms*15, s.n.Load(), warned.warnings.Load())
}

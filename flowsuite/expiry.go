package flowsuite

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/mageflow-go/mageflow"
	"github.com/mageflow-go/mageflow/flow"
	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
	"github.com/mageflow-go/mageflow/task"
)

// testNothingOutlivesItsTTL runs many flows of every shape (chains,
// swarms, callbacks, failures, a cancel) with a short done TTL, checks
// that every key the store holds has a TTL, and that once the done TTL
// passed nothing is left.
func testNothingOutlivesItsTTL(t *testing.T, h Harness) {
	t.Parallel()
	flaky := task.New("flaky", func(ctx context.Context, n int) (int, error) {
		if n%3 == 0 {
			return 0, errors.New("multiple of three")
		}
		return n, nil
	})
	alert := task.New("alert", func(ctx context.Context, f flow.Failure[int]) (int, error) { return f.Input, nil })
	sumAll := task.New("sum-all", func(ctx context.Context, xs []int) (int, error) { return len(xs), nil })
	hold := make(chan struct{})
	defer close(hold)
	wait := task.New("wait", func(ctx context.Context, n int) (int, error) {
		select {
		case <-hold:
		case <-ctx.Done():
		}
		return n, nil
	})
	e := h.setupWith(t, []mageflow.Option{mageflow.WithTTL(time.Hour, mageflow.MinDoneTTL)}, double, inc, flaky, alert, sumAll, wait)
	c, st := e.Client, e
	ctx := testCtx(t)

	shapes := []flow.Flow[int, int]{
		flow.Then(double, inc),
		flow.OnError(flow.Then(inc, flaky), alert),
		flow.OnSuccess(flow.Then(flow.Swarm(double, flaky, inc).WithConfig(flow.SwarmConfig{MaxConcurrency: 2}), sumAll), double),
		flow.OnError(flow.Then(flow.Swarm(flaky, flaky).WithConfig(flow.SwarmConfig{StopAfterNFailures: 1}), sumAll), alert),
	}
	var ids []string
	for i := 0; i < 40; i++ {
		run, err := flow.Start(ctx, c, shapes[i%len(shapes)], i)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = run.Wait(ctx) // failures are part of the mix
		ids = append(ids, run.ID())
	}
	canceled, err := flow.Start(ctx, c, flow.Then(wait, double), 1)
	if err != nil {
		t.Fatal(err)
	}
	if err := canceled.Cancel(ctx); err != nil {
		t.Fatal(err)
	}
	ids = append(ids, canceled.ID())
	if q, ok := st.Store.(storage.Requests); ok {
		// a request no worker will take (its flow ended) leaves nothing
		// behind once its deadline passed
		if err := q.Request(ctx, canceled.ID(), sig.OpResume, time.Now().Add(mageflow.MinDoneTTL)); err != nil {
			t.Fatal(err)
		}
	}

	if st.KeyTTLs != nil {
		ttls := st.KeyTTLs()
		if len(ttls) == 0 {
			t.Fatal("no keys found under the test's prefix")
		}
		for k, d := range ttls {
			if d < 0 || d > time.Hour { // 0: expiring this millisecond
				t.Errorf("key %s has TTL %v", k, d)
			}
		}
	}
	// once every graph ended and its done TTL passed, nothing is left
	Eventually(t, "every flow to expire", func() bool {
		for _, id := range ids {
			if _, err := st.Store.Get(ctx, id); !errors.Is(err, storage.ErrNotFound) {
				return false
			}
		}
		return true
	})
	if st.KeyTTLs != nil {
		if left := st.KeyTTLs(); len(left) != 0 {
			t.Fatalf("%d keys left after the done TTL: %v", len(left), fmt.Sprint(left))
		}
	}
}

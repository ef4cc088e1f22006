package mageflow_test

import (
	"context"
	"testing"
	"time"

	"github.com/mageflow-go/mageflow"
	membackend "github.com/mageflow-go/mageflow/backend/memory"
	"github.com/mageflow-go/mageflow/flow"
	"github.com/mageflow-go/mageflow/sig"
	memstore "github.com/mageflow-go/mageflow/storage/memory"
	"github.com/mageflow-go/mageflow/task"
)

// WithKindTTL is a floor for every graph that holds a node of its kind:
// all of such a graph's records get it, and graphs without one keep the
// default.
func TestWithKindTTLIsAFloorOfTheGraphsThatHoldTheKind(t *testing.T) {
	store := memstore.New()
	c, err := mageflow.New(membackend.New(), store,
		mageflow.WithTTL(time.Hour, 10*time.Minute),
		mageflow.WithKindTTL(sig.KindSwarm, 48*time.Hour, 10*time.Minute))
	if err != nil {
		t.Fatal(err)
	}
	inc := task.New("inc", func(ctx context.Context, n int) (int, error) { return n + 1, nil })
	ctx := context.Background()
	expiry := func(f flow.Flow[int, int], id func(root string) string) time.Duration {
		t.Helper()
		s, err := flow.Sign(ctx, c, f)
		if err != nil {
			t.Fatal(err)
		}
		r, err := store.Get(ctx, id(s.ID()))
		if err != nil {
			t.Fatal(err)
		}
		return time.Until(r.ExpiresAt)
	}
	step0 := func(root string) string { return sig.ChildID(root, 0) }
	sum := task.New("sum", func(ctx context.Context, xs []int) (int, error) { return len(xs), nil })
	if err := c.Register(inc, sum); err != nil {
		t.Fatal(err)
	}
	if d := expiry(flow.Then(inc, inc), step0); d > time.Hour || d < 59*time.Minute {
		t.Errorf("a chain of tasks expires in %v, want the default active TTL of 1h", d)
	}
	if d := expiry(flow.Then(flow.Then(flow.Swarm(inc), sum), inc), func(root string) string { return sig.ChildID(root, 1) }); d < 47*time.Hour {
		t.Errorf("a task of a chain that holds a swarm expires in %v, want the swarm's 48h", d)
	}
}

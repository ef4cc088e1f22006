package flow_test

import (
	"context"
	"testing"
	"time"

	"github.com/mageflow-go/mageflow"
	membackend "github.com/mageflow-go/mageflow/backend/memory"
	"github.com/mageflow-go/mageflow/flow"
	"github.com/mageflow-go/mageflow/internal/teststore"
	memstore "github.com/mageflow-go/mageflow/storage/memory"
	"github.com/mageflow-go/mageflow/task"
)

// A process that stored a flow's start and died before sending its first
// dispatches leaves them in the root's outbox: a worker with WithSweep
// sends them, and the flow runs once.
func TestSweepSendsWhatADeadStarterOwed(t *testing.T) {
	inc := task.New("inc", func(ctx context.Context, n int) (int, error) { return n + 1, nil })
	store := teststore.New(t).Store // the store MAGEFLOW_TEST_STORE names
	c, err := mageflow.New(membackend.New(), store, mageflow.WithSweep(10*time.Millisecond, 0))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Register(inc); err != nil {
		t.Fatal(err)
	}
	stop, err := c.StartWorker(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer stop(context.Background())

	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	sig, err := flow.Sign(ctx, c, flow.Chain[int](inc, inc))
	if err != nil {
		t.Fatal(err)
	}
	// The start, stored; its dispatch never sent.
	if _, err := store.StartGraph(ctx, sig.ID(), []byte("1")); err != nil {
		t.Fatal(err)
	}
	run, err := flow.Attach[int](c, sig.ID())
	if err != nil {
		t.Fatal(err)
	}
	if out, err := run.Wait(ctx); err != nil || out != 3 {
		t.Fatalf("Wait = %d, %v; want 3 once the sweep sent the start", out, err)
	}
}

func TestWithSweepRejectsBadDurations(t *testing.T) {
	for _, o := range []mageflow.Option{mageflow.WithSweep(0, 0), mageflow.WithSweep(time.Second, -time.Second)} {
		if _, err := mageflow.New(membackend.New(), memstore.New(), o); err == nil {
			t.Error("WithSweep with a zero interval or a negative grace was accepted")
		}
	}
}

package flow_test

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mageflow-go/mageflow"
	"github.com/mageflow-go/mageflow/backend"
	membackend "github.com/mageflow-go/mageflow/backend/memory"
	"github.com/mageflow-go/mageflow/flow"
	"github.com/mageflow-go/mageflow/flowsuite"
	"github.com/mageflow-go/mageflow/internal/teststore"
	"github.com/mageflow-go/mageflow/task"
)

// refusing is the memory backend refusing some dispatches, as a task
// queue under load answers some calls with an error.
type refusing struct {
	*membackend.Backend
	mu     sync.Mutex
	refuse func(n int) bool // of the n-th dispatch, from 1
	n      int
}

var errBusy = errors.New("queue busy")

func (r *refusing) Dispatch(ctx context.Context, d backend.Dispatch) (string, error) {
	r.mu.Lock()
	r.n++
	no := r.refuse(r.n)
	r.mu.Unlock()
	if no {
		return "", errBusy
	}
	return r.Backend.Dispatch(ctx, d)
}

// A dispatch refused once is sent again: the flow starts, and every item
// runs once.
func TestStartSendsARefusedDispatchAgain(t *testing.T) {
	var runs atomic.Int64
	inc := task.New("inc", func(ctx context.Context, n int) (int, error) { runs.Add(1); return n + 1, nil })
	b := &refusing{Backend: membackend.New(), refuse: func(n int) bool { return n == 2 || n == 3 }}
	c := flowsuite.NewEnv(t, b, teststore.New(t), nil, inc).Client
	ctx := testCtx(t)
	run, err := flow.Start(ctx, c, flow.Swarm[int, int](inc, inc, inc, inc), 1)
	if err != nil {
		t.Fatalf("Start with two dispatches refused once: %v", err)
	}
	out, err := run.Wait(ctx)
	if err != nil || len(out) != 4 {
		t.Fatalf("Wait = %v, %v; want four outputs", out, err)
	}
	if n := runs.Load(); n != 4 {
		t.Errorf("items ran %d times, want 4", n)
	}
}

// A dispatch refused for longer than the engine's send tries does not fail
// the start: the flow is stored and its dispatch stays owed, and once the
// backend takes dispatches again a worker's recovery sends it: the flow
// runs once.
func TestStartKeepsADispatchRefusedForLongOwed(t *testing.T) {
	var runs atomic.Int64
	inc := task.New("inc", func(ctx context.Context, n int) (int, error) { runs.Add(1); return n + 1, nil })
	var open atomic.Bool
	b := &refusing{Backend: membackend.New(), refuse: func(int) bool { return !open.Load() }}
	c := flowsuite.NewEnv(t, b, teststore.New(t), []mageflow.Option{mageflow.WithSweep(20*time.Millisecond, 50*time.Millisecond)}, inc).Client
	ctx := testCtx(t)
	run, err := flow.Start(ctx, c, flow.Flow[int, int](inc), 1)
	if err != nil {
		t.Fatalf("Start with its dispatch refused for long = %v, want the run", err)
	}
	b.mu.Lock()
	tries := b.n
	b.mu.Unlock()
	if tries < 2 {
		t.Errorf("the dispatch was tried %d times, want more than once", tries)
	}
	open.Store(true)
	if out, err := run.Wait(ctx); err != nil || out != 2 {
		t.Fatalf("Wait = %d, %v; want 2 once recovery sent the start", out, err)
	}
	if n := runs.Load(); n != 1 {
		t.Errorf("the task ran %d times, want 1", n)
	}
}

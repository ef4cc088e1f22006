package flowsuite

import (
	"context"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/mageflow-go/mageflow"
	"github.com/mageflow-go/mageflow/flow"
	"github.com/mageflow-go/mageflow/task"
)

// Tasks many tests use.
var (
	double  = task.New("double", func(ctx context.Context, n int) (int, error) { return 2 * n, nil })
	inc     = task.New("inc", func(ctx context.Context, n int) (int, error) { return n + 1, nil })
	show    = task.New("show", func(ctx context.Context, n int) (string, error) { return strconv.Itoa(n), nil })
	sumInts = task.New("sum-ints", func(ctx context.Context, xs []int) (int, error) {
		s := 0
		for _, x := range xs {
			s += x
		}
		return s, nil
	})
)

// Recorder counts task calls by label, safe for concurrent use.
type Recorder struct {
	mu    sync.Mutex
	calls map[string]int
	order []string
}

// NewRecorder returns an empty Recorder.
func NewRecorder() *Recorder { return &Recorder{calls: make(map[string]int)} }

// Add records a call of label.
func (r *Recorder) Add(label string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls[label]++
	r.order = append(r.order, label)
}

// Count returns how many calls of label were recorded.
func (r *Recorder) Count(label string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls[label]
}

// Eventually polls cond every millisecond until it holds, failing t after
// a deadline.
func Eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(time.Duration(waitFor.Load()))
	defer deadline.Stop()
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-tick.C:
		case <-deadline.C:
			t.Fatalf("timed out waiting for %s", what)
		}
	}
}

// WaitEnded waits until the graph of run id ended: root terminal and every
// callback finished, so that counts of calls are final.
func (e Env) WaitEnded(t *testing.T, id string) {
	t.Helper()
	Eventually(t, "graph "+id+" to end", func() bool {
		r, err := e.Store.Get(context.Background(), id)
		if err != nil {
			t.Fatalf("read root %s: %v", id, err)
		}
		return r.Finished
	})
}

// Calls returns a copy of the counts by label.
func (r *Recorder) Calls() map[string]int {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := make(map[string]int, len(r.calls))
	for k, v := range r.calls {
		out[k] = v
	}
	return out
}

// Order returns the labels in the order they were recorded.
func (r *Recorder) Order() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	return append([]string(nil), r.order...)
}

// startAwaiting starts f on input 1 and returns its run once started
// closes or receives (f's task began), failing t if ctx ends first.
func startAwaiting[Out any](t *testing.T, ctx context.Context, c *mageflow.Client, f flow.Flow[int, Out], started <-chan struct{}) *flow.Run[Out] {
	t.Helper()
	run, err := flow.Start(ctx, c, f, 1)
	if err != nil {
		t.Fatal(err)
	}
	select {
	case <-started:
	case <-ctx.Done():
		t.Fatal("the task did not start")
	}
	return run
}

package flow_test

import (
	"context"
	"sync"
	"testing"
	"time"

	"github.com/mageflow-go/mageflow"
	membackend "github.com/mageflow-go/mageflow/backend/memory"
	"github.com/mageflow-go/mageflow/internal/redistest"
	"github.com/mageflow-go/mageflow/internal/teststore"
	"github.com/mageflow-go/mageflow/task"
)

// env is a client on the memory backend and store with a running worker.
type env struct {
	c       *mageflow.Client
	backend *membackend.Backend
	store   teststore.Store
}

// TestMain stops the local Redis Cluster some runs start.
func TestMain(m *testing.M) { redistest.Main(m) }

// setup returns a client that executes tasks, stopped at the end of t.
func setup(t *testing.T, tasks ...task.Registrable) env {
	t.Helper()
	b := membackend.New()
	s := teststore.New(t)
	c, err := mageflow.New(b, s)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Register(tasks...); err != nil {
		t.Fatal(err)
	}
	stop, err := c.StartWorker(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if err := stop(ctx); err != nil {
			t.Errorf("stop worker: %v", err)
		}
	})
	return env{c: c, backend: b, store: s}
}

// testCtx is a context bounded well within the test's time.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

// recorder counts task calls by label, safe for concurrent use.
type recorder struct {
	mu    sync.Mutex
	calls map[string]int
	order []string
}

func newRecorder() *recorder { return &recorder{calls: make(map[string]int)} }

func (r *recorder) add(label string) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.calls[label]++
	r.order = append(r.order, label)
}

func (r *recorder) count(label string) int {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.calls[label]
}

// eventually polls cond every millisecond until it holds, failing t after
// a deadline.
func eventually(t *testing.T, what string, cond func() bool) {
	t.Helper()
	deadline := time.NewTimer(15 * time.Second)
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

// waitEnded waits until the graph of run id ended: root terminal and every
// callback finished, so that counts of calls are final.
func (e env) waitEnded(t *testing.T, id string) {
	t.Helper()
	eventually(t, "graph "+id+" to end", func() bool {
		r, err := e.store.Get(context.Background(), id)
		if err != nil {
			t.Fatalf("read root %s: %v", id, err)
		}
		return r.Finished
	})
}

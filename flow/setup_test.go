package flow_test

import (
	"context"
	"testing"
	"time"

	"github.com/mageflow-go/mageflow"
	membackend "github.com/mageflow-go/mageflow/backend/memory"
	memstore "github.com/mageflow-go/mageflow/storage/memory"
	"github.com/mageflow-go/mageflow/task"
)

// env is a client on the memory backend and store with a running worker.
type env struct {
	c       *mageflow.Client
	backend *membackend.Backend
	store   *memstore.Store
}

// setup returns a client that executes tasks, stopped at the end of t.
func setup(t *testing.T, tasks ...task.Registrable) env {
	t.Helper()
	b := membackend.New()
	s := memstore.New()
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

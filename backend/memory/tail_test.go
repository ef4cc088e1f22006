package memory_test

import (
	"context"
	"testing"

	"github.com/mageflow-go/mageflow/backend"
	"github.com/mageflow-go/mageflow/backend/memory"
)

// A dispatch made with backend.Tail runs once its handler returned, on
// that worker; any other dispatch from a handler starts while the handler
// still runs, on another worker.
func TestTailDispatchWaitsForItsHandler(t *testing.T) {
	t.Parallel()
	for _, tail := range []bool{true, false} {
		b := setup(t, memory.WithWorkers(2))
		started := make(chan struct{}, 1)
		register(t, b, backend.TaskSpec{Name: "next"}, func(context.Context, backend.Delivery) error {
			started <- struct{}{}
			return nil
		})
		returned := make(chan struct{})
		register(t, b, backend.TaskSpec{Name: "first"}, func(ctx context.Context, _ backend.Delivery) error {
			defer close(returned)
			dctx := ctx
			if tail {
				dctx = backend.Tail(ctx)
			}
			if _, err := b.Dispatch(dctx, backend.Dispatch{Task: "next"}); err != nil {
				return err
			}
			if tail {
				quiet(t, started, "start of a tail dispatch before its handler returned")
			} else {
				recv(t, started, "start of a dispatch while its handler runs")
			}
			return nil
		})
		start(t, b)
		dispatch(t, b, backend.Dispatch{Task: "first"})
		recv(t, returned, "handler return")
		if tail {
			recv(t, started, "start of the tail dispatch")
		}
	}
}

func TestTailDispatchCanceledNeverRuns(t *testing.T) {
	t.Parallel()
	b := setup(t, memory.WithWorkers(1))
	h, got := recorder(succeed)
	register(t, b, backend.TaskSpec{Name: "next"}, h)
	register(t, b, backend.TaskSpec{Name: "first"}, func(ctx context.Context, _ backend.Delivery) error {
		id, err := b.Dispatch(backend.Tail(ctx), backend.Dispatch{Task: "next"})
		if err != nil {
			return err
		}
		return b.Cancel(ctx, id)
	})
	start(t, b)
	dispatch(t, b, backend.Dispatch{Task: "first"})
	ctx, cancel := context.WithTimeout(t.Context(), waitTimeout)
	defer cancel()
	if err := b.WaitIdle(ctx); err != nil {
		t.Fatal(err)
	}
	quiet(t, got, "delivery of a canceled tail dispatch")
	if s := b.Stats(); s.Canceled != 1 || s.Delivered != 1 {
		t.Errorf("stats %+v; want 1 canceled, 1 delivered", s)
	}
}

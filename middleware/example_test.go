package middleware_test

import (
	"context"
	"fmt"
	"sync"

	"github.com/mageflow-go/mageflow"
	membackend "github.com/mageflow-go/mageflow/backend/memory"
	"github.com/mageflow-go/mageflow/flow"
	"github.com/mageflow-go/mageflow/middleware"
	memstore "github.com/mageflow-go/mageflow/storage/memory"
	"github.com/mageflow-go/mageflow/task"
)

// audit notes every attempt and its outcome, and every flow's end.
type audit struct {
	mu    sync.Mutex
	lines []string
	ended chan string
}

func (a *audit) Execute(ctx context.Context, x *middleware.Execution, next func(context.Context) error) error {
	err := next(ctx)
	a.mu.Lock()
	defer a.mu.Unlock()
	a.lines = append(a.lines, fmt.Sprintf("%s attempt %d: %v %s", x.Task, x.Attempt, err, x.Result))
	return err
}

func (a *audit) Ended(ctx context.Context, e middleware.End) {
	a.ended <- fmt.Sprintf("flow %s ended %s", e.Name, e.Status)
}

func Example() {
	ctx := context.Background()
	double := task.New("double", func(ctx context.Context, n int) (int, error) { return 2 * n, nil })
	a := &audit{ended: make(chan string, 1)}
	c, err := mageflow.New(membackend.New(), memstore.New(), mageflow.WithMiddleware(a))
	if err != nil {
		fmt.Println(err)
		return
	}
	if err := c.Register(double); err != nil {
		fmt.Println(err)
		return
	}
	stop, err := c.StartWorker(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer stop(ctx)
	run, err := flow.Start(ctx, c, flow.Named("quadruple", flow.Then(double, double)), 5)
	if err != nil {
		fmt.Println(err)
		return
	}
	out, err := run.Wait(ctx)
	fmt.Println(out, err)
	a.mu.Lock()
	for _, l := range a.lines {
		fmt.Println(l)
	}
	a.mu.Unlock()
	// the worker that ended the flow tells its middlewares after the
	// store did (Wait may return first)
	fmt.Println(<-a.ended)
	// Output:
	// 20 <nil>
	// double attempt 1: <nil> 10
	// double attempt 1: <nil> 20
	// flow quadruple ended done
}

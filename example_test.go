package mageflow_test

import (
	"context"
	"fmt"
	"strconv"

	"github.com/mageflow-go/mageflow"
	membackend "github.com/mageflow-go/mageflow/backend/memory"
	"github.com/mageflow-go/mageflow/flow"
	memstore "github.com/mageflow-go/mageflow/storage/memory"
	"github.com/mageflow-go/mageflow/task"
)

func Example() {
	ctx := context.Background()
	double := task.New("double", func(ctx context.Context, n int) (int, error) { return 2 * n, nil })
	show := task.New("show", func(ctx context.Context, n int) (string, error) { return strconv.Itoa(n), nil })

	// The embedded default: tasks run in this process, state is kept in
	// memory.
	c, err := mageflow.New(membackend.New(), memstore.New())
	if err != nil {
		fmt.Println(err)
		return
	}
	// This process's worker runs double and show.
	if err := c.Register(double, show); err != nil {
		fmt.Println(err)
		return
	}
	stop, err := c.StartWorker(ctx)
	if err != nil {
		fmt.Println(err)
		return
	}
	defer stop(ctx)

	// Start stores the flow and dispatches its first task; Wait blocks
	// until it ends.
	run, err := flow.Start(ctx, c, flow.Then(double, show), 21)
	if err != nil {
		fmt.Println(err)
		return
	}
	out, err := run.Wait(ctx)
	fmt.Printf("%q %v\n", out, err)
	// Output: "42" <nil>
}

package mageflow_test

import (
	"context"
	"fmt"
	"strconv"
	"time"

	"github.com/mageflow-go/mageflow"
	membackend "github.com/mageflow-go/mageflow/backend/memory"
	"github.com/mageflow-go/mageflow/flow"
	"github.com/mageflow-go/mageflow/sig"
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

// A graph's records expire together, with the largest TTLs of the kinds of
// node it holds: WithKindTTL(sig.KindSwarm, …) is a floor for every graph
// that holds a swarm, and leaves the others alone.
func ExampleWithKindTTL() {
	ctx := context.Background()
	store := memstore.New()
	c, _ := mageflow.New(membackend.New(), store,
		mageflow.WithTTL(time.Hour, 10*time.Minute),
		mageflow.WithKindTTL(sig.KindSwarm, 48*time.Hour, 10*time.Minute))
	inc := task.New("inc", func(ctx context.Context, n int) (int, error) { return n + 1, nil })
	sum := task.New("sum", func(ctx context.Context, xs []int) (int, error) { return len(xs), nil })
	_ = c.Register(inc, sum)

	expiresIn := func(id string) time.Duration {
		r, _ := store.Get(ctx, id)
		return time.Until(r.ExpiresAt).Round(time.Hour)
	}
	chain, _ := flow.Sign(ctx, c, flow.Then(inc, inc))
	withSwarm, _ := flow.Sign(ctx, c, flow.Then(flow.Swarm(inc), sum))
	fmt.Println("a chain's step:", expiresIn(sig.ChildID(chain.ID(), 0)))
	fmt.Println("the step of a chain that holds a swarm:", expiresIn(sig.ChildID(withSwarm.ID(), 1)))
	// Output:
	// a chain's step: 1h0m0s
	// the step of a chain that holds a swarm: 48h0m0s
}

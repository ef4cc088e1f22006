package memory_test

import (
	"context"
	"fmt"

	"github.com/mageflow-go/mageflow/backend"
	"github.com/mageflow-go/mageflow/backend/memory"
)

func Example() {
	ctx := context.Background()
	b := memory.New()
	done := make(chan string, 1)
	_ = b.Register(backend.TaskSpec{Name: "greet", Retries: 2}, func(ctx context.Context, d backend.Delivery) error {
		done <- fmt.Sprintf("%s %s, attempt %d of %d", d.Task, d.Payload, d.Attempt, d.MaxAttempts)
		return nil
	})
	stop, err := b.Start(ctx)
	if err != nil {
		panic(err)
	}
	defer stop(ctx)

	if _, err := b.Dispatch(ctx, backend.Dispatch{Task: "greet", Payload: []byte(`"world"`)}); err != nil {
		panic(err)
	}
	fmt.Println(<-done)
	// Output: greet "world", attempt 1 of 3
}

func ExampleBackend_Inject() {
	ctx := context.Background()
	b := memory.New()
	seen := make(chan string, 2)
	_ = b.Register(backend.TaskSpec{Name: "pay"}, func(ctx context.Context, d backend.Delivery) error {
		seen <- fmt.Sprintf("%s attempt %d", d.RunID, d.Attempt)
		return nil
	})
	// The run is delivered again after it succeeded, as when a worker
	// died before acknowledging it.
	b.Inject(memory.Fault{Task: "pay", Kind: memory.Redeliver})
	stop, _ := b.Start(ctx)
	defer stop(ctx)

	_, _ = b.Dispatch(ctx, backend.Dispatch{Task: "pay"})
	fmt.Println(<-seen)
	fmt.Println(<-seen)
	fmt.Println("faults fired:", b.Stats().FaultsFired)
	// Output:
	// mem-1 attempt 1
	// mem-1 attempt 1
	// faults fired: 1
}

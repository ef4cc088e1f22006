package task_test

import (
	"context"
	"errors"
	"fmt"
	"strings"

	"github.com/mageflow-go/mageflow"
	membackend "github.com/mageflow-go/mageflow/backend/memory"
	"github.com/mageflow-go/mageflow/flow"
	memstore "github.com/mageflow-go/mageflow/storage/memory"
	"github.com/mageflow-go/mageflow/task"
)

func ExampleNew() {
	// The name is the task's lasting identity; the types are its input
	// and output.
	shout := task.New("shout", func(ctx context.Context, s string) (string, error) {
		return strings.ToUpper(s) + "!", nil
	}, task.WithRetries(3))

	// Call runs the function here, outside any flow: handy in unit tests.
	out, err := shout.Call(context.Background(), "hello")
	fmt.Println(shout.Name(), out, err)
	// Output: shout HELLO! <nil>
}

func ExampleInfo() {
	whoami := task.New("whoami", func(ctx context.Context, _ struct{}) (string, error) {
		info, ok := task.Info(ctx)
		if !ok {
			return "not running in a flow", nil
		}
		return fmt.Sprintf("%s, attempt %d of %d", info.Task, info.Attempt, info.MaxAttempts), nil
	})

	out, _ := whoami.Call(context.Background(), struct{}{})
	fmt.Println(out)

	// A test can fake the run the engine would describe.
	ctx := task.WithInfo(context.Background(), task.RunInfo{Task: "whoami", Attempt: 2, MaxAttempts: 3})
	out, _ = whoami.Call(ctx, struct{}{})
	fmt.Println(out)
	// Output:
	// not running in a flow
	// whoami, attempt 2 of 3
}

func ExampleNonRetryable() {
	ctx := context.Background()
	parse := task.New("parse", func(ctx context.Context, s string) (int, error) {
		if s == "" {
			// Retrying cannot help: fail now, whatever retries remain.
			return 0, task.NonRetryable(errors.New("empty input"))
		}
		return len(s), nil
	}, task.WithRetries(5))

	c, _ := mageflow.New(membackend.New(), memstore.New())
	_ = c.Register(parse)
	stop, _ := c.StartWorker(ctx)
	defer stop(ctx)

	run, err := flow.Start(ctx, c, parse, "")
	if err != nil {
		fmt.Println(err)
		return
	}
	_, err = run.Wait(ctx)
	var failed *flow.FailedError
	if errors.As(err, &failed) {
		fmt.Printf("%s failed after %d attempt: %s\n", failed.Info.Task, failed.Info.Attempts, failed.Info.Message)
	}
	fmt.Println(task.IsNonRetryable(task.NonRetryable(errors.New("x"))), task.NonRetryable(nil) == nil)
	// Output:
	// parse failed after 1 attempt: empty input
	// true true
}

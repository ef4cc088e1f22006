package flow_test

import (
	"context"
	"strconv"
	"testing"

	"github.com/mageflow-go/mageflow/flow"
	"github.com/mageflow-go/mageflow/task"
)

var (
	double = task.New("double", func(ctx context.Context, n int) (int, error) { return 2 * n, nil })
	inc    = task.New("inc", func(ctx context.Context, n int) (int, error) { return n + 1, nil })
	show   = task.New("show", func(ctx context.Context, n int) (string, error) { return strconv.Itoa(n), nil })
)

func TestThenPassesOutputs(t *testing.T) {
	t.Parallel()
	e := setup(t, double, inc, show)
	ctx := testCtx(t)
	run, err := flow.Start(ctx, e.c, flow.Then(flow.Then(double, inc), show), 20)
	if err != nil {
		t.Fatal(err)
	}
	out, err := run.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if out != "41" {
		t.Fatalf("output %q, want %q", out, "41")
	}
}

package flowsuite

import (
	"context"
	"testing"

	"github.com/mageflow-go/mageflow/flow"
	"github.com/mageflow-go/mageflow/task"
)

// ids are typical 64-bit ids: past 2^53, where a float64 loses digits.
type ids struct {
	Signed   int64  `json:"signed"`
	Unsigned uint64 `json:"unsigned"`
}

func testLargeIntegersKeepTheirDigits(t *testing.T, h Harness) {
	t.Parallel()
	next := task.New("next-ids", func(ctx context.Context, a flow.Args[ids, ids]) (ids, error) {
		return ids{Signed: a.In.Signed + a.Args.Signed, Unsigned: a.In.Unsigned + a.Args.Unsigned}, nil
	})
	e := h.setup(t, next)
	ctx := testCtx(t)
	step := flow.Bind(next, ids{Signed: 1, Unsigned: 2})
	f := flow.Then(step, flow.Swarm(step, step))
	in := ids{Signed: 1<<53 + 1, Unsigned: 1<<64 - 7}
	run, err := flow.Start(ctx, e.Client, f, in)
	if err != nil {
		t.Fatal(err)
	}
	out, err := run.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := ids{Signed: 1<<53 + 3, Unsigned: 1<<64 - 3}
	if len(out) != 2 || out[0] != want || out[1] != want {
		t.Fatalf("output %+v, want two of %+v", out, want)
	}
}

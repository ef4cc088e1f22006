package flowsuite

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/mageflow-go/mageflow"
	"github.com/mageflow-go/mageflow/flow"
	"github.com/mageflow-go/mageflow/task"
)

func testBadFlowsAreRejectedBeforeStoring(t *testing.T, h Harness) {
	t.Parallel()
	unknown := task.New("nobody-runs-me", func(ctx context.Context, n int) (int, error) { return n, nil })
	var nilFlow flow.Flow[int, int]
	var zero task.Task[int, int]
	cases := []struct {
		name string
		f    flow.Flow[int, int]
		want string
		is   error
	}{
		{"unknown task", flow.Then(double, unknown), `"nobody-runs-me"`, mageflow.ErrUnknownTask},
		{"nil step", flow.Then(double, nilFlow), "nil flow", nil},
		{"zero task", zero, "zero Task", nil},
		{"nil callback", flow.OnSuccess(double, flow.Flow[int, int](nil)), "nil flow", nil},
		{"empty chain", flow.Chain[int](), "no steps", nil},
		{"nil swarm item", flow.Then(flow.Swarm(double, nilFlow), sumInts), "item 1 is nil", nil},
		{"empty swarm", flow.Then(flow.Swarm[int, int](), sumInts), "no items", nil},
		{"negative concurrency", flow.Then(flow.Swarm(double).WithConfig(flow.SwarmConfig{MaxConcurrency: -1}), sumInts), "negative", nil},
		{"negative failure limit", flow.Then(flow.Swarm(double).WithConfig(flow.SwarmConfig{StopAfterNFailures: -2}), sumInts), "negative", nil},
		{"too many items", flow.Then(flow.Swarm(double, double).WithConfig(flow.SwarmConfig{MaxItems: 1}), sumInts), "MaxItems", nil},
		{"bad task name", task.New("has space", func(ctx context.Context, n int) (int, error) { return n, nil }), "space", nil},
		{"negative retries", task.New("r", func(ctx context.Context, n int) (int, error) { return n, nil }, task.WithRetries(-1)), "negative retries", nil},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			e := h.setup(t, double, sumInts)
			ctx := testCtx(t)
			records := e.Records
			if records == nil { // the store cannot count: check the errors only
				records = func() int { return 0 }
			}
			before := records()
			_, err := flow.Start(ctx, e.Client, tc.f, 1)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Start error %v, want one mentioning %s", err, tc.want)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Fatalf("Start error %v does not wrap %v", err, tc.is)
			}
			if !errors.Is(err, mageflow.ErrInvalidFlow) {
				t.Fatalf("Start error %v does not match mageflow.ErrInvalidFlow", err)
			}
			if _, err := flow.Sign(ctx, e.Client, tc.f); err == nil {
				t.Fatal("Sign accepted the bad flow")
			}
			if n := records(); n != before {
				t.Fatalf("%d records stored for a rejected flow", n-before)
			}
		})
	}
}

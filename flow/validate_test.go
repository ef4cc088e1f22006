package flow_test

import (
	"context"
	"errors"
	"strings"
	"testing"

	"github.com/mageflow-go/mageflow"
	membackend "github.com/mageflow-go/mageflow/backend/memory"
	"github.com/mageflow-go/mageflow/flow"
	memstore "github.com/mageflow-go/mageflow/storage/memory"
	"github.com/mageflow-go/mageflow/task"
)

func TestBadFlowsAreRejectedBeforeStoring(t *testing.T) {
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
			e := setup(t, double, sumInts)
			ctx := testCtx(t)
			before := e.store.Records()
			_, err := flow.Start(ctx, e.c, tc.f, 1)
			if err == nil || !strings.Contains(err.Error(), tc.want) {
				t.Fatalf("Start error %v, want one mentioning %s", err, tc.want)
			}
			if tc.is != nil && !errors.Is(err, tc.is) {
				t.Fatalf("Start error %v does not wrap %v", err, tc.is)
			}
			if _, err := flow.Sign(ctx, e.c, tc.f); err == nil {
				t.Fatal("Sign accepted the bad flow")
			}
			if n := e.store.Records(); n != before {
				t.Fatalf("%d records stored for a rejected flow", n-before)
			}
		})
	}
}

var sumInts = task.New("sum-ints", func(ctx context.Context, xs []int) (int, error) {
	s := 0
	for _, x := range xs {
		s += x
	}
	return s, nil
})

func TestRegisterRejectsConflicts(t *testing.T) {
	t.Parallel()
	c, err := mageflow.New(membackend.New(), memstore.New())
	if err != nil {
		t.Fatal(err)
	}
	asString := task.New("double", func(ctx context.Context, s string) (string, error) { return s + s, nil })
	if err := c.Register(double, double); err != nil {
		t.Fatalf("registering the same task twice: %v", err)
	}
	err = c.Register(asString)
	if err == nil || !strings.Contains(err.Error(), `"double"`) || !strings.Contains(err.Error(), "string") {
		t.Fatalf("Register of a name with other types: %v", err)
	}
	twin := task.New("double", func(ctx context.Context, n int) (int, error) { return n + n, nil })
	if err := c.Register(twin); err == nil {
		t.Fatal("two tasks registered under one name")
	}
	// a flow using the name with other types than registered
	ctx := testCtx(t)
	if _, err := flow.Start(ctx, c, asString, "x"); err == nil || !strings.Contains(err.Error(), "registered as int -> int") {
		t.Fatalf("Start with mismatched types: %v", err)
	}
	if err := c.Register(task.New("", func(ctx context.Context, n int) (int, error) { return n, nil })); err == nil {
		t.Fatal("a task with an empty name was registered")
	}
}

func TestNewValidates(t *testing.T) {
	t.Parallel()
	if _, err := mageflow.New(nil, memstore.New()); err == nil {
		t.Fatal("nil backend accepted")
	}
	if _, err := mageflow.New(membackend.New(), nil); err == nil {
		t.Fatal("nil store accepted")
	}
	if _, err := mageflow.New(membackend.New(), memstore.New(), mageflow.WithTTL(0, mageflow.DefaultDoneTTL)); err == nil {
		t.Fatal("zero active TTL accepted")
	}
	if _, err := mageflow.New(membackend.New(), memstore.New(), mageflow.WithTTL(mageflow.DefaultActiveTTL, 1)); err == nil {
		t.Fatal("done TTL below the minimum accepted")
	}
	if _, err := flow.Start(context.Background(), nil, double, 1); err == nil {
		t.Fatal("Start on a nil client succeeded")
	}
}

func TestStartFromAnotherClientOnTheSameBackend(t *testing.T) {
	t.Parallel()
	// a process that only starts flows: it registers nothing and finds the
	// task through the backend
	e := setup(t, double)
	starter, err := mageflow.New(e.backend, e.store)
	if err != nil {
		t.Fatal(err)
	}
	ctx := testCtx(t)
	run, err := flow.Start(ctx, starter, double, 21)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := run.Wait(ctx); err != nil || out != 42 {
		t.Fatalf("Wait = %d, %v", out, err)
	}
}

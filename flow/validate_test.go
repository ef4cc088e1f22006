package flow_test

import (
	"context"
	"strings"
	"testing"

	"github.com/mageflow-go/mageflow"
	membackend "github.com/mageflow-go/mageflow/backend/memory"
	"github.com/mageflow-go/mageflow/flow"
	memstore "github.com/mageflow-go/mageflow/storage/memory"
	"github.com/mageflow-go/mageflow/task"
)

var double = task.New("double", func(ctx context.Context, n int) (int, error) { return 2 * n, nil })

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

// A failed run's error names its task once, also when the task's own
// error names it (a decode error).
func TestFailedErrorNamesTheTaskOnce(t *testing.T) {
	e := &flow.FailedError{RunID: "R", Info: flow.ErrorInfo{Task: "picky", Message: "task picky: decode input: bad"}}
	if got, want := e.Error(), "mageflow: run R failed: task picky: decode input: bad"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
	e.Info.Message = "card declined"
	if got, want := e.Error(), "mageflow: run R failed: task picky: card declined"; got != want {
		t.Errorf("Error() = %q, want %q", got, want)
	}
}

package flow_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

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

// Zero handles and nil contexts give errors, not panics.
func TestZeroHandlesAndNilContextsAreErrors(t *testing.T) {
	c, err := mageflow.New(membackend.New(), memstore.New())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Register(double); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	var run flow.Run[int]
	var s flow.Sig[int, int]
	var sw flow.SwarmSig[int, int]
	checks := map[string]error{}
	_, checks["Run.Wait"] = run.Wait(ctx)
	_, checks["Run.Status"] = run.Status(ctx)
	checks["Run.Suspend"] = run.Suspend(ctx)
	checks["Run.Cancel"] = run.Cancel(ctx)
	_, checks["Sig.Start"] = s.Start(ctx, 1)
	checks["Sig.Resume"] = s.Resume(ctx)
	_, checks["SwarmSig.Start"] = sw.Start(ctx, 1)
	checks["SwarmSig.Add"] = sw.Add(ctx, double)
	checks["SwarmSig.Close"] = sw.Close(ctx)
	//lint:ignore SA1012 a nil context is what this checks
	_, checks["Start(nil)"] = flow.Start(nil, c, double, 1) //nolint:staticcheck
	//lint:ignore SA1012 a nil context is what this checks
	_, checks["Sign(nil)"] = flow.Sign(nil, c, double) //nolint:staticcheck
	//lint:ignore SA1012 a nil context is what this checks
	_, checks["SignSwarm(nil)"] = flow.SignSwarm(nil, c, flow.Swarm(double)) //nolint:staticcheck
	for what, err := range checks {
		if err == nil {
			t.Errorf("%s: no error", what)
		}
	}
}

// An output that does not encode fails the task at once: encoding is
// deterministic, so a retry cannot cure it.
func TestOutputThatDoesNotEncodeIsFinal(t *testing.T) {
	var calls atomic.Int32
	bad := task.New("bad-output", func(ctx context.Context, n int) (chan int, error) {
		calls.Add(1)
		return make(chan int), nil
	}, task.WithRetries(3))
	c, err := mageflow.New(membackend.New(membackend.WithoutBackoff()), memstore.New())
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Register(bad); err != nil {
		t.Fatal(err)
	}
	stop, err := c.StartWorker(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = stop(context.Background()) }()
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	run, err := flow.Start(ctx, c, bad, 1)
	if err != nil {
		t.Fatal(err)
	}
	_, err = run.Wait(ctx)
	var fe *flow.FailedError
	if !errors.As(err, &fe) || !strings.Contains(fe.Info.Message, "encode output") {
		t.Fatalf("Wait = %v; want a failure to encode the output", err)
	}
	if n := calls.Load(); n != 1 || fe.Info.Attempts != 1 {
		t.Errorf("the task ran %d times (%d attempts), want once", n, fe.Info.Attempts)
	}
}

// SignSwarm refuses a flow that is not a swarm, although its output is a
// slice, and stores nothing.
func TestSignSwarmRefusesWhatIsNotASwarm(t *testing.T) {
	store := memstore.New()
	c, err := mageflow.New(membackend.New(), store)
	if err != nil {
		t.Fatal(err)
	}
	many := task.New("many", func(ctx context.Context, n int) ([]int, error) { return []int{n}, nil })
	many2 := task.New("many2", func(ctx context.Context, xs []int) ([]int, error) { return xs, nil })
	if err := c.Register(many, many2); err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := flow.SignSwarm(ctx, c, many); !errors.Is(err, mageflow.ErrInvalidFlow) || !strings.Contains(err.Error(), "not a swarm") {
		t.Errorf("SignSwarm of a task: %v; want refused as not a swarm, wrapping ErrInvalidFlow", err)
	}
	if _, err := flow.SignSwarm(ctx, c, flow.Then(many, many2)); !errors.Is(err, mageflow.ErrInvalidFlow) {
		t.Errorf("SignSwarm of a chain: %v; want refused, wrapping ErrInvalidFlow", err)
	}
	var nilSwarm *flow.SwarmFlow[int, int]
	if _, err := flow.SignSwarm(ctx, c, nilSwarm); !errors.Is(err, mageflow.ErrInvalidFlow) {
		t.Errorf("SignSwarm of a nil swarm: %v; want refused, wrapping ErrInvalidFlow", err)
	}
	if n := store.Len(); n != 0 {
		t.Errorf("%d records stored for refused swarms", n)
	}
	if _, err := flow.SignSwarm(ctx, c, flow.OnSuccess(flow.Swarm[int, int](), many2)); err != nil {
		t.Errorf("SignSwarm of a swarm with a callback: %v", err)
	}
}

// A task no worker registered is refused with an error that names the
// task and says its package's sentinel once.
func TestUnknownTaskSaysItsPackage(t *testing.T) {
	c, err := mageflow.New(membackend.New(), memstore.New())
	if err != nil {
		t.Fatal(err)
	}
	nobody := task.New("nobody", func(ctx context.Context, n int) (int, error) { return n, nil })
	_, err = flow.Start(context.Background(), c, nobody, 1)
	if !errors.Is(err, mageflow.ErrUnknownTask) || !errors.Is(err, mageflow.ErrInvalidFlow) {
		t.Fatalf("Start of an unregistered task: %v; want ErrUnknownTask and ErrInvalidFlow", err)
	}
	if msg := err.Error(); !strings.Contains(msg, `"nobody"`) || !strings.HasSuffix(msg, "backend: unknown task") || strings.Count(msg, "mageflow:") != 1 {
		t.Errorf("message %q: want the task named, the sentinel with its package, said once", msg)
	}
}

package memory_test

import (
	"context"
	"errors"
	"maps"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mageflow-go/mageflow/backend"
	"github.com/mageflow-go/mageflow/backend/memory"
)

func TestDuplicateDelivery(t *testing.T) {
	t.Parallel()
	b := setup(t)
	var arrived atomic.Int32
	both := make(chan struct{})
	release := make(chan struct{}) // the runs end after the repeated key's dispatch
	h, got := recorder(func(ctx context.Context, _ backend.Delivery) error {
		if arrived.Add(1) == 2 {
			close(both)
		}
		select {
		case <-both:
		case <-time.After(waitTimeout):
			return backend.Final(errors.New("the duplicate did not run concurrently"))
		}
		select {
		case <-release:
		case <-ctx.Done():
		}
		return nil
	})
	register(t, b, backend.TaskSpec{Name: "t"}, h)
	register(t, b, backend.TaskSpec{Name: "other"}, succeed)
	b.Inject(memory.Fault{Task: "t", Kind: memory.DuplicateDelivery})
	start(t, b)

	dispatch(t, b, backend.Dispatch{Task: "other"}) // does not match
	meta := map[string]string{"custom": "value"}
	id := dispatch(t, b, backend.Dispatch{Task: "t", Payload: []byte(`{"n":1}`), Record: "r1", Meta: meta, Key: "k"})
	first, second := recv(t, got, "delivery"), recv(t, got, "duplicate delivery")
	if first.RunID == second.RunID {
		t.Fatalf("both deliveries have run id %q, want different ones", first.RunID)
	}
	if first.RunID != id && second.RunID != id {
		t.Errorf("run ids %q, %q; want one of them %q", first.RunID, second.RunID, id)
	}
	for _, d := range []backend.Delivery{first, second} {
		if string(d.Payload) != `{"n":1}` || !maps.Equal(d.Meta, meta) || d.Record != "r1" || d.Attempt != 1 {
			t.Errorf("delivery %+v, want the dispatched payload, record and meta, attempt 1", d)
		}
	}
	if again := dispatch(t, b, backend.Dispatch{Task: "t", Key: "k"}); again != id {
		t.Errorf("dispatch with the same key = %q, want %q", again, id)
	}
	close(release)
	s := waitStats(t, b, func(s memory.Stats) bool { return s.Succeeded == 3 })
	if s.Dispatched != 3 || s.Deduplicated != 1 || s.FaultsFired != 1 || s.Failed != 0 {
		t.Errorf("stats = %+v, want Dispatched 3, Deduplicated 1, FaultsFired 1, Failed 0", s)
	}
}

func TestRedeliver(t *testing.T) {
	t.Parallel()
	b := setup(t)
	h, got := recorder(succeed)
	register(t, b, backend.TaskSpec{Name: "t", Retries: 2}, h)
	b.Inject(memory.Fault{Kind: memory.Redeliver, Times: 2})
	start(t, b)

	id := dispatch(t, b, backend.Dispatch{Task: "t"})
	for i := range 3 {
		if d := recv(t, got, "delivery"); d.RunID != id || d.Attempt != 1 {
			t.Fatalf("delivery %d: RunID, Attempt = %q, %d; want %q, 1", i, d.RunID, d.Attempt, id)
		}
	}
	quiet(t, got, "delivery after the fault was spent")
	s := b.Stats()
	if s.Delivered != 3 || s.Redelivered != 2 || s.FaultsFired != 2 || s.Succeeded != 1 || s.Retried != 0 {
		t.Errorf("stats = %+v, want Delivered 3, Redelivered 2, FaultsFired 2, Succeeded 1, Retried 0", s)
	}
}

func TestRedeliverOnlyAfterSuccess(t *testing.T) {
	t.Parallel()
	b := setup(t)
	h, got := recorder(func(context.Context, backend.Delivery) error { return errors.New("boom") })
	register(t, b, backend.TaskSpec{Name: "t"}, h)
	b.Inject(memory.Fault{Kind: memory.Redeliver})
	start(t, b)

	dispatch(t, b, backend.Dispatch{Task: "t"})
	recv(t, got, "delivery")
	quiet(t, got, "redelivery of a failed run")
	if s := b.Stats(); s.FaultsFired != 0 || s.Failed != 1 {
		t.Errorf("stats = %+v, want FaultsFired 0, Failed 1", s)
	}
}

// dispatchResult is what a parent handler saw from its two dispatches.
type dispatchResult struct {
	d          backend.Delivery
	first, end error
}

func TestCrashBeforeDispatch(t *testing.T) {
	t.Parallel()
	b := setup(t)
	childHandler, children := recorder(succeed)
	register(t, b, backend.TaskSpec{Name: "child"}, childHandler)
	results := make(chan dispatchResult, 8)
	register(t, b, backend.TaskSpec{Name: "parent"}, func(ctx context.Context, d backend.Delivery) error {
		_, first := b.Dispatch(ctx, backend.Dispatch{Task: "child"})
		type key struct{}
		derived := context.WithValue(ctx, key{}, "derived")
		_, second := b.Dispatch(derived, backend.Dispatch{Task: "child"})
		results <- dispatchResult{d, first, second}
		return errors.Join(first, second) // not counted as a failure when crashed
	})
	b.Inject(memory.Fault{Task: "parent", Kind: memory.CrashBeforeDispatch})
	start(t, b)

	id := dispatch(t, b, backend.Dispatch{Task: "parent"})
	crashed := recv(t, results, "crashed delivery")
	if !errors.Is(crashed.first, memory.ErrCrashed) || !errors.Is(crashed.end, memory.ErrCrashed) {
		t.Fatalf("dispatches from the crashed delivery = %v, %v; want ErrCrashed twice", crashed.first, crashed.end)
	}
	again := recv(t, results, "redelivery")
	if again.d.RunID != id || again.d.Attempt != 1 || crashed.d.RunID != id || crashed.d.Attempt != 1 {
		t.Fatalf("deliveries %+v, %+v; want run %q, attempt 1 both", crashed.d, again.d, id)
	}
	if again.first != nil || again.end != nil {
		t.Fatalf("dispatches from the redelivery = %v, %v; want nil", again.first, again.end)
	}
	recv(t, children, "child")
	recv(t, children, "second child")
	quiet(t, children, "child of the crashed delivery")
	s := waitStats(t, b, func(s memory.Stats) bool { return s.Succeeded == 3 })
	if s.FaultsFired != 1 || s.Redelivered != 1 || s.Retried != 0 || s.Failed != 0 || s.Dispatched != 3 {
		t.Errorf("stats = %+v, want FaultsFired 1, Redelivered 1, Retried 0, Failed 0, Dispatched 3", s)
	}
}

func TestCrashBeforeDispatchStaysArmed(t *testing.T) {
	t.Parallel()
	b := setup(t)
	idle, gotIdle := recorder(succeed)
	register(t, b, backend.TaskSpec{Name: "idle"}, idle)
	register(t, b, backend.TaskSpec{Name: "child"}, succeed)
	errs := make(chan error, 8)
	register(t, b, backend.TaskSpec{Name: "parent"}, func(ctx context.Context, _ backend.Delivery) error {
		_, err := b.Dispatch(ctx, backend.Dispatch{Task: "child"})
		errs <- err
		return nil
	})
	b.Inject(memory.Fault{Kind: memory.CrashBeforeDispatch})
	start(t, b)

	dispatch(t, b, backend.Dispatch{Task: "idle"})
	recv(t, gotIdle, "delivery")
	quiet(t, gotIdle, "redelivery of a delivery that dispatched nothing")
	if s := b.Stats(); s.FaultsFired != 0 {
		t.Fatalf("FaultsFired = %d, want 0", s.FaultsFired)
	}
	// A dispatch from outside any handler does not fire it either.
	dispatch(t, b, backend.Dispatch{Task: "parent"})
	if err := recv(t, errs, "dispatch"); !errors.Is(err, memory.ErrCrashed) {
		t.Fatalf("dispatch from the handler = %v, want ErrCrashed", err)
	}
	if err := recv(t, errs, "dispatch of the redelivery"); err != nil {
		t.Fatalf("dispatch from the redelivery = %v, want nil", err)
	}
}

func TestInjectUnknownKindPanics(t *testing.T) {
	t.Parallel()
	defer func() {
		if recover() == nil {
			t.Fatal("Inject of an unknown kind did not panic")
		}
	}()
	setup(t).Inject(memory.Fault{Kind: 0})
}

func TestFaultKindString(t *testing.T) {
	t.Parallel()
	for k, want := range map[memory.FaultKind]string{
		memory.DuplicateDelivery:   "DuplicateDelivery",
		memory.Redeliver:           "Redeliver",
		memory.CrashBeforeDispatch: "CrashBeforeDispatch",
		42:                         "FaultKind(42)",
	} {
		if got := k.String(); got != want {
			t.Errorf("String() = %q, want %q", got, want)
		}
	}
}

package memory_test

import (
	"context"
	"errors"
	"testing"

	"github.com/mageflow-go/mageflow/backend"
	"github.com/mageflow-go/mageflow/backend/memory"
)

// TestNextRunNamesTheTailRun: a handler reserves the id of the run it
// dispatches as its last act; that run has the id, its first delivery
// says it was claimed, and its retry does not.
func TestNextRunNamesTheTailRun(t *testing.T) {
	t.Parallel()
	b := setup(t, memory.WithoutBackoff())
	if id := b.NextRun(t.Context()); id != "" {
		t.Fatalf("NextRun outside a handler = %q, want none", id)
	}
	reserved := make(chan string, 1)
	register(t, b, backend.TaskSpec{Name: "a"}, func(ctx context.Context, d backend.Delivery) error {
		id := b.NextRun(ctx)
		if id == "" {
			return backend.Final(errors.New("no run reserved"))
		}
		got, err := b.Dispatch(backend.Tail(ctx), backend.Dispatch{Task: "next", Key: "k", Run: id, Claimed: true})
		if err != nil || got != id {
			return backend.Final(errors.New("tail dispatch did not take the reserved id"))
		}
		reserved <- id
		return nil
	})
	failed := false
	h, got := recorder(func(context.Context, backend.Delivery) error {
		if !failed {
			failed = true
			return errors.New("once")
		}
		return nil
	})
	register(t, b, backend.TaskSpec{Name: "next", Retries: 1}, h)
	start(t, b)
	dispatch(t, b, backend.Dispatch{Task: "a"})
	id := recv(t, reserved, "reserved run")
	first := recv(t, got, "first delivery")
	if first.RunID != id || !first.Claimed || first.Attempt != 1 {
		t.Fatalf("first delivery: run %q Claimed %v attempt %d, want %q, true, 1", first.RunID, first.Claimed, first.Attempt, id)
	}
	retry := recv(t, got, "retry")
	if retry.RunID != id || retry.Claimed || retry.Attempt != 2 {
		t.Fatalf("retry: run %q Claimed %v attempt %d, want %q, false, 2", retry.RunID, retry.Claimed, retry.Attempt, id)
	}
	quiet(t, got, "third delivery")
}

// TestReservedRunCanceledBeforeItsDispatch: a run canceled between
// NextRun and its dispatch (a lifecycle operation that crossed the store
// operation claiming it) never starts.
func TestReservedRunCanceledBeforeItsDispatch(t *testing.T) {
	t.Parallel()
	b := setup(t)
	done := make(chan error, 1)
	register(t, b, backend.TaskSpec{Name: "a"}, func(ctx context.Context, d backend.Delivery) error {
		id := b.NextRun(ctx)
		if again := b.NextRun(ctx); id == "" || again != "" {
			done <- errors.New("NextRun: want one reservation per attempt")
			return nil
		}
		if err := b.Cancel(ctx, id); err != nil {
			done <- err
			return nil
		}
		got, err := b.Dispatch(backend.Tail(ctx), backend.Dispatch{Task: "next", Run: id, Claimed: true})
		if err == nil && got != id {
			err = errors.New("the dispatch of a canceled reservation returned another run")
		}
		done <- err
		return nil
	})
	h, got := recorder(succeed)
	register(t, b, backend.TaskSpec{Name: "next"}, h)
	start(t, b)
	dispatch(t, b, backend.Dispatch{Task: "a"})
	if err := recv(t, done, "handler"); err != nil {
		t.Fatal(err)
	}
	quiet(t, got, "delivery of a canceled run")
	// a run this Backend did not reserve (another's, recovered from the
	// store): a run of its own, whose claim checks
	id := dispatch(t, b, backend.Dispatch{Task: "next", Run: "mem-elsewhere-1", Claimed: true})
	if d := recv(t, got, "delivery"); id == "mem-elsewhere-1" || d.RunID != id || d.Claimed {
		t.Fatalf("dispatch naming another's run: run %q, delivery %q Claimed %v; want a fresh, unclaimed run", id, d.RunID, d.Claimed)
	}
}

// TestReservedRunLostToACrashIsMadeWhenSentAgain: a crash fault loses the
// tail dispatch of a reserved run; the redelivered task sends it again,
// and that makes the run of the reserved id, not claimed.
func TestReservedRunLostToACrashIsMadeWhenSentAgain(t *testing.T) {
	t.Parallel()
	b := setup(t)
	b.Inject(memory.Fault{Task: "a", Kind: memory.CrashBeforeDispatch})
	var reservedID string
	lost := make(chan error, 2)
	register(t, b, backend.TaskSpec{Name: "a"}, func(ctx context.Context, d backend.Delivery) error {
		first := reservedID == ""
		if first {
			reservedID = b.NextRun(ctx)
		}
		// sent again by the redelivered run, it claims nothing itself
		_, err := b.Dispatch(backend.Tail(ctx), backend.Dispatch{Task: "next", Run: reservedID, Claimed: first})
		lost <- err
		return nil
	})
	h, got := recorder(succeed)
	register(t, b, backend.TaskSpec{Name: "next"}, h)
	start(t, b)
	dispatch(t, b, backend.Dispatch{Task: "a"})
	if err := recv(t, lost, "the lost dispatch"); !errors.Is(err, memory.ErrCrashed) {
		t.Fatalf("first dispatch: %v, want ErrCrashed", err)
	}
	if err := recv(t, lost, "the dispatch again"); err != nil {
		t.Fatal(err)
	}
	if d := recv(t, got, "delivery"); d.RunID != reservedID || d.Claimed {
		t.Fatalf("delivery: run %q Claimed %v, want %q, false", d.RunID, d.Claimed, reservedID)
	}
	quiet(t, got, "second delivery")
}

// TestDuplicateOfAClaimedRunIsAnotherRun: a duplicate delivery of a
// dispatch that named its run is another run, not claimed.
func TestDuplicateOfAClaimedRunIsAnotherRun(t *testing.T) {
	t.Parallel()
	b := setup(t)
	h, got := recorder(succeed)
	register(t, b, backend.TaskSpec{Name: "t"}, h)
	b.Inject(memory.Fault{Task: "t", Kind: memory.DuplicateDelivery})
	named := make(chan string, 1)
	register(t, b, backend.TaskSpec{Name: "a"}, func(ctx context.Context, d backend.Delivery) error {
		id := b.NextRun(ctx)
		_, err := b.Dispatch(backend.Tail(ctx), backend.Dispatch{Task: "t", Run: id, Claimed: true})
		named <- id
		return err
	})
	start(t, b)
	dispatch(t, b, backend.Dispatch{Task: "a"})
	id := recv(t, named, "reserved run")
	seen := map[string]bool{}
	for range 2 {
		d := recv(t, got, "delivery")
		if d.Claimed != (d.RunID == id) {
			t.Errorf("delivery of run %q: Claimed %v", d.RunID, d.Claimed)
		}
		seen[d.RunID] = true
	}
	if !seen[id] || len(seen) != 2 {
		t.Fatalf("runs delivered %v, want %s and another", seen, id)
	}
}

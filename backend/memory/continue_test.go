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
		if again, err := b.Dispatch(ctx, backend.Dispatch{Task: "next", Run: id}); err != nil || again != id {
			return backend.Final(errors.New("a dispatch naming a live run made another"))
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

// TestNamedRunDispatchedAgain: a dispatch naming a run that no longer
// lives (a run claimed ahead by a worker that died) makes a run of that
// id, whose delivery claims as any does.
func TestNamedRunDispatchedAgain(t *testing.T) {
	t.Parallel()
	b := setup(t)
	h, got := recorder(succeed)
	register(t, b, backend.TaskSpec{Name: "t"}, h)
	start(t, b)
	if id := dispatch(t, b, backend.Dispatch{Task: "t", Run: "mem-elsewhere-7"}); id != "mem-elsewhere-7" {
		t.Fatalf("Dispatch = %q, want the run it names", id)
	}
	if d := recv(t, got, "delivery"); d.RunID != "mem-elsewhere-7" || d.Claimed {
		t.Fatalf("delivery: run %q Claimed %v, want mem-elsewhere-7, false", d.RunID, d.Claimed)
	}
}

// TestDuplicateOfAClaimedRunIsAnotherRun: a duplicate delivery of a
// dispatch that named its run is another run, not claimed.
func TestDuplicateOfAClaimedRunIsAnotherRun(t *testing.T) {
	t.Parallel()
	b := setup(t)
	h, got := recorder(succeed)
	register(t, b, backend.TaskSpec{Name: "t"}, h)
	b.Inject(memory.Fault{Task: "t", Kind: memory.DuplicateDelivery})
	start(t, b)
	dispatch(t, b, backend.Dispatch{Task: "t", Run: "mem-named", Claimed: true})
	seen := map[string]bool{}
	for range 2 {
		d := recv(t, got, "delivery")
		if d.Claimed != (d.RunID == "mem-named") {
			t.Errorf("delivery of run %q: Claimed %v", d.RunID, d.Claimed)
		}
		seen[d.RunID] = true
	}
	if !seen["mem-named"] || len(seen) != 2 {
		t.Fatalf("runs delivered %v, want mem-named and another", seen)
	}
}

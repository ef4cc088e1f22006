package engine

import (
	"context"
	"slices"
	"testing"
)

// TestTrack checks the list of running attempts: what track adds and
// untrack removes, in any order, and an untrack repeated.
func TestTrack(t *testing.T) {
	t.Parallel()
	e := &Engine{}
	cs := make([]*taskContext, 5)
	for i := range cs {
		cs[i] = &taskContext{Context: context.Background()}
		e.track(cs[i])
	}
	running := func() []*taskContext {
		var out []*taskContext
		for c := e.running; c != nil; c = c.next {
			out = append(out, c)
		}
		slices.Reverse(out) // the list is newest first
		return out
	}
	want := slices.Clone(cs)
	for _, i := range []int{2, 0, 4, 2, 3, 1} {
		e.untrack(cs[i])
		if j := slices.Index(want, cs[i]); j >= 0 {
			want = slices.Delete(want, j, j+1)
		}
		if got := running(); !slices.Equal(got, want) {
			t.Fatalf("after untrack of %d: %d running, want %d", i, len(got), len(want))
		}
	}
	e.track(cs[1])
	if got := running(); len(got) != 1 || got[0] != cs[1] {
		t.Fatalf("tracked again: %d running, want 1", len(got))
	}
}

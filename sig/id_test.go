package sig

import (
	"testing"
	"time"
)

func TestRootIDsSortByTimeAndAreUnique(t *testing.T) {
	t.Parallel()
	base := time.UnixMilli(1_700_000_000_000)
	seen := map[string]bool{}
	prev := ""
	for i := 0; i < 1000; i++ {
		id := NewRootID(base.Add(time.Duration(i) * time.Millisecond))
		if len(id) != 26 || !ValidID(id) || RootOf(id) != id {
			t.Fatalf("bad root id %q", id)
		}
		if seen[id] {
			t.Fatalf("id %q repeated", id)
		}
		seen[id] = true
		if id <= prev {
			t.Fatalf("id %q does not sort after %q", id, prev)
		}
		prev = id
	}
}

func TestDerivedIDsKeepTheirRoot(t *testing.T) {
	t.Parallel()
	root := NewRootID(time.Now())
	for _, id := range []string{ChildID(root, 3), SuccessID(ChildID(root, 0), 1), ErrorID(ChildID(ChildID(root, 2), 7), 0)} {
		if RootOf(id) != root || !ValidID(id) {
			t.Fatalf("%q: root %q, valid %v", id, RootOf(id), ValidID(id))
		}
	}
	for _, bad := range []string{"", "a b", "a:b", "{x}", string(make([]byte, 600))} {
		if ValidID(bad) {
			t.Fatalf("%q accepted as an id", bad)
		}
	}
}

func TestCloneSharesNoMutableState(t *testing.T) {
	t.Parallel()
	r := &Record{
		Error:  &ErrorInfo{Message: "x"},
		Swarm:  &SwarmState{Running: 1, LastError: &ErrorInfo{Message: "y"}},
		Outbox: []Dispatch{{Key: "k"}},
	}
	c := r.Clone()
	c.Error.Message = "changed"
	c.Swarm.Running = 9
	c.Swarm.LastError.Message = "changed"
	c.Outbox[0].Key = "changed"
	if r.Error.Message != "x" || r.Swarm.Running != 1 || r.Swarm.LastError.Message != "y" || r.Outbox[0].Key != "k" {
		t.Fatalf("clone changed the original: %+v", r)
	}
}

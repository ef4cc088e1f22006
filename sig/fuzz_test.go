package sig

import (
	"strings"
	"testing"
	"time"
)

// FuzzPlace reads ids as they come back from a store or a backend's
// metadata: RootOf, ValidID and Place never panic on any string, RootOf is
// the part before the first dot, and an id Place accepts is rebuilt from
// its parts by ChildID, SuccessID or ErrorID into an id with the same
// place.
func FuzzPlace(f *testing.F) {
	root := NewRootID(time.UnixMilli(1_700_000_000_000))
	for _, id := range []string{
		root, ChildID(root, 0), SuccessID(ChildID(root, 12), 1), ErrorID(ChildID(ChildID(root, 2), 7), 0),
		DerivedRootID(ChildID(root, 3), 2), "", ".", "a.", ".1", "a.s", "a.e-1", "a.+1", "a.01", "a..1", "a.99999999999999999999",
	} {
		f.Add(id)
	}
	f.Fuzz(func(t *testing.T, id string) {
		r := RootOf(id)
		if !strings.HasPrefix(id, r) || strings.Contains(r, ".") {
			t.Fatalf("RootOf(%q) = %q, not the part before the first dot", id, r)
		}
		if ValidID(id) && r != "" && !ValidID(r) {
			t.Fatalf("valid id %q has an invalid root %q", id, r)
		}
		parent, role, index, ok := Place(id)
		if !ok {
			return
		}
		if role == RoleRoot {
			if parent != "" || index != 0 || strings.Contains(id, ".") {
				t.Fatalf("Place(%q) = %q, %s, %d: a root with a parent", id, parent, role, index)
			}
			return
		}
		if parent == "" || index < 0 || !strings.HasPrefix(id, parent+".") {
			t.Fatalf("Place(%q) = %q, %s, %d: not a prefix and an index", id, parent, role, index)
		}
		rebuilt := build(parent, role, index)
		p2, r2, i2, ok2 := Place(rebuilt)
		if !ok2 || p2 != parent || r2 != role || i2 != index {
			t.Fatalf("Place(%q) = %q, %s, %d; rebuilt as %q it reads %q, %s, %d, %v", id, parent, role, index, rebuilt, p2, r2, i2, ok2)
		}
	})
}

// FuzzChildIDs checks that the ids ChildID, SuccessID and ErrorID make
// decode back: Place returns the parent, role and index they were made
// from, RootOf the parent's root, and a valid parent gives a valid id
// (while it fits in 512 bytes).
func FuzzChildIDs(f *testing.F) {
	root := NewRootID(time.UnixMilli(1_700_000_000_000))
	f.Add(root, uint8(0), 0)
	f.Add(ChildID(root, 3), uint8(1), 2)
	f.Add(SuccessID(root, 0), uint8(2), 1<<40)
	f.Add("a.b", uint8(0), 7)
	f.Fuzz(func(t *testing.T, parent string, r uint8, index int) {
		if parent == "" || index < 0 {
			return
		}
		role := []Role{RoleChild, RoleSuccess, RoleError}[int(r)%3]
		id := build(parent, role, index)
		p, gotRole, i, ok := Place(id)
		if !ok || p != parent || gotRole != role || i != index {
			t.Fatalf("Place(%q) = %q, %s, %d, %v; want %q, %s, %d", id, p, gotRole, i, ok, parent, role, index)
		}
		if RootOf(id) != RootOf(parent) {
			t.Fatalf("RootOf(%q) = %q, want the parent's %q", id, RootOf(id), RootOf(parent))
		}
		if ValidID(parent) && len(id) <= 512 && !ValidID(id) {
			t.Fatalf("valid parent %q gives invalid id %q", parent, id)
		}
	})
}

// build makes the id of the role-th kind of child index of parent.
func build(parent string, role Role, index int) string {
	switch role {
	case RoleSuccess:
		return SuccessID(parent, index)
	case RoleError:
		return ErrorID(parent, index)
	}
	return ChildID(parent, index)
}

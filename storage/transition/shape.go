package transition

import (
	"fmt"
	"math/bits"
	"strconv"

	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
)

// shape checks that records, taken in order, make a graph: each a valid
// record of the graph, placed where its id says, under a parent stored
// before it that counts it, once, and none of them an id stored before;
// and, at the end, every child and callback a record counts present. It
// keeps, per record that counts children or callbacks, which of its
// places are taken: a bit per place, not an entry per record, so a swarm
// of a million items costs its swarm 3 bits per 24 items. No record may
// count more places than there are records, so the bits are bounded by
// the records given.
type shape struct {
	root    string
	rooted  bool
	known   map[string]bool
	max     int
	parents map[string]*places
}

// places are the places of one parent, per role: how many it counts, and
// which are taken. A stored parent (a swarm receiving items) has items
// only, as many as its caller checks: the indexes they take are kept in
// items.
type places struct {
	open  bool
	count [3]int
	taken [3][]uint64
	items map[int]bool
}

// roleNames name the places of each role slot in errors.
var roleNames = [3]string{"children", "success callbacks", "error callbacks"}

// roleSlot is the index of role in places' arrays, -1 for none.
func roleSlot(role sig.Role) int {
	switch role {
	case sig.RoleChild:
		return 0
	case sig.RoleSuccess:
		return 1
	case sig.RoleError:
		return 2
	}
	return -1
}

// newShape starts the check of n records of the graph rooted at root
// whose parents may be among known, ids stored before: a stored graph,
// whose root is stored too.
func newShape(root string, known map[string]bool, n int) *shape {
	v := &shape{root: root, rooted: len(known) > 0, known: known, max: n, parents: make(map[string]*places, len(known)+1)}
	for k := range known {
		v.parents[k] = &places{open: true, items: map[int]bool{}}
	}
	return v
}

// take marks place i of role slot k taken, and reports whether it was
// free and counted.
func (p *places) take(k, i int) (counted, free bool) {
	if p.open {
		if k != 0 {
			return false, true // a stored parent gets items, no callbacks
		}
		if p.items[i] {
			return true, false
		}
		p.items[i] = true
		return true, true
	}
	if i >= p.count[k] {
		return false, true
	}
	w := i / 64
	if w >= len(p.taken[k]) {
		p.taken[k] = append(p.taken[k], make([]uint64, w+1-len(p.taken[k]))...)
	}
	bit := uint64(1) << (i % 64)
	if p.taken[k][w]&bit != 0 {
		return true, false
	}
	p.taken[k][w] |= bit
	return true, true
}

// missing returns the first place of role slot k that the parent counts
// and no record took, or -1.
func (p *places) missing(k int) int {
	n := p.count[k]
	for w := 0; w*64 < n; w++ {
		want := ^uint64(0)
		if rest := n - w*64; rest < 64 {
			want = uint64(1)<<rest - 1
		}
		var got uint64
		if w < len(p.taken[k]) {
			got = p.taken[k][w]
		}
		if got&want != want {
			return w*64 + bits.TrailingZeros64(^got&want)
		}
	}
	return -1
}

// add checks record r, the next of the records.
func (v *shape) add(r *sig.Record) error {
	bad := func(format string, args ...any) error {
		return fmt.Errorf("create: record %q: %s: %w", r.ID, fmt.Sprintf(format, args...), storage.ErrState)
	}
	switch {
	case !sig.ValidID(r.ID):
		return bad("invalid id")
	case r.Root != v.root || sig.RootOf(r.ID) != v.root:
		return bad("not in graph %s", v.root)
	case r.Children < 0 || r.OnSuccess < 0 || r.OnError < 0 || r.Index < 0:
		return bad("negative count")
	case r.Children > v.max || r.OnSuccess > v.max || r.OnError > v.max:
		return bad("counts more places than the %d records given", v.max)
	case v.known[r.ID]:
		return bad("duplicate id: stored before")
	}
	switch r.Kind {
	case sig.KindTask:
		if r.Name == "" {
			return bad("task without name")
		}
		if r.Children != 0 {
			return bad("task with children")
		}
	case sig.KindChain:
		if r.Children < 1 {
			return bad("chain without steps")
		}
	case sig.KindSwarm:
		if c := r.Swarm; c != nil && (c.Config.MaxConcurrency < 0 || c.Config.StopAfterNFailures < 0 || c.Config.MaxItems < 0) {
			return bad("negative swarm config")
		}
	default:
		return bad("unknown kind %q", r.Kind)
	}
	if r.Role == sig.RoleRoot {
		if r.ID != v.root || r.Parent != "" {
			return bad("misplaced root")
		}
		if v.rooted {
			return bad("duplicate id")
		}
		v.rooted = true
	} else if err := v.place(r, bad); err != nil {
		return err
	}
	if r.Children > 0 || r.OnSuccess > 0 || r.OnError > 0 {
		if v.parents[r.ID] != nil {
			return bad("duplicate id")
		}
		v.parents[r.ID] = &places{count: [3]int{r.Children, r.OnSuccess, r.OnError}}
	}
	return nil
}

// place checks that r's id is the one its parent, role and index make,
// and takes that place of its parent.
func (v *shape) place(r *sig.Record, bad func(string, ...any) error) error {
	k := roleSlot(r.Role)
	if k < 0 {
		return bad("unknown role %q", r.Role)
	}
	if !isPlace(r.ID, r.Parent, k, r.Index) {
		return bad("id does not match its place (want %s)", placeID(r))
	}
	p := v.parents[r.Parent]
	if p == nil {
		return bad("parent %s not stored before it, or counting no children or callbacks", r.Parent)
	}
	counted, free := p.take(k, r.Index)
	if !counted {
		return bad("parent %s counts %d %s", r.Parent, p.count[k], roleNames[k])
	}
	if !free {
		return bad("duplicate id")
	}
	return nil
}

// separators are what ids put between a parent and an index, per role
// slot (see sig.ChildID).
var separators = [3]string{".", ".s", ".e"}

// isPlace reports whether id is the id that parent, role slot k and index
// make, without making it.
func isPlace(id, parent string, k, index int) bool {
	var buf [20]byte
	digits := strconv.AppendInt(buf[:0], int64(index), 10)
	sep := separators[k]
	return len(id) == len(parent)+len(sep)+len(digits) &&
		id[:len(parent)] == parent && id[len(parent):len(parent)+len(sep)] == sep &&
		id[len(parent)+len(sep):] == string(digits)
}

// placeID is the id r's parent, role and index make.
func placeID(r *sig.Record) string {
	switch r.Role {
	case sig.RoleSuccess:
		return sig.SuccessID(r.Parent, r.Index)
	case sig.RoleError:
		return sig.ErrorID(r.Parent, r.Index)
	}
	return sig.ChildID(r.Parent, r.Index)
}

// complete checks that every child and callback recs count is among them.
func (v *shape) complete(recs []*sig.Record) error {
	for _, r := range recs {
		if r.Children == 0 && r.OnSuccess == 0 && r.OnError == 0 {
			continue
		}
		p := v.parents[r.ID]
		for k, id := range []func(string, int) string{sig.ChildID, sig.SuccessID, sig.ErrorID} {
			if i := p.missing(k); i >= 0 {
				return fmt.Errorf("create: record %q: %s is missing: %w", r.ID, id(r.ID, i), storage.ErrState)
			}
		}
	}
	return nil
}

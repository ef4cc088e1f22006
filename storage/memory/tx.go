package memory

import (
	"fmt"
	"strconv"
	"time"

	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
	"github.com/mageflow-go/mageflow/storage/transition"
)

// tx is a transition's view of the store. Transitions change the stored
// records in place; tx keeps a copy of each record as it was before, and
// puts the copies back when the transition fails. s.mu is held for its
// whole life. One tx is reused by every transition of a store, so that a
// transition allocates nothing for its bookkeeping.
type tx struct {
	s   *Store
	now time.Time
	// work holds the records of this transition: few, so a slice beats a
	// map until there are more than maxSmall, when index takes over.
	work  []*sig.Record
	index map[string]*sig.Record
	undo  []undo
	// root and graph cache the graph of the last record looked up, and
	// lastID and last that record (a transition often reads a record,
	// then loads it for change).
	root    string
	graph   *graph
	looked  bool // root and graph are set (graph nil: no such graph)
	lastID  string
	last    *sig.Record
	added   []*sig.Record
	expires []expiry
}

// undo is a record as it was before the transition changed it.
type undo struct {
	live  *sig.Record
	saved sig.Record
	// swarm is *saved.Swarm, which transitions change in place.
	swarm sig.SwarmState
}

// expiry is a graph's new expiry time, set by a transition.
type expiry struct {
	root string
	at   time.Time
}

// maxKept is the most entries whose buffers a tx keeps for the next
// transition; larger ones are dropped, as clearing them would cost every
// later transition.
const maxKept = 64

// maxSmall is the most records a transition finds by scanning work.
const maxSmall = 16

// reset readies t for a new transition.
func (t *tx) reset(s *Store, now time.Time) {
	t.s, t.now = s, now
	if cap(t.undo) > maxKept {
		t.undo, t.work = nil, nil
	}
	clear(t.undo) // drop references to records; load relies on the zero slots
	clear(t.work)
	t.undo, t.work, t.added, t.expires, t.index = t.undo[:0], t.work[:0], t.added[:0], t.expires[:0], nil
	t.root, t.graph, t.looked, t.lastID, t.last = "", nil, false, "", nil
}

// live returns stored record id unless it is missing or its graph
// expired. The answer holds for the whole transition: the stored maps and
// expiries change only at commit.
func (t *tx) live(id string) *sig.Record {
	if t.last != nil && id == t.lastID {
		return t.last
	}
	g := t.graphOf(sig.RootOf(id))
	if g == nil || !t.now.Before(g.expires) {
		return nil
	}
	r := g.recs[id]
	if r != nil {
		t.lastID, t.last = id, r
	}
	return r
}

// graphOf returns the stored graph rooted at root, or nil, looking it up
// once for the records of one graph (the stored graphs change only at
// commit).
func (t *tx) graphOf(root string) *graph {
	if !t.looked || root != t.root {
		t.root, t.graph, t.looked = root, t.s.graphs[root], true
	}
	return t.graph
}

// find returns the record id of this transition, or nil.
func (t *tx) find(id string) *sig.Record {
	if t.index != nil {
		return t.index[id]
	}
	for _, r := range t.work {
		if r.ID == id {
			return r
		}
	}
	return nil
}

// reserve readies t for a transition that inserts n records.
func (t *tx) reserve(n int) {
	if n > maxSmall && t.index == nil {
		t.indexWork(n + len(t.work))
	}
}

// indexWork starts index, sized for n records, with the records of work.
func (t *tx) indexWork(n int) {
	t.index = make(map[string]*sig.Record, n)
	for _, w := range t.work {
		t.index[w.ID] = w
	}
}

// hold adds r to the records of this transition.
func (t *tx) hold(r *sig.Record) {
	t.work = append(t.work, r)
	switch {
	case t.index != nil:
		t.index[r.ID] = r
	case len(t.work) > maxSmall:
		t.indexWork(2 * len(t.work))
	}
}

func (t *tx) Now() time.Time { return t.now }

func (t *tx) Get(id string) (*sig.Record, error) {
	if r := t.find(id); r != nil {
		return r, nil
	}
	r := t.live(id)
	if r == nil {
		return nil, fmt.Errorf("record %s: %w", id, storage.ErrNotFound)
	}
	t.load(r)
	return r, nil
}

// load readies stored record r for change: it saves a copy to put back
// on a rollback, and holds r.
func (t *tx) load(r *sig.Record) {
	// the copy is made in its slot, not on the stack first, and a slot
	// reset left zero is not zeroed again
	n := len(t.undo)
	if n < cap(t.undo) {
		t.undo = t.undo[:n+1]
	} else {
		t.undo = append(t.undo, undo{})
	}
	u := &t.undo[n]
	u.live, u.saved = r, *r
	if r.Swarm != nil {
		u.swarm = *r.Swarm
	}
	t.hold(r)
}

// GetChild implements transition.ChildTx: Get(sig.ChildID(parent, i)),
// with the id built on the stack.
func (t *tx) GetChild(parent string, i int) (*sig.Record, error) {
	var buf [96]byte
	id := childID(buf[:0], parent, i)
	if r := t.findKey(id); r != nil {
		return r, nil
	}
	r := t.liveKey(parent, id)
	if r == nil {
		return nil, fmt.Errorf("record %s: %w", string(id), storage.ErrNotFound)
	}
	t.load(r)
	return r, nil
}

// ReadChild implements transition.ChildTx: Read(sig.ChildID(parent, i)),
// with the id built on the stack.
func (t *tx) ReadChild(parent string, i int) (*sig.Record, error) {
	var buf [96]byte
	id := childID(buf[:0], parent, i)
	if r := t.findKey(id); r != nil {
		return r, nil
	}
	if r := t.liveKey(parent, id); r != nil {
		return r, nil
	}
	return nil, fmt.Errorf("record %s: %w", string(id), storage.ErrNotFound)
}

// childID appends sig.ChildID(parent, i) to b.
func childID(b []byte, parent string, i int) []byte {
	b = append(append(b, parent...), '.')
	return strconv.AppendInt(b, int64(i), 10)
}

// findKey is find of the id in b.
func (t *tx) findKey(b []byte) *sig.Record {
	if t.index != nil {
		return t.index[string(b)]
	}
	for _, r := range t.work {
		if r.ID == string(b) {
			return r
		}
	}
	return nil
}

// liveKey is live of the id in b, a child of parent.
func (t *tx) liveKey(parent string, b []byte) *sig.Record {
	if t.last != nil && t.lastID == string(b) {
		return t.last
	}
	g := t.graphOf(sig.RootOf(parent))
	if g == nil || !t.now.Before(g.expires) {
		return nil
	}
	r := g.recs[string(b)]
	if r != nil {
		t.lastID, t.last = r.ID, r
	}
	return r
}

func (t *tx) Read(id string) (*sig.Record, error) {
	if r := t.find(id); r != nil {
		return r, nil
	}
	if r := t.live(id); r != nil {
		return r, nil
	}
	return nil, fmt.Errorf("record %s: %w", id, storage.ErrNotFound)
}

func (t *tx) Insert(r *sig.Record) error {
	if ok, _ := t.Exists(r.ID); ok {
		return fmt.Errorf("record %s: %w", r.ID, storage.ErrExists)
	}
	t.hold(r)
	t.added = append(t.added, r)
	return nil
}

func (t *tx) Exists(id string) (bool, error) {
	if t.find(id) != nil {
		return true, nil
	}
	return t.live(id) != nil, nil
}

func (t *tx) Expire(root string, at time.Time) {
	for i := range t.expires {
		if t.expires[i].root == root {
			t.expires[i].at = at
			return
		}
	}
	t.expires = append(t.expires, expiry{root, at})
}

func (t *tx) IDs(root string) ([]string, error) {
	var ids []string
	if g := t.s.graphs[root]; g != nil && t.now.Before(g.expires) {
		ids = append(ids, g.ids...)
	}
	for _, r := range t.added {
		if sig.RootOf(r.ID) == root {
			ids = append(ids, r.ID)
		}
	}
	return ids, nil
}

// rollback puts the records the failed transition changed back as they
// were.
func (t *tx) rollback() {
	for i := len(t.undo) - 1; i >= 0; i-- {
		u := &t.undo[i]
		*u.live = u.saved
		if u.live.Swarm != nil {
			*u.live.Swarm = u.swarm
		}
	}
}

// commit stores the added records, sets expiries and wakes the waiters of
// records that ended.
func (t *tx) commit() {
	s := t.s
	fresh := map[string]bool{}
	indexed := ""   // the graph whose map is the transition's index
	var last *graph // the graph of the record before, rooted at lastRoot
	lastRoot := ""
	for _, r := range t.added {
		root := sig.RootOf(r.ID)
		// the graph of the record before, made or found live, is this
		// one's when their roots are the same
		g := last
		if g == nil || root != lastRoot {
			g = s.graphs[root]
			if !fresh[root] && (g == nil || !t.now.Before(g.expires)) {
				fresh[root] = true
				// a new graph, or one reusing the id of an expired one
				if g != nil {
					for _, old := range g.ids {
						delete(s.owed, old)
					}
				}
				g = &graph{ids: make([]string, 0, len(t.added))}
				if len(t.index) == len(t.added) && len(t.work) == len(t.added) && sig.RootOf(t.work[0].ID) == root {
					// the transition (on one graph, as every transition
					// is) holds the new graph's records and no other: its
					// index becomes the graph's map
					g.recs, t.index = t.index, nil
					indexed = root
				} else {
					g.recs = make(map[string]*sig.Record, len(t.added))
				}
				s.graphs[root] = g
			}
			last, lastRoot = g, root
		}
		g.ids = append(g.ids, r.ID)
		if root != indexed {
			g.recs[r.ID] = r // already there when the index became the map
		}
	}
	for _, e := range t.expires {
		if g := s.graphs[e.root]; g != nil {
			g.expires = e.at
		}
	}
	for _, r := range t.work {
		if len(r.Outbox) > 0 {
			if _, ok := s.owed[r.ID]; !ok {
				s.owed[r.ID] = t.now
			}
		} else if len(s.owed) > 0 {
			delete(s.owed, r.ID)
		}
	}
	if len(s.waiters) == 0 {
		return
	}
	for _, r := range t.work {
		if ws := s.waiters[r.ID]; len(ws) > 0 && r.Status.Terminal() {
			for _, ch := range ws {
				close(ch)
			}
			delete(s.waiters, r.ID)
		}
	}
}

var _ transition.ChildTx = (*tx)(nil)

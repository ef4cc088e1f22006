package memory

import (
	"fmt"
	"time"

	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
)

// tx is a transition's view of the store. Transitions change the stored
// records in place; tx keeps a copy of each record as it was before, and
// puts the copies back when the transition fails. s.mu is held for its
// whole life. One tx is reused by every transition of a store, so that a
// transition allocates nothing for its bookkeeping.
type tx struct {
	s       *Store
	now     time.Time
	work    map[string]*sig.Record // records of this transition, by id
	undo    []undo
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

// reset readies t for a new transition.
func (t *tx) reset(s *Store, now time.Time) {
	t.s, t.now = s, now
	if t.work == nil || len(t.work) > maxKept {
		t.work = make(map[string]*sig.Record, 8)
	} else {
		clear(t.work)
	}
	if cap(t.undo) > maxKept {
		t.undo = nil
	}
	clear(t.undo) // drop references to records
	t.undo, t.added, t.expires = t.undo[:0], t.added[:0], t.expires[:0]
}

func (t *tx) Now() time.Time { return t.now }

func (t *tx) Get(id string) (*sig.Record, error) {
	if r, ok := t.work[id]; ok {
		return r, nil
	}
	r := t.s.live(id, t.now)
	if r == nil {
		return nil, fmt.Errorf("record %s: %w", id, storage.ErrNotFound)
	}
	u := undo{live: r, saved: *r}
	if r.Swarm != nil {
		u.swarm = *r.Swarm
	}
	t.undo = append(t.undo, u)
	t.work[id] = r
	return r, nil
}

func (t *tx) Read(id string) (*sig.Record, error) {
	if r, ok := t.work[id]; ok {
		return r, nil
	}
	if r := t.s.live(id, t.now); r != nil {
		return r, nil
	}
	return nil, fmt.Errorf("record %s: %w", id, storage.ErrNotFound)
}

func (t *tx) Insert(r *sig.Record) error {
	if ok, _ := t.Exists(r.ID); ok {
		return fmt.Errorf("record %s: %w", r.ID, storage.ErrExists)
	}
	t.work[r.ID] = r
	t.added = append(t.added, r)
	return nil
}

func (t *tx) Exists(id string) (bool, error) {
	if _, ok := t.work[id]; ok {
		return true, nil
	}
	return t.s.live(id, t.now) != nil, nil
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
	for _, r := range t.added {
		root := sig.RootOf(r.ID)
		g := s.graphs[root]
		if !fresh[root] && (g == nil || !t.now.Before(g.expires)) {
			fresh[root] = true
			// a new graph, or one reusing the id of an expired one
			if g != nil {
				for _, old := range g.ids {
					delete(s.recs, old)
				}
			}
			g = &graph{}
			s.graphs[root] = g
		}
		g.ids = append(g.ids, r.ID)
		s.recs[r.ID] = r
	}
	for _, e := range t.expires {
		if g := s.graphs[e.root]; g != nil {
			g.expires = e.at
		}
	}
	if len(s.waiters) == 0 {
		return
	}
	for id, r := range t.work {
		if ws := s.waiters[id]; len(ws) > 0 && r.Status.Terminal() {
			for _, ch := range ws {
				close(ch)
			}
			delete(s.waiters, id)
		}
	}
}

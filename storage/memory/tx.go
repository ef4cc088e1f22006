package memory

import (
	"fmt"
	"time"

	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
)

// tx is a transition's view of the store: working copies written back on
// commit. s.mu is held for its whole life.
type tx struct {
	s       *Store
	now     time.Time
	work    map[string]*sig.Record
	order   []string
	added   []string
	expires map[string]time.Time
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
	c := r.Clone()
	t.work[id] = c
	t.order = append(t.order, id)
	return c, nil
}

func (t *tx) Insert(r *sig.Record) error {
	if ok, _ := t.Exists(r.ID); ok {
		return fmt.Errorf("record %s: %w", r.ID, storage.ErrExists)
	}
	t.work[r.ID] = r
	t.order = append(t.order, r.ID)
	t.added = append(t.added, r.ID)
	return nil
}

func (t *tx) Exists(id string) (bool, error) {
	if _, ok := t.work[id]; ok {
		return true, nil
	}
	return t.s.live(id, t.now) != nil, nil
}

func (t *tx) Expire(root string, at time.Time) {
	if t.expires == nil {
		t.expires = make(map[string]time.Time, 1)
	}
	t.expires[root] = at
}

func (t *tx) IDs(root string) ([]string, error) {
	var ids []string
	if g := t.s.graphs[root]; g != nil && t.now.Before(g.expires) {
		ids = append(ids, g.ids...)
	}
	for _, id := range t.added {
		if sig.RootOf(id) == root {
			ids = append(ids, id)
		}
	}
	return ids, nil
}

// commit writes the working copies back and wakes waiters of records that
// ended.
func (t *tx) commit() {
	s := t.s
	fresh := map[string]bool{}
	for _, id := range t.added {
		root := sig.RootOf(id)
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
		g.ids = append(g.ids, id)
	}
	for root, at := range t.expires {
		if g := s.graphs[root]; g != nil {
			g.expires = at
		}
	}
	for _, id := range t.order {
		r := t.work[id]
		s.recs[id] = r
		if ws := s.waiters[id]; len(ws) > 0 && r.Status.Terminal() {
			for _, ch := range ws {
				close(ch)
			}
			delete(s.waiters, id)
		}
	}
}

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
	s     *Store
	now   time.Time
	work  map[string]*sig.Record
	order []string
	added []string
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

func (t *tx) IDs(root string) ([]string, error) {
	var ids []string
	for _, id := range t.s.roots[root] {
		if t.s.live(id, t.now) != nil {
			ids = append(ids, id)
		}
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
	for _, id := range t.added {
		root := sig.RootOf(id)
		if _, known := s.recs[id]; !known {
			s.roots[root] = append(s.roots[root], id)
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

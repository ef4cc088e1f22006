package transition

import (
	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
)

// loadSwarm reads swarm id for a transition, which loads it for change
// (m.get) before changing it.
func loadSwarm(tx Tx, id string) (*machine, *sig.Record, error) {
	m := newMachine(tx, sig.RootOf(id))
	s, err := tx.Read(id)
	if err != nil {
		return nil, nil, err
	}
	if s.Kind != sig.KindSwarm || s.Swarm == nil {
		return nil, nil, errorf(id, storage.ErrState, "not a swarm but a %s", s.Kind)
	}
	return m, s, nil
}

// AddItems appends items (with their descendants) to swarm id, which must
// have exactly base items.
func AddItems(tx Tx, id string, base int, items []*sig.Record) (storage.Effects, error) {
	m, s, err := loadSwarm(tx, id)
	if err != nil {
		return storage.Effects{}, err
	}
	st := s.Swarm
	switch {
	case s.Status == sig.Canceled:
		return storage.Effects{}, errorf(id, storage.ErrCanceled, "add items")
	case s.Status.Terminal():
		return storage.Effects{}, errorf(id, storage.ErrState, "add items to a %s swarm", s.Status)
	case st.Closed:
		return storage.Effects{}, errorf(id, storage.ErrState, "add items to a closed swarm")
	case s.Children != base:
		return storage.Effects{}, errorf(id, storage.ErrConflict, "swarm has %d items, not %d", s.Children, base)
	}
	n := 0
	for _, it := range items {
		if it == nil {
			return storage.Effects{}, errorf(id, storage.ErrState, "add a nil item")
		}
		if it.Parent == id && it.Role == sig.RoleChild {
			if it.Index != base+n {
				return storage.Effects{}, errorf(id, storage.ErrState, "item %s has index %d, want %d", it.ID, it.Index, base+n)
			}
			n++
		}
	}
	if max := st.Config.MaxItems; max > 0 && base+n > max {
		return storage.Effects{}, errorf(id, storage.ErrState, "%d items would pass the swarm's cap of %d", base+n, max)
	}
	if s, err = m.get(id); err != nil {
		return storage.Effects{}, err
	}
	st = s.Swarm
	if err := m.insert(items, map[string]bool{id: true}, false); err != nil {
		return storage.Effects{}, err
	}
	s.Children += n
	if max := st.Config.MaxItems; max > 0 && s.Children >= max {
		st.Closed = true
	}
	if s.Status == sig.Active && n > 0 {
		m.fanOut(s)
	}
	if err := m.settle(s); err != nil {
		return storage.Effects{}, err
	}
	return m.finish(id)
}

// CloseSwarm marks swarm id closed.
func CloseSwarm(tx Tx, id string) (storage.Effects, error) {
	m, s, err := loadSwarm(tx, id)
	if err != nil {
		return storage.Effects{}, err
	}
	switch {
	case s.Status == sig.Canceled:
		return storage.Effects{}, errorf(id, storage.ErrCanceled, "close swarm")
	case s.Swarm.Closed:
		return storage.Effects{Source: id}, nil
	case s.Status.Terminal():
		return storage.Effects{}, errorf(id, storage.ErrState, "close a %s swarm", s.Status)
	}
	if s, err = m.get(id); err != nil {
		return storage.Effects{}, err
	}
	s.Swarm.Closed = true
	if err := m.settle(s); err != nil {
		return storage.Effects{}, err
	}
	return m.finish(id)
}

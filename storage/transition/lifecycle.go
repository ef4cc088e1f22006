package transition

import (
	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
)

// Apply performs lifecycle operation op on the graph rooted at root.
func Apply(tx Tx, root string, op sig.Op) (storage.Effects, error) {
	m := newMachine(tx, root)
	r, err := m.get(root)
	if err != nil {
		return storage.Effects{}, err
	}
	if r.Role != sig.RoleRoot {
		return storage.Effects{}, errorf(root, storage.ErrState, "%s: not a root", op)
	}
	m.root = r
	if r.Status.Terminal() {
		return storage.Effects{}, errorf(root, storage.ErrState, "%s: graph is %s", op, r.Status)
	}
	ids, err := tx.IDs(root)
	if err != nil {
		return storage.Effects{}, err
	}
	recs := make([]*sig.Record, 0, len(ids))
	for _, id := range ids {
		x, err := m.get(id)
		if err != nil {
			return storage.Effects{}, err
		}
		recs = append(recs, x)
	}
	switch op {
	case sig.OpSuspend:
		for _, x := range recs {
			if x.Status == sig.Pending || x.Status == sig.Active {
				x.LastStatus, x.Status = x.Status, sig.Suspended
			}
		}
	case sig.OpInterrupt:
		for _, x := range recs {
			switch x.Status {
			case sig.Pending, sig.Active:
				x.LastStatus, x.Status = x.Status, sig.Interrupted
			case sig.Suspended:
				x.Status = sig.Interrupted
			default:
				continue
			}
			if x.Kind == sig.KindTask && x.LastStatus == sig.Active && x.RunID != "" {
				m.cancels = append(m.cancels, x.RunID)
			}
		}
	case sig.OpResume:
		if err := m.resume(recs); err != nil {
			return storage.Effects{}, err
		}
	case sig.OpCancel:
		for _, x := range recs {
			if err := m.cancel(x); err != nil {
				return storage.Effects{}, err
			}
		}
	default:
		return storage.Effects{}, errorf(root, storage.ErrState, "unknown operation %q", op)
	}
	return m.finish(root)
}

// resume puts every paused record back, then starts what was held or
// stopped and lets Active containers decide, parents first.
func (m *machine) resume(recs []*sig.Record) error {
	type action struct {
		x   *sig.Record
		run bool // start a held node or dispatch a task again
	}
	var acts []action
	paused := false
	for _, x := range recs {
		if !x.Status.Paused() {
			continue
		}
		paused = true
		interrupted := x.Status == sig.Interrupted
		switch {
		case x.Kind == sig.KindTask && interrupted && x.LastStatus == sig.Active:
			x.Status = sig.Pending
			acts = append(acts, action{x: x, run: true})
		case x.Held:
			x.Status = sig.Pending
			acts = append(acts, action{x: x, run: true})
		case x.LastStatus == sig.Active && x.Kind != sig.KindTask:
			x.Status = sig.Active
			acts = append(acts, action{x: x})
		default:
			x.Status = x.LastStatus
		}
	}
	if !paused {
		return errorf(m.rootID, storage.ErrState, "resume: graph is not paused")
	}
	for _, a := range acts {
		switch {
		case a.x.Status.Terminal():
		case a.run && a.x.Kind == sig.KindTask:
			m.dispatch(a.x)
		case a.run:
			if err := m.start(a.x); err != nil {
				return err
			}
		case a.x.Kind == sig.KindChain:
			if err := m.advance(a.x); err != nil {
				return err
			}
		case a.x.Kind == sig.KindSwarm:
			if err := m.settle(a.x); err != nil {
				return err
			}
		}
	}
	return nil
}

package transition

import (
	"cmp"
	"slices"
	"strings"

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
	if op == sig.OpRetry {
		if err := m.retryGraph(r); err != nil {
			return storage.Effects{}, err
		}
		return m.finish(root)
	}
	if r.Finished {
		// a root that ended while its graph was paused still has
		// callbacks to resume or cancel: only an ended graph is refused
		return storage.Effects{}, errorf(root, storage.ErrState, "%s: graph is %s", op, r.Status)
	}
	ids, err := tx.IDs(root)
	if err != nil {
		return storage.Effects{}, err
	}
	ids = slices.Clone(ids)
	slices.SortFunc(ids, ComparePlace)
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
				m.cancelRun(x)
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
			m.cancelFlows(x)
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
		case x.Kind == sig.KindTask && interrupted && (x.LastStatus == sig.Active || x.LastStatus == sig.Pending && x.Gen > 0 && x.Entered):
			// its run was stopped, or its dispatch may not have been
			// delivered: it is dispatched again
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
			if err := m.dispatch(a.x); err != nil {
				return err
			}
		case a.run:
			if err := m.start(a.x); err != nil {
				return err
			}
		case a.x.Kind == sig.KindChain:
			if err := m.advance(a.x); err != nil {
				return err
			}
		case a.x.Kind == sig.KindSwarm:
			if a.x.Status == sig.Active {
				m.fanOut(a.x)
			}
			if err := m.settle(a.x); err != nil {
				return err
			}
		}
	}
	return nil
}

// ComparePlace orders the ids of one graph parents first: by depth, then
// place by place, where a container's steps or items come in index order,
// then the success callbacks, then the error callbacks. Lifecycle
// operations visit records in this order on every store.
func ComparePlace(a, b string) int {
	if da, db := strings.Count(a, "."), strings.Count(b, "."); da != db {
		return cmp.Compare(da, db)
	}
	for a != "" && b != "" {
		sa, ra, _ := strings.Cut(a, ".")
		sb, rb, _ := strings.Cut(b, ".")
		if c := compareSegment(sa, sb); c != 0 {
			return c
		}
		a, b = ra, rb
	}
	return cmp.Compare(a, b)
}

// compareSegment orders two segments of ids at one depth: children (a
// number) before success callbacks ("s" and a number) before error
// callbacks ("e" and a number), each by its number; other segments (root
// ids) as strings.
func compareSegment(a, b string) int {
	ra, na, oka := segment(a)
	rb, nb, okb := segment(b)
	if !oka || !okb {
		return cmp.Compare(a, b)
	}
	if ra != rb {
		return cmp.Compare(ra, rb)
	}
	return cmp.Compare(na, nb)
}

// segment returns the rank of an id segment's role and its index.
func segment(s string) (rank, index int, ok bool) {
	switch {
	case s == "":
		return 0, 0, false
	case s[0] == 's':
		rank, s = 1, s[1:]
	case s[0] == 'e':
		rank, s = 2, s[1:]
	}
	if s == "" || len(s) > 9 {
		return 0, 0, false
	}
	for i := 0; i < len(s); i++ {
		if s[i] < '0' || s[i] > '9' {
			return 0, 0, false
		}
		index = 10*index + int(s[i]-'0')
	}
	return rank, index, true
}

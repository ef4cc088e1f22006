package transition

import (
	"fmt"
	"time"

	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
)

// CreateGraph writes every record of g and, with g.Start, enters the root.
func CreateGraph(tx Tx, g storage.Graph) (storage.Effects, error) {
	if len(g.Records) == 0 {
		return storage.Effects{}, fmt.Errorf("create graph: no records: %w", storage.ErrState)
	}
	root := g.Records[0]
	if root == nil || root.Role != sig.RoleRoot || root.Parent != "" || root.ID != root.Root || !sig.ValidID(root.ID) {
		return storage.Effects{}, fmt.Errorf("create graph: first record is not a root: %w", storage.ErrState)
	}
	ok, err := tx.Exists(root.ID)
	if err != nil {
		return storage.Effects{}, err
	}
	if ok {
		return storage.Effects{}, errorf(root.ID, storage.ErrExists, "create graph")
	}
	if g.ActiveTTL <= 0 || g.DoneTTL <= 0 {
		return storage.Effects{}, fmt.Errorf("create graph %s: TTLs must be positive (active %v, done %v): %w", root.ID, g.ActiveTTL, g.DoneTTL, storage.ErrState)
	}
	m := newMachine(tx, root.ID)
	if err := m.insert(g.Records, nil, g.Owned); err != nil {
		return storage.Effects{}, err
	}
	m.root.ActiveTTL, m.root.DoneTTL = g.ActiveTTL, g.DoneTTL
	if g.Start {
		r, err := m.graphRoot()
		if err != nil {
			return storage.Effects{}, err
		}
		if err := m.enter(r, g.Input); err != nil {
			return storage.Effects{}, err
		}
	}
	return m.finish(root.ID)
}

// StartGraph enters the root of a created graph with input.
func StartGraph(tx Tx, root string, input []byte) (storage.Effects, error) {
	m := newMachine(tx, sig.RootOf(root))
	r, err := m.get(root)
	if err != nil {
		return storage.Effects{}, err
	}
	if r.Role != sig.RoleRoot {
		return storage.Effects{}, errorf(root, storage.ErrState, "start: not a root")
	}
	if r.Entered || r.Status.Terminal() {
		return storage.Effects{}, errorf(root, storage.ErrState, "start: graph already started (%s)", r.Status)
	}
	m.root = r
	if err := m.enter(r, input); err != nil {
		return storage.Effects{}, err
	}
	return m.finish(root)
}

// insert validates and adds new records. known holds ids outside recs that
// parents may name (a swarm receiving items).
func (m *machine) insert(recs []*sig.Record, known map[string]bool, owned bool) error {
	prepared, err := Prepare(m.rootID, recs, known, m.now, owned)
	if err != nil {
		return err
	}
	for _, r := range prepared {
		if err := m.tx.Insert(r); err != nil {
			return err
		}
		r.UpdatedAt = m.now
		if r.Role == sig.RoleRoot {
			m.root = r
		}
	}
	return nil
}

// Prepare validates new records of the graph rooted at root and returns
// them ready to store: Pending, timestamps set, run state cleared. They are
// copies, or recs themselves when owned (the caller handed them over).
// known holds ids outside recs that parents may name (a swarm receiving
// items).
// Stores that do not run transitions in Go call it before sending records
// to their scripts.
func Prepare(root string, recs []*sig.Record, known map[string]bool, now time.Time, owned bool) ([]*sig.Record, error) {
	v := newShape(root, known, len(recs))
	out := make([]*sig.Record, 0, len(recs))
	for _, in := range recs {
		if in == nil {
			return nil, fmt.Errorf("create: nil record: %w", storage.ErrState)
		}
		if err := v.add(in); err != nil {
			return nil, err
		}
		r := in
		if !owned {
			r = in.Clone()
		}
		r.Status = sig.Pending
		r.LastStatus = ""
		r.Input, r.Result, r.Error = nil, nil, nil
		r.Entered, r.Held, r.Gen, r.RunID, r.Attempts, r.Cursor = false, false, 0, "", 0, 0
		r.Live, r.Finished, r.Outbox = 0, false, nil
		if r.Kind == sig.KindSwarm {
			st := sig.SwarmState{}
			if r.Swarm != nil {
				st = sig.SwarmState{Config: r.Swarm.Config, Closed: r.Swarm.Closed, Settled: r.Swarm.Settled}
			}
			if st.Config.MaxItems > 0 && r.Children >= st.Config.MaxItems {
				st.Closed = true
			}
			r.Swarm = &st
		} else {
			r.Swarm = nil
		}
		r.CreatedAt, r.UpdatedAt, r.EndedAt = now, now, time.Time{}
		r.ActiveTTL, r.DoneTTL, r.ExpiresAt = 0, 0, time.Time{}
		out = append(out, r)
	}
	if err := v.complete(out); err != nil {
		return nil, err
	}
	return out, nil
}

// Touch sets the expiry of the graph rooted at root to its ActiveTTL from
// now, unless the graph ended.
func Touch(tx Tx, root string) error {
	r, err := tx.Read(root)
	if err != nil {
		return err
	}
	if r.Role != sig.RoleRoot {
		return errorf(root, storage.ErrState, "touch: not a root")
	}
	if !r.Finished {
		tx.Expire(root, tx.Now().Add(r.ActiveTTL))
	}
	return nil
}

package transition

import (
	"time"

	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
)

// retryGraph runs again what failed in the ended graph of root r (Apply
// with sig.OpRetry):
//   - a failed root is revived and entered again with its stored input;
//   - a failed callback (of any node that ended) is revived and entered
//     again with its stored input; the graph's other callbacks, steps and
//     items that ended are kept.
//
// Reviving failed or stopped node x makes it an unentered Pending node
// that continues from where it stopped once entered: a task is
// dispatched again with its stored input and a fresh count of attempts;
// a chain starts again at its current step (the steps before it keep
// their results); a swarm keeps its done items, counts its failures from
// zero and starts its other items again as slots free. x's callbacks are
// reset, unentered: those that fired for the end it had fire again for
// the next one. Nodes under x that were never entered, or were stopped
// before they were, become Pending again.
//
// It refuses (ErrState) a graph that has not ended, was canceled, or in
// which nothing failed.
func (m *machine) retryGraph(r *sig.Record) error {
	switch {
	case r.Status == sig.Canceled:
		return errorf(r.ID, storage.ErrState, "retry: graph is canceled")
	case !r.Finished:
		return errorf(r.ID, storage.ErrState, "retry: graph has not ended")
	}
	n := 0
	if r.Status == sig.Failed {
		if err := m.revive(r); err != nil {
			return err
		}
		if err := m.enter(r, r.Input); err != nil {
			return err
		}
		n++
	} else {
		k, err := m.retryUnder(r, false)
		if err != nil {
			return err
		}
		n += k
	}
	if n == 0 {
		return errorf(r.ID, storage.ErrState, "retry: nothing failed")
	}
	r.Finished = false
	return nil
}

// retryUnder runs again the failed callbacks under x, a node that keeps
// its end: those of x and of its children, at any depth. With stopped, x
// is under a done step or item of a container that is revived, whose
// stop may have canceled x's callbacks, and those under x when x ended
// done (a swarm that failed at its own limit stopped its items itself):
// those run again too. It returns how many it entered.
func (m *machine) retryUnder(x *sig.Record, stopped bool) (int, error) {
	n := 0
	for i := 0; i < x.Children; i++ {
		c, err := m.child(x.ID, i)
		if err != nil {
			return 0, err
		}
		if !c.Entered {
			continue
		}
		k, err := m.retryUnder(c, stopped && x.Status == sig.Done)
		if err != nil {
			return 0, err
		}
		n += k
	}
	for _, cbs := range [...]struct {
		n  int
		id func(string, int) string
	}{{x.OnSuccess, sig.SuccessID}, {x.OnError, sig.ErrorID}} {
		for i := 0; i < cbs.n; i++ {
			cb, err := m.get(cbs.id(x.ID, i))
			if err != nil {
				return 0, err
			}
			switch {
			case !cb.Entered:
			case cb.Status == sig.Failed, stopped && cb.Status == sig.Canceled:
				if err := m.revive(cb); err != nil {
					return 0, err
				}
				if err := m.enter(cb, cb.Input); err != nil {
					return 0, err
				}
				n++
			case cb.Status == sig.Done:
				k, err := m.retryUnder(cb, stopped)
				if err != nil {
					return 0, err
				}
				n += k
			}
		}
	}
	return n, nil
}

// revive readies failed or stopped node x to continue from where it
// stopped once it is entered (see retryGraph).
func (m *machine) revive(x *sig.Record) error {
	newEpoch(x)
	x.Status, x.LastStatus = sig.Pending, ""
	x.Entered, x.Held = false, false
	x.Error = nil
	x.RunID, x.AheadUntil = "", time.Time{}
	x.Attempts = 0
	x.EndedAt = time.Time{}
	switch x.Kind {
	case sig.KindChain:
		for i := 0; i < x.Children; i++ {
			step, err := m.child(x.ID, i)
			if err != nil {
				return err
			}
			if err := m.reviveChild(step, i < x.Cursor); err != nil {
				return err
			}
		}
	case sig.KindSwarm:
		st := x.Swarm
		next := -1
		for i := 0; i < x.Children; i++ {
			item, err := m.child(x.ID, i)
			if err != nil {
				return err
			}
			if item.Status != sig.Done && next < 0 && i < st.Next {
				next = i
			}
			if err := m.reviveChild(item, item.Status == sig.Done); err != nil {
				return err
			}
		}
		if next >= 0 {
			st.Next = next
		}
		st.Running, st.Failed, st.LastError = 0, 0, nil
	}
	return m.resetCallbacks(x)
}

// reviveChild readies step or item c of a revived container: one that
// ended done (kept) keeps its end and has its failed callbacks run
// again; one that failed or was stopped is revived; one never entered
// is reset.
func (m *machine) reviveChild(c *sig.Record, kept bool) error {
	switch {
	case kept:
		_, err := m.retryUnder(c, true)
		return err
	case c.Entered || c.Status == sig.Failed:
		return m.revive(c)
	}
	return m.reset(c)
}

// resetCallbacks resets every callback of x, unentered.
func (m *machine) resetCallbacks(x *sig.Record) error {
	for _, cbs := range [...]struct {
		n  int
		id func(string, int) string
	}{{x.OnSuccess, sig.SuccessID}, {x.OnError, sig.ErrorID}} {
		for i := 0; i < cbs.n; i++ {
			cb, err := m.get(cbs.id(x.ID, i))
			if err != nil {
				return err
			}
			if err := m.reset(cb); err != nil {
				return err
			}
		}
	}
	return nil
}

// reset makes x and everything under it unentered Pending nodes, as they
// were stored: its dispatch generation, the flows its tasks started and
// its outbox stay.
func (m *machine) reset(x *sig.Record) error {
	if x.Status == sig.Pending && !x.Entered {
		return nil // nothing under it was entered either
	}
	newEpoch(x)
	x.Status, x.LastStatus = sig.Pending, ""
	x.Entered, x.Held = false, false
	x.Input, x.Result, x.Error = nil, nil, nil
	x.RunID, x.AheadUntil = "", time.Time{}
	x.Attempts = 0
	x.Cursor = 0
	x.EndedAt = time.Time{}
	if st := x.Swarm; st != nil {
		st.Next, st.Running, st.Done, st.Failed, st.LastError = 0, 0, 0, 0, nil
	}
	for _, ids := range [...]struct {
		n  int
		id func(string, int) string
	}{{x.Children, sig.ChildID}, {x.OnSuccess, sig.SuccessID}, {x.OnError, sig.ErrorID}} {
		for i := 0; i < ids.n; i++ {
			c, err := m.get(ids.id(x.ID, i))
			if err != nil {
				return err
			}
			if err := m.reset(c); err != nil {
				return err
			}
		}
	}
	return nil
}

// newEpoch starts a new epoch of task x that started flows: its next
// attempts start theirs afresh, with ids of the new epoch.
func newEpoch(x *sig.Record) {
	if x.Spawned > 0 {
		x.Epoch++
		x.Spawned = 0
	}
}

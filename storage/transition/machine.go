package transition

import (
	"fmt"
	"time"

	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
)

// machine carries one transition: the records it touched, the dispatches it
// decided and the runs it cancels.
type machine struct {
	tx      Tx
	now     time.Time
	rootID  string
	root    *sig.Record
	out     []sig.Dispatch
	cancels []string
	// stops are the outbox entries of cancels, owed until acknowledged.
	stops []sig.Dispatch
	// swarms are the swarms the transition started.
	swarms []storage.Swarm
	// endsPaused: the task this transition ends was paused (its graph
	// is); if the graph finishes now, finish unpauses what it never
	// entered.
	endsPaused bool
	// ahead is the run for which finish claims the target of the
	// transition's lone dispatch (CompleteAhead); claimed says it did.
	ahead   string
	lease   time.Duration
	claimed bool
}

func newMachine(tx Tx, root string) *machine {
	return &machine{tx: tx, now: tx.Now(), rootID: root}
}

// get loads record id for change, and marks it updated by the transition.
func (m *machine) get(id string) (*sig.Record, error) {
	r, err := m.tx.Get(id)
	if err != nil {
		return nil, err
	}
	r.UpdatedAt = m.now
	return r, nil
}

// child loads child i of container parent for change, and marks it
// updated by the transition.
func (m *machine) child(parent string, i int) (*sig.Record, error) {
	ct, ok := m.tx.(ChildTx)
	if !ok {
		return m.get(sig.ChildID(parent, i))
	}
	r, err := ct.GetChild(parent, i)
	if err != nil {
		return nil, err
	}
	r.UpdatedAt = m.now
	return r, nil
}

// readChild reads child i of container parent.
func (m *machine) readChild(parent string, i int) (*sig.Record, error) {
	if ct, ok := m.tx.(ChildTx); ok {
		return ct.ReadChild(parent, i)
	}
	return m.tx.Read(sig.ChildID(parent, i))
}

// graphRoot loads the root of the graph the transition works on.
func (m *machine) graphRoot() (*sig.Record, error) {
	if m.root != nil {
		return m.root, nil
	}
	r, err := m.get(m.rootID)
	if err != nil {
		return nil, fmt.Errorf("root of graph: %w", err)
	}
	m.root = r
	return r, nil
}

// enter gives node x its input v and starts it, or holds it when x is
// paused.
func (m *machine) enter(x *sig.Record, v []byte) error {
	if x.Status.Terminal() || x.Entered {
		return nil
	}
	root, err := m.graphRoot()
	if err != nil {
		return err
	}
	x.Input = orNull(v)
	x.Entered = true
	root.Live++
	if x.Status.Paused() {
		x.LastStatus = sig.Pending
		x.Held = true
		return nil
	}
	return m.start(x)
}

// start runs an entered node.
func (m *machine) start(x *sig.Record) error {
	x.Held = false
	switch x.Kind {
	case sig.KindTask:
		x.Status = sig.Pending
		return m.dispatch(x)
	case sig.KindChain:
		// a chain starts at its Cursor: 0, or the step a retry runs
		// again, with the input that step had
		x.Status = sig.Active
		step, err := m.child(x.ID, x.Cursor)
		if err != nil {
			return err
		}
		v := x.Input
		if x.Cursor > 0 {
			v = step.Input
		}
		return m.enter(step, v)
	case sig.KindSwarm:
		x.Status = sig.Active
		m.fanOut(x)
		return m.settle(x)
	}
	return fmt.Errorf("record %s has unknown kind %q", x.ID, x.Kind)
}

// fanOut notes that swarm x, active, starts items now (storage.Effects.Swarms).
func (m *machine) fanOut(x *sig.Record) {
	m.swarms = append(m.swarms, storage.Swarm{ID: x.ID, Name: x.DisplayName()})
}

// dispatch decides a new run of task x; its earlier dispatch, if still
// in an outbox, is owed no more.
func (m *machine) dispatch(x *sig.Record) error {
	m.take(x)
	x.Gen++
	x.RunID, x.AheadUntil = "", time.Time{}
	x.Held = false
	m.out = append(m.out, sig.Dispatch{
		Key:      DispatchKey(x.ID, x.Gen),
		Task:     x.Name,
		Target:   x.ID,
		Root:     x.Root,
		Payload:  TaskPayload(x.Args, x.Input),
		Attempts: x.Attempts,
		Epoch:    x.Epoch,
	})
	return nil
}

// end marks x ended.
func (m *machine) end(x *sig.Record) error {
	x.EndedAt = m.now
	if !x.Entered {
		return nil
	}
	root, err := m.graphRoot()
	if err != nil {
		return err
	}
	root.Live--
	return nil
}

// complete makes x Done with result and applies what follows.
func (m *machine) complete(x *sig.Record, result []byte) error {
	x.Status = sig.Done
	x.Result = orNull(result)
	x.Held = false
	if err := m.end(x); err != nil {
		return err
	}
	for i := 0; i < x.OnSuccess; i++ {
		cb, err := m.get(sig.SuccessID(x.ID, i))
		if err != nil {
			return err
		}
		if err := m.enter(cb, x.Result); err != nil {
			return err
		}
	}
	return m.notifyParent(x)
}

// fail makes x Failed with info and applies what follows.
func (m *machine) fail(x *sig.Record, info sig.ErrorInfo) error {
	x.Status = sig.Failed
	x.Error = &info
	x.Held = false
	if err := m.end(x); err != nil {
		return err
	}
	if x.OnError > 0 {
		payload := FailurePayload(x.Input, info)
		for i := 0; i < x.OnError; i++ {
			cb, err := m.get(sig.ErrorID(x.ID, i))
			if err != nil {
				return err
			}
			if err := m.enter(cb, payload); err != nil {
				return err
			}
		}
	}
	return m.notifyParent(x)
}

// notifyParent tells x's container that x ended.
func (m *machine) notifyParent(x *sig.Record) error {
	if x.Role != sig.RoleChild {
		return nil
	}
	p, err := m.get(x.Parent)
	if err != nil {
		return err
	}
	switch p.Kind {
	case sig.KindChain:
		if p.Status == sig.Active && x.Index == p.Cursor {
			return m.advanceFrom(p, x)
		}
		return nil
	case sig.KindSwarm:
		st := p.Swarm
		st.Running--
		if x.Status == sig.Done {
			st.Done++
		} else {
			st.Failed++
			if x.Error != nil {
				e := *x.Error
				st.LastError = &e
			}
		}
		return m.settle(p)
	}
	return fmt.Errorf("record %s: parent %s is a %s", x.ID, p.ID, p.Kind)
}

// advance moves Active chain p on from its current step, if that ended.
func (m *machine) advance(p *sig.Record) error {
	step, err := m.child(p.ID, p.Cursor)
	if err != nil {
		return err
	}
	return m.advanceFrom(p, step)
}

// advanceFrom moves Active chain p on from step, its current step, if that
// ended.
func (m *machine) advanceFrom(p, step *sig.Record) error {
	switch step.Status {
	case sig.Done:
		if p.Cursor+1 < p.Children {
			p.Cursor++
			next, err := m.child(p.ID, p.Cursor)
			if err != nil {
				return err
			}
			return m.enter(next, step.Result)
		}
		return m.complete(p, step.Result)
	case sig.Failed:
		info := sig.ErrorInfo{Message: "step failed"}
		if step.Error != nil {
			info = *step.Error
		}
		return m.fail(p, info)
	}
	return nil
}

// settle makes the decisions of Active swarm s: fail at its failure limit,
// start items in free slots, complete when closed and every item ended.
func (m *machine) settle(s *sig.Record) error {
	if s.Status != sig.Active {
		return nil
	}
	st := s.Swarm
	if lim := st.Config.StopAfterNFailures; lim > 0 && st.Failed >= lim {
		info := sig.ErrorInfo{Task: s.Name}
		if st.LastError != nil {
			info = *st.LastError
		}
		info.Message = fmt.Sprintf("swarm stopped at its limit of %d failed items; last: %s", lim, info.Message)
		info.Kind = sig.ErrorSwarm
		info.Stack = ""
		if err := m.stopItems(s); err != nil {
			return err
		}
		return m.fail(s, info)
	}
	conc := st.Config.MaxConcurrency
	if conc <= 0 {
		conc = sig.DefaultMaxConcurrency
	}
	for st.Running < conc && st.Next < s.Children {
		item, err := m.child(s.ID, st.Next)
		if err != nil {
			return err
		}
		st.Next++
		if item.Status == sig.Done {
			continue // kept from before a retry
		}
		st.Running++
		if err := m.enter(item, s.Input); err != nil {
			return err
		}
	}
	if st.Closed && st.Done+st.Failed == s.Children {
		results := make([][]byte, 0, st.Done)
		for i := 0; i < s.Children; i++ {
			item, err := m.readChild(s.ID, i)
			if err != nil {
				return err
			}
			switch {
			case st.Settled:
				results = append(results, OutcomePayload(i, item))
			case item.Status == sig.Done:
				results = append(results, item.Result)
			}
		}
		return m.complete(s, ListPayload(results))
	}
	return nil
}

// stopItems stops the items of swarm s that started and have not ended,
// when s fails at its failure limit: a failed swarm runs nothing more.
func (m *machine) stopItems(s *sig.Record) error {
	for i := 0; i < s.Swarm.Next; i++ {
		item, err := m.child(s.ID, i)
		if err != nil {
			return err
		}
		if item.Status.Terminal() {
			continue
		}
		if err := m.stop(item); err != nil {
			return err
		}
		s.Swarm.Running--
	}
	return nil
}

// cancel makes x Canceled unless it ended, adding the run of a running
// task to the effects' cancels.
func (m *machine) cancel(x *sig.Record) error {
	if x.Status.Terminal() {
		return nil
	}
	if x.Kind == sig.KindTask && x.RunID != "" && (x.Status == sig.Active || x.LastStatus == sig.Active) {
		m.cancelRun(x)
	}
	m.take(x) // a dispatch not yet delivered is moot
	x.LastStatus, x.Status = x.Status, sig.Canceled
	x.Held = false
	return m.end(x)
}

// cancelRun decides that the backend run holding task x stops: the run is
// in the effects' cancels and, until acknowledged, in the outbox.
func (m *machine) cancelRun(x *sig.Record) {
	m.cancels = append(m.cancels, x.RunID)
	m.stops = append(m.stops, sig.Dispatch{Key: CancelKey(x.RunID), Task: x.Name, Target: x.ID, Root: x.Root, Cancel: x.RunID})
}

// cancelFlows decides that the flows task x started inside it are
// canceled with it: an entry owed until acknowledged, which the engine
// delivers by canceling each.
func (m *machine) cancelFlows(x *sig.Record) {
	if x.Kind == sig.KindTask && x.Spawned > 0 {
		m.stops = append(m.stops, sig.Dispatch{Key: FlowsKey(x.ID), Task: x.Name, Target: x.ID, Root: x.Root, Spawned: x.Spawned, Epoch: x.Epoch})
	}
}

// take acknowledges the lone dispatches task x owes itself, which a claim
// just took (or which a cancel or a new dispatch made moot): they leave
// x's outbox, which the caller writes anyway. x is loaded for change.
func (m *machine) take(x *sig.Record) {
	n := 0
	for _, d := range x.Outbox {
		if selfStart(x, d) {
			n++
		}
	}
	if n == 0 {
		return
	}
	// a new slice: the outbox may share its array with effects handed out
	// earlier
	var kept []sig.Dispatch
	if n < len(x.Outbox) {
		kept = make([]sig.Dispatch, 0, len(x.Outbox)-n)
		for _, d := range x.Outbox {
			if !selfStart(x, d) {
				kept = append(kept, d)
			}
		}
	}
	x.Outbox = kept
}

// selfStart reports whether d is a start of x itself: a lone dispatch x
// owes until it is claimed.
func selfStart(x *sig.Record, d sig.Dispatch) bool {
	return d.Cancel == "" && d.Spawned == 0 && d.Target == x.ID
}

// stop cancels x and whatever under it has not ended (steps, items,
// callbacks), and returns the runs of its running tasks in the effects'
// cancels, and the flows its tasks started in their flows. No callback of a stopped node fires, and no parent hears of it.
func (m *machine) stop(x *sig.Record) error {
	if err := m.cancel(x); err != nil {
		return err
	}
	m.cancelFlows(x)
	for _, ids := range [...]struct {
		n  int
		id func(string, int) string
	}{{x.Children, sig.ChildID}, {x.OnSuccess, sig.SuccessID}, {x.OnError, sig.ErrorID}} {
		for i := 0; i < ids.n; i++ {
			c, err := m.get(ids.id(x.ID, i))
			if err != nil {
				return err
			}
			if err := m.stop(c); err != nil {
				return err
			}
		}
	}
	return nil
}

// finish writes the decided dispatches and cancels to source's outbox (a
// lone dispatch to its target's own, named in source's Lone: the target's
// claim takes it there, in a write it makes anyway), sets expiries, and
// returns the effects.
func (m *machine) finish(source string) (storage.Effects, error) {
	if len(m.out) == 1 && len(m.stops) == 0 {
		s, err := m.get(source)
		if err != nil {
			return storage.Effects{}, err
		}
		s.Lone = m.out[0].Target
		source = s.Lone
		if err := m.claimAhead(); err != nil {
			return storage.Effects{}, err
		}
	}
	eff := storage.Effects{Source: source, Dispatches: m.out, Cancels: m.cancels, Swarms: m.swarms}
	if m.claimed {
		eff.Claimed = m.ahead
	}
	for _, d := range m.stops {
		if d.Spawned > 0 {
			eff.Flows = append(eff.Flows, d)
		}
	}
	if len(m.out)+len(m.stops) > 0 {
		src, err := m.get(source)
		if err != nil {
			return storage.Effects{}, err
		}
		if len(src.Outbox) == 0 && len(m.stops) == 0 {
			// The outbox and the effects share the dispatches, which
			// nothing changes in place (Ack and take build a new outbox).
			src.Outbox = m.out[:len(m.out):len(m.out)]
		} else {
			src.Outbox = append(append(src.Outbox[:len(src.Outbox):len(src.Outbox)], m.out...), m.stops...)
		}
	}
	// The root is read for the expiry; it is changed (and marked
	// updated) only if this transition changed it or ends the graph now.
	root := m.root
	if root == nil {
		r, err := m.tx.Read(m.rootID)
		if err != nil {
			return storage.Effects{}, fmt.Errorf("root of graph: %w", err)
		}
		root = r
	}
	switch {
	case root.Finished:
	case root.Status.Terminal() && root.Live <= 0:
		if m.root == nil {
			r, err := m.graphRoot()
			if err != nil {
				return storage.Effects{}, err
			}
			root = r
		}
		root.Finished = true
		if m.endsPaused {
			if err := m.unpauseUnentered(); err != nil {
				return storage.Effects{}, err
			}
		}
		m.tx.Expire(m.rootID, m.now.Add(root.DoneTTL))
		eff.Ended = root.Clone()
	default:
		m.tx.Expire(m.rootID, m.now.Add(root.ActiveTTL))
	}
	return eff, nil
}

// claimAhead claims the target of the transition's lone dispatch for run
// m.ahead, when it is set and a claim would take the target: the target
// becomes Active for that run, with the claim's lease in AheadUntil, and
// the dispatch names the run. Its outbox is written after, with the
// dispatch in it.
func (m *machine) claimAhead() error {
	if m.ahead == "" || len(m.cancels) > 0 {
		return nil
	}
	d := &m.out[0]
	t, err := m.get(d.Target)
	if err != nil {
		return err
	}
	if t.Kind != sig.KindTask || t.Status != sig.Pending || !t.Entered || t.RunID != "" || t.Held {
		return nil
	}
	t.Status = sig.Active
	t.RunID = m.ahead
	t.AheadUntil = m.now.Add(m.lease)
	t.Attempts++
	d.Run = m.ahead
	m.claimed = true
	return nil
}

// unpauseUnentered puts the records a graph that finished while paused
// never entered back to Pending: a finished graph holds no paused record
// (the entered ones all ended).
func (m *machine) unpauseUnentered() error {
	ids, err := m.tx.IDs(m.rootID)
	if err != nil {
		return err
	}
	for _, id := range ids {
		r, err := m.tx.Read(id)
		if err != nil {
			return err
		}
		if r.Entered || !r.Status.Paused() {
			continue
		}
		if r, err = m.get(id); err != nil {
			return err
		}
		r.Status = sig.Pending
	}
	return nil
}

// replay returns the effects still owed by x's outbox, or, when it owes
// nothing, the lone dispatch of x's latest transition if its target still
// waits for it.
func replay(tx Tx, x *sig.Record) storage.Effects {
	ob := owed(tx, x).Outbox
	if len(ob) == 0 {
		if d, ok := lone(tx, x); ok {
			return storage.EffectsOf(d.Target, []sig.Dispatch{d})
		}
		return storage.EffectsOf(x.ID, ob)
	}
	return storage.EffectsOf(x.ID, withLone(tx, x, ob))
}

// withLone returns ob, what x's outbox owes, with the lone dispatch of
// x's latest transition after it if its target still waits for it: who
// sends what x owes sends that too (its target's claim takes it).
func withLone(tx Tx, x *sig.Record, ob []sig.Dispatch) []sig.Dispatch {
	if d, ok := lone(tx, x); ok {
		return append(ob[:len(ob):len(ob)], d)
	}
	return ob
}

// lone returns the lone dispatch of x's latest transition, if its target
// still waits for it.
func lone(tx Tx, x *sig.Record) (sig.Dispatch, bool) {
	if x.Lone == "" {
		return sig.Dispatch{}, false
	}
	t, err := tx.Read(x.Lone)
	if err != nil {
		return sig.Dispatch{}, false
	}
	for _, d := range t.Outbox {
		if selfStart(t, d) && Undelivered(t, d.Key) {
			return d, true
		}
	}
	return sig.Dispatch{}, false
}

func errorf(id string, sentinel error, format string, args ...any) error {
	return fmt.Errorf("%s: %s: %w", id, fmt.Sprintf(format, args...), sentinel)
}

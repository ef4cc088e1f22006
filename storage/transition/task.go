package transition

import (
	"time"

	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
)

// loadTask readies m for a transition of task id and reads the task; a
// transition that changes it loads it for change with m.get first, so
// that one that changes nothing writes nothing.
func loadTask(m *machine, tx Tx, id string) (*sig.Record, error) {
	*m = machine{tx: tx, now: tx.Now(), rootID: sig.RootOf(id)}
	x, err := tx.Read(id)
	if err != nil {
		return nil, err
	}
	if x.Kind != sig.KindTask {
		return nil, errorf(id, storage.ErrState, "not a task but a %s", x.Kind)
	}
	return x, nil
}

// Claim takes task id for run runID.
func Claim(tx Tx, id, runID string) (storage.Claim, error) {
	var m machine
	x, err := loadTask(&m, tx, id)
	if err != nil {
		return storage.Claim{}, err
	}
	outcome := storage.Claimed
	switch x.Status {
	case sig.Done, sig.Failed:
		c := owed(tx, x)
		c.Outbox = withLone(tx, x, c.Outbox) // resent; the target's claim takes the lone one
		return storage.Claim{Outcome: storage.Ended, Record: c}, nil
	case sig.Canceled:
		return storage.Claim{Outcome: storage.Dropped, Record: x.Clone()}, nil
	case sig.Suspended, sig.Interrupted:
		if x.Gen == 0 || !x.Entered {
			// never dispatched (or reset by a retry since): a stray
			// delivery, nothing to hold
			return storage.Claim{Outcome: storage.Dropped, Record: x.Clone()}, nil
		}
		if x.LastStatus == sig.Active && x.RunID != runID && !leaseOver(x, m.now) {
			// the holder still runs; this is another delivery (a
			// claim made ahead whose lease is over has no holder: the
			// delivery of its dispatch is held)
			return storage.Claim{Outcome: storage.Duplicate, Record: x.Clone()}, nil
		}
		if x, err = m.get(id); err != nil {
			return storage.Claim{}, err
		}
		x.LastStatus = sig.Pending
		x.RunID, x.AheadUntil = "", time.Time{}
		x.Held = true
		outcome = storage.Held
		m.take(x)
	case sig.Pending:
		if x.Gen == 0 || !x.Entered {
			// never dispatched, or reset by a retry since (a callback
			// that fires again only at its node's next end)
			return storage.Claim{Outcome: storage.Dropped, Record: x.Clone()}, nil
		}
		if x, err = m.get(id); err != nil {
			return storage.Claim{}, err
		}
		x.Status = sig.Active
		x.RunID = runID
		x.Attempts++
		m.take(x)
	case sig.Active:
		if x.RunID != runID && !leaseOver(x, m.now) {
			return storage.Claim{Outcome: storage.Duplicate, Record: x.Clone()}, nil
		}
		if x, err = m.get(id); err != nil {
			return storage.Claim{}, err
		}
		if x.RunID != runID {
			// a claim made ahead whose lease is over: its worker died
			// before the run started, and this delivery of the dispatch
			// takes it over (the claim made ahead counted the attempt)
			x.RunID = runID
		} else {
			x.Attempts++ // a retry, or a delivery again of the attempt
		}
		// of a claim made ahead, the run's first claim of its own: its
		// dispatch is owed no more
		confirm(&m, x)
	}
	if _, err := m.finish(id); err != nil {
		return storage.Claim{}, err
	}
	if outcome == storage.Claimed {
		return storage.Claim{Outcome: outcome}, nil // the run needs no record
	}
	return storage.Claim{Outcome: outcome, Record: x.Clone()}, nil
}

// leaseOver reports whether task x holds a claim made ahead whose lease
// ended by now.
func leaseOver(x *sig.Record, now time.Time) bool {
	return x.ClaimedAhead() && !now.Before(x.AheadUntil)
}

// owed returns x with, in its outbox, only what is still owed: every
// cancel (of a run or of flows), and the dispatches not delivered yet. A dispatch whose target
// was since claimed, held, ended or given a later dispatch is owed no
// more, even if nothing acknowledged it.
func owed(tx Tx, x *sig.Record) *sig.Record {
	c := x.Clone()
	c.Outbox = c.Outbox[:0]
	for _, d := range x.Outbox {
		if d.Cancel != "" || d.Spawned > 0 {
			c.Outbox = append(c.Outbox, d)
		} else if t, err := tx.Read(d.Target); err == nil && Undelivered(t, d.Key) {
			c.Outbox = append(c.Outbox, d)
		}
	}
	return c
}

// Owed returns the effects record id's outbox still owes, and drops from
// the outbox the entries owed no more.
func Owed(tx Tx, id string) (storage.Effects, error) {
	x, err := tx.Get(id)
	if err != nil {
		return storage.Effects{}, err
	}
	c := owed(tx, x)
	if len(c.Outbox) != len(x.Outbox) {
		x.Outbox = c.Outbox
		if len(x.Outbox) == 0 {
			x.Outbox = nil
		}
	}
	return storage.EffectsOf(id, withLone(tx, x, c.Outbox)), nil
}

// Undelivered reports whether task t still waits for its dispatch key:
// it is that dispatch's generation, and no run claimed or held it, or the
// claim was made ahead and its run has not confirmed it (while the
// claim's lease lasts, its delivery is refused as a duplicate).
func Undelivered(t *sig.Record, key string) bool {
	if t.ClaimedAhead() && (t.Status == sig.Active || (t.Status.Paused() && t.LastStatus == sig.Active)) {
		return IsDispatchKey(key, t.ID, t.Gen)
	}
	waiting := t.Status == sig.Pending || (t.Status == sig.Suspended && t.LastStatus == sig.Pending)
	return waiting && t.Entered && t.RunID == "" && !t.Held && IsDispatchKey(key, t.ID, t.Gen)
}

// owned checks that runID may end task x; ended reports a replay.
func owned(x *sig.Record, runID string) (ended bool, err error) {
	switch {
	case x.Status == sig.Canceled:
		return false, errorf(x.ID, storage.ErrCanceled, "end task")
	case x.RunID == "" || x.RunID != runID:
		return false, errorf(x.ID, storage.ErrNotOwner, "end task as run %s", runID)
	case x.Status == sig.Done || x.Status == sig.Failed:
		return true, nil
	case x.Status == sig.Pending:
		return false, errorf(x.ID, storage.ErrNotOwner, "end unclaimed task")
	}
	return false, nil
}

// Complete records the result of task id run by runID.
func Complete(tx Tx, id, runID string, result []byte) (storage.Effects, error) {
	return CompleteAhead(tx, id, runID, result, "", 0)
}

// CompleteAhead records the result of task id run by runID and, when next
// is not empty and the operation dispatches one task alone, claims that
// task for run next, with a lease of lease (storage.Aheader).
func CompleteAhead(tx Tx, id, runID string, result []byte, next string, lease time.Duration) (storage.Effects, error) {
	var m machine
	x, err := loadTask(&m, tx, id)
	if err != nil {
		return storage.Effects{}, err
	}
	ended, err := owned(x, runID)
	if err != nil {
		return storage.Effects{}, err
	}
	if ended {
		if x.Status != sig.Done {
			return storage.Effects{}, errorf(id, storage.ErrState, "complete a %s task", x.Status)
		}
		eff := replay(tx, x)
		if next != "" && len(eff.Dispatches) == 1 && len(eff.Cancels) == 0 {
			if t, err := tx.Read(eff.Dispatches[0].Target); err == nil && t.Status == sig.Active && t.ClaimedAhead() && t.RunID == next && m.now.Before(t.AheadUntil) {
				eff.Claimed = next // the claim this operation made
			}
		}
		return eff, nil
	}
	if x, err = m.get(id); err != nil {
		return storage.Effects{}, err
	}
	confirm(&m, x)
	m.endsPaused = x.Status.Paused()
	m.ahead, m.lease = next, lease
	if err := m.complete(x, result); err != nil {
		return storage.Effects{}, err
	}
	return m.finish(id)
}

// confirm makes the claim of task x made ahead its run's own: its
// dispatch, in its own outbox, is owed no more. x is loaded for change.
func confirm(m *machine, x *sig.Record) {
	if x.ClaimedAhead() {
		x.AheadUntil = time.Time{}
		m.take(x)
	}
}

// Confirm makes the claim of task id made ahead for runID the run's own.
func Confirm(tx Tx, id, runID string) error {
	var m machine
	x, err := loadTask(&m, tx, id)
	if err != nil {
		return err
	}
	if !x.ClaimedAhead() || x.RunID != runID {
		return nil
	}
	if x, err = tx.Get(id); err != nil {
		return err
	}
	confirm(&m, x)
	return nil
}

// Fail records the final failure of task id run by runID.
func Fail(tx Tx, id, runID string, info sig.ErrorInfo) (storage.Effects, error) {
	var m machine
	x, err := loadTask(&m, tx, id)
	if err != nil {
		return storage.Effects{}, err
	}
	ended, err := owned(x, runID)
	if err != nil {
		return storage.Effects{}, err
	}
	if ended {
		if x.Status != sig.Failed {
			return storage.Effects{}, errorf(id, storage.ErrState, "fail a %s task", x.Status)
		}
		return replay(tx, x), nil
	}
	if x, err = m.get(id); err != nil {
		return storage.Effects{}, err
	}
	confirm(&m, x)
	m.endsPaused = x.Status.Paused()
	if x.Status == sig.Interrupted {
		// the interrupt stopped it; resume runs it again
		x.LastStatus = sig.Pending
		x.RunID = ""
		x.Held = true
		return m.finish(id)
	}
	if err := m.fail(x, info); err != nil {
		return storage.Effects{}, err
	}
	return m.finish(id)
}

// Ack removes the dispatches with the given keys from id's outbox.
func Ack(tx Tx, id string, keys []string) error {
	x, err := tx.Get(id)
	if err != nil {
		return err
	}
	if len(x.Outbox) == 0 || len(keys) == 0 {
		return nil
	}
	drop := make(map[string]bool, len(keys))
	for _, k := range keys {
		drop[k] = true
	}
	kept := x.Outbox[:0:0]
	for _, d := range x.Outbox {
		// the start of a task claimed ahead is owed until its run
		// confirms the claim, or another takes it over: no Ack takes it
		if !drop[d.Key] || (x.ClaimedAhead() && selfStart(x, d)) {
			kept = append(kept, d)
		}
	}
	x.Outbox = kept
	return nil
}

// Spawn records that task id started its n-th flow with a derived id.
func Spawn(tx Tx, id string, n int) error {
	x, err := tx.Read(id)
	if err != nil {
		return err
	}
	switch {
	case x.Kind != sig.KindTask:
		return errorf(id, storage.ErrState, "spawn: not a task but a %s", x.Kind)
	case x.Status == sig.Canceled:
		return errorf(id, storage.ErrCanceled, "spawn")
	case n < 1:
		return errorf(id, storage.ErrState, "spawn: flow number %d", n)
	case x.Spawned >= n:
		return nil
	}
	if x, err = tx.Get(id); err != nil {
		return err
	}
	x.Spawned = n
	return nil
}

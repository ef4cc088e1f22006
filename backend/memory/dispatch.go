package memory

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"strconv"

	"github.com/mageflow-go/mageflow/backend"
)

// Dispatch creates a run of d.Task and returns its id; it never blocks. A
// non-empty d.Key of a run that has not ended returns that run's id without
// a new run; a repeat after the run ended is a new run (in a flow, the
// store's claim refuses it), so keys are not kept for the Backend's life.
// Dispatch fails with an error wrapping [backend.ErrUnknownTask] when
// d.Task is not registered, [backend.ErrStopped] once stop was called, and
// [ErrCrashed] when a [CrashBeforeDispatch] fault blocks it.
func (b *Backend) Dispatch(ctx context.Context, d backend.Dispatch) (runID string, err error) {
	if err := ctx.Err(); err != nil {
		return "", fmt.Errorf("backend/memory: dispatch %q: %w", d.Task, err)
	}
	from := b.attemptFrom(ctx)

	b.mu.Lock()
	defer b.mu.Unlock()
	if b.state == stopped {
		return "", fmt.Errorf("backend/memory: dispatch %q: %w", d.Task, backend.ErrStopped)
	}
	t, ok := b.tasks[d.Task]
	if !ok {
		return "", fmt.Errorf("backend/memory: dispatch %q: %w", d.Task, backend.ErrUnknownTask)
	}
	if from != nil && b.crash(from) {
		if rv, ok := b.reserved[d.Run]; ok && d.Run != "" {
			// the store claimed the run's record for it: a dispatch of it
			// again (the redelivered task's) makes the run of that id
			rv.dead = true
			b.reserved[d.Run] = rv
			from.run.dead = d.Run // forgotten when that run ends
		}
		return "", fmt.Errorf("backend/memory: dispatch %q from run %s: %w (%w)", d.Task, from.run.id, ErrCrashed, backend.ErrStopped)
	}
	if d.Key != "" {
		if id, ok := b.keys[d.Key]; ok {
			b.stats.Deduplicated++
			return id, nil
		}
	}
	if d.Run != "" {
		if _, ok := b.runs[d.Run]; ok {
			b.stats.Deduplicated++ // the run it names lives
			return d.Run, nil
		}
		rv, ok := b.reserved[d.Run]
		delete(b.reserved, d.Run)
		switch {
		case !ok:
			// not reserved here, or made and ended: a run of its own
			d.Run, d.Claimed = "", false
		case rv.canceled:
			return d.Run, nil // canceled before it was made: it never starts
		case rv.dead:
			d.Claimed = false // dispatched again: its claim says what it finds
		}
	}
	var r *run
	if from != nil && from.tail == nil && b.state == started && backend.IsTail(ctx) {
		r = b.makeRun(t, d)
		r.state = runQueued // held by the attempt, not in the queue
		from.tail = r
	} else {
		r = b.newRun(t, d)
	}
	if d.Key != "" {
		b.keys[d.Key] = r.id
	}
	if b.fire(DuplicateDelivery, d.Task) {
		dup := d
		dup.Run, dup.Claimed = "", false // another run of the same dispatch
		b.newRun(t, dup)
	}
	return r.id, nil
}

// newRun creates a run of d with a fresh id and queues its first attempt.
// b.mu must be held.
func (b *Backend) newRun(t *task, d backend.Dispatch) *run {
	r := b.makeRun(t, d)
	b.enqueue(r)
	return r
}

// makeRun creates a run of d with the id d names (NextRun reserved it),
// else a fresh one. b.mu must be held.
func (b *Backend) makeRun(t *task, d backend.Dispatch) *run {
	id := d.Run
	if id == "" {
		id = b.newID()
	}
	r := &run{
		id:      id,
		claimed: d.Claimed && d.Run != "",
		task:    t,
		payload: d.Payload,
		record:  d.Record,
		root:    d.Root,
		meta:    d.Meta,
		key:     d.Key,
		attempt: 1,
		fresh:   true,
	}
	b.runs[r.id] = r
	b.stats.Dispatched++
	return r
}

// newID returns a fresh run id. b.mu must be held.
func (b *Backend) newID() string {
	b.seq++
	return runID(b.seq)
}

// NextRun implements backend.Continuer: the id the run of the dispatch
// that the handler whose context is ctx makes as its last act will have
// ("mem-<tag>-<n>", the tag unique to b), reserved for it until that
// dispatch or the attempt's end; "" when ctx is not the context of a
// running attempt of b, the attempt already made such a dispatch or
// reservation, or b is stopping. Canceling a reserved run before its
// dispatch makes that dispatch start nothing. A dispatch that names a
// run (backend.Dispatch.Run) gets the run while it lives, makes it when
// it is reserved (also after a crash fault lost its first dispatch), and
// is otherwise a run of its own.
func (b *Backend) NextRun(ctx context.Context) string {
	from := b.attemptFrom(ctx)
	if from == nil {
		return ""
	}
	b.mu.Lock()
	defer b.mu.Unlock()
	if from.tail != nil || from.reserved != "" || b.state != started {
		return ""
	}
	b.seq++
	var buf [48]byte
	id := string(strconv.AppendUint(append(append(append(buf[:0], "mem-"...), b.tag...), '-'), b.seq, 10))
	b.reserved[id] = reservation{}
	from.reserved = id
	return id
}

// reservation is a run id NextRun reserved and no dispatch made yet.
type reservation struct {
	// canceled: Cancel canceled the run before it was made.
	canceled bool
	// dead: its dispatch was lost to a crash fault; it lives on after
	// the attempt, for the dispatch again that makes the run, until the
	// run whose attempt reserved it ends.
	dead bool
}

// newTag returns a random tag for a Backend's reserved run ids.
func newTag() string {
	var t [4]byte
	_, _ = rand.Read(t[:])
	return hex.EncodeToString(t[:])
}

// enqueue puts r in the queue and wakes a worker. b.mu must be held.
func (b *Backend) enqueue(r *run) {
	r.state = runQueued
	b.queue.push(r)
	b.cond.Signal()
}

// runID is the id of run n: "mem-<n>".
func runID(n uint64) string {
	var buf [24]byte
	return string(strconv.AppendUint(append(buf[:0], "mem-"...), n, 10))
}

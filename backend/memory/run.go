package memory

import (
	"context"
	"time"

	"github.com/mageflow-go/mageflow/backend"
)

// runState is where a run is; a run is in exactly one place at a time.
type runState int

const (
	runQueued  runState = iota // in the queue, waiting for a worker
	runRunning                 // a handler is executing an attempt
	runWaiting                 // waiting for its retry backoff
	runEnded                   // succeeded, failed or canceled
)

// run is one dispatched run and its current attempt. All fields are guarded
// by Backend.mu.
type run struct {
	id      string
	task    *task // its spec and handler
	payload []byte
	record  string
	root    string
	meta    map[string]string
	key     string // the dispatch's dedupe key, kept in Backend.keys while the run lives
	// claimed: the store claimed the run's record for it when the run
	// was dispatched; its first delivery says so.
	claimed bool
	// dead is the reservation a crash fault made this run's attempt lose
	// the dispatch of (see reservation), forgotten when the run ends.
	dead string

	// first is the attempt of the run's first delivery, made with the
	// run: a delivery costs no allocation of its own; fresh is true
	// until it is used.
	first attempt
	fresh bool

	attempt  int
	state    runState
	canceled bool        // canceled while running: ends when the handler returns
	live     *attempt    // the running attempt, while runRunning
	timer    *time.Timer // the backoff timer, while runWaiting
}

// delivery returns the current attempt as handed to the handler. Payload and
// metadata are the dispatch's own: handlers only read them.
func (r *run) delivery() backend.Delivery {
	return backend.Delivery{
		Task:        r.task.spec.Name,
		Payload:     r.payload,
		Record:      r.record,
		Root:        r.root,
		Meta:        r.meta,
		RunID:       r.id,
		Attempt:     r.attempt,
		MaxAttempts: r.task.spec.MaxAttempts(),
		Claimed:     r.claimed,
	}
}

// logAttrs are the structured fields that identify the run in logs.
func (r *run) logAttrs() []any { return logAttrs(r.task.spec.Name, r.id, r.attempt, r.record, r.root) }

// attemptFrom returns the delivery of b whose handler ctx (or a context
// derived from it) is ctx, or nil.
func (b *Backend) attemptFrom(ctx context.Context) *attempt {
	a, _ := ctx.Value(attemptKey{}).(*attempt)
	if a == nil || a.b != b {
		return nil
	}
	return a
}

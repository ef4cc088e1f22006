package storage

import (
	"context"
	"errors"
	"time"

	"github.com/mageflow-go/mageflow/sig"
)

// Sentinel errors. Implementations wrap them with the id concerned.
var (
	// ErrNotFound: no record with that id (never created, or expired).
	ErrNotFound = errors.New("storage: record not found")
	// ErrExists: a graph with that root id already exists.
	ErrExists = errors.New("storage: graph already exists")
	// ErrNotOwner: the task is claimed by another run.
	ErrNotOwner = errors.New("storage: task claimed by another run")
	// ErrCanceled: the record was canceled.
	ErrCanceled = errors.New("storage: record canceled")
	// ErrConflict: the swarm's item count changed; lower the items again.
	ErrConflict = errors.New("storage: swarm changed concurrently")
	// ErrState: the operation does not apply to the record in its status
	// or of its kind (closing a finished swarm, resuming a running graph).
	ErrState = errors.New("storage: operation does not apply")
	// ErrCorrupt: a stored value could not be read: corrupted, or written
	// by something else under the store's keys.
	ErrCorrupt = errors.New("storage: stored value is corrupt or foreign")
)

// Graph is a lowered graph to create: every record of it, root first.
type Graph struct {
	// Records are the graph's records. Records[0] is the root; each
	// record's parent comes before it. The store sets Status, timestamps
	// and expiry; the caller sets the rest of the shape.
	Records []*sig.Record
	// ActiveTTL and DoneTTL are the graph's TTLs; both must be positive.
	ActiveTTL time.Duration
	DoneTTL   time.Duration
	// Start enters the root with Input in the same operation.
	Start bool
	// Input is the root's input (JSON) when Start is set.
	Input []byte
	// Owned hands Records over to the store, which may then keep and
	// change them instead of copying them: the caller does not use them
	// after the call.
	Owned bool
}

// Effects are what a transition decided that must happen outside the
// store: dispatches to send and backend runs to cancel. Both are kept in
// the outbox of Source until acknowledged with [Store.Ack] (a dispatch's
// key, or for a cancel the key transition.CancelKey gives), or, for a dispatch,
// until its target's claim takes it.
type Effects struct {
	// Source is the record whose outbox holds the effects.
	Source string
	// Dispatches are the task runs to hand to the backend.
	Dispatches []sig.Dispatch
	// Cancels are backend run ids to cancel (interrupt, cancel, a swarm
	// stopping at its failure limit).
	Cancels []string
	// Flows are the entries (Spawned set) whose targets' flows, started
	// inside them, are to be canceled with them (cancel, a swarm stopping
	// at its failure limit).
	Flows []sig.Dispatch
	// Ended is the graph's root as this operation left it when the
	// operation ended the graph (its root and its callbacks: Finished),
	// nil otherwise: the engine tells its middlewares (middleware.Ender).
	// Its ExpiresAt is zero.
	Ended *sig.Record
	// Swarms are the swarms this operation started (entered, resumed or
	// retried), whose first items' dispatches are among Dispatches: the
	// engine tells its middlewares (middleware.Fanner) before it sends
	// them. Nil when it started none.
	Swarms []Swarm
	// Claimed is the run for which the operation claimed the target of
	// its lone dispatch ([Aheader]); empty when it claimed none.
	Claimed string
}

// Swarm names a swarm an operation started: its record's id and the name
// the tools show for it (its label, else its name).
type Swarm struct{ ID, Name string }

// EffectsOf returns the effects that outbox entries of record source
// stand for: starts as Dispatches, stopped runs as Cancels, flows to
// cancel as Flows.
func EffectsOf(source string, outbox []sig.Dispatch) Effects {
	eff := Effects{Source: source}
	for _, d := range outbox {
		switch {
		case d.Cancel != "":
			eff.Cancels = append(eff.Cancels, d.Cancel)
		case d.Spawned > 0:
			eff.Flows = append(eff.Flows, d)
		default:
			eff.Dispatches = append(eff.Dispatches, d)
		}
	}
	return eff
}

// Outcome is what a claim found.
type Outcome int

// The outcomes of a claim.
const (
	// Claimed: the run holds the task and executes it.
	Claimed Outcome = iota + 1
	// Ended: the task already ended; the run re-sends Record.Outbox and
	// stops.
	Ended
	// Duplicate: another run holds the task; this run stops.
	Duplicate
	// Held: the task is suspended or interrupted; its input is kept and it
	// runs again when the graph is resumed.
	Held
	// Dropped: the task was canceled, or never dispatched; the run stops.
	Dropped
)

// String names the outcome.
func (o Outcome) String() string {
	switch o {
	case Claimed:
		return "claimed"
	case Ended:
		return "ended"
	case Duplicate:
		return "duplicate"
	case Held:
		return "held"
	case Dropped:
		return "dropped"
	}
	return "unknown"
}

// Claim is the result of [Store.Claim].
type Claim struct {
	Outcome Outcome
	// Record is the task's record after the claim (for Ended, with only
	// the dispatches its outbox still owes), except for Claimed: the run
	// has what it needs, and the store does not send the record back.
	Record *sig.Record
}

// Store keeps the records of started graphs. See the package documentation
// for the contract every implementation keeps.
type Store interface {
	// CreateGraph writes every record of g at once, and with g.Start enters
	// the root with g.Input. It returns ErrExists when the root exists.
	CreateGraph(ctx context.Context, g Graph) (Effects, error)

	// StartGraph enters the root of a created, not yet started graph with
	// input. It returns ErrState when the graph was already started.
	StartGraph(ctx context.Context, root string, input []byte) (Effects, error)

	// Claim takes task id for backend run runID: a dispatched Pending task
	// becomes Active with RunID set and Attempts incremented; an Active
	// task already held by runID is claimed again (a retry). Other states
	// give the other outcomes.
	Claim(ctx context.Context, id, runID string) (Claim, error)

	// Complete records the result of task id run by runID, marks it Done
	// and applies everything that follows (see the package documentation).
	// Replayed on a Done task of the same run, it returns the dispatches
	// still in the outbox.
	Complete(ctx context.Context, id, runID string, result []byte) (Effects, error)

	// Fail records the final failure of task id run by runID and applies
	// everything that follows. A failure of an interrupted task is ignored
	// (the task runs again on resume).
	Fail(ctx context.Context, id, runID string, info sig.ErrorInfo) (Effects, error)

	// AddItems appends items to swarm id. items holds the new items
	// (Parent id, Role child, Index from base on) and their descendants,
	// each parent before its children. It returns ErrConflict when the
	// swarm does not have exactly base items, ErrCanceled when it was
	// canceled, and ErrState when it is closed or ended, or when MaxItems
	// would be exceeded. Items start at
	// once when the swarm runs and has free slots.
	AddItems(ctx context.Context, id string, base int, items []*sig.Record) (Effects, error)

	// CloseSwarm marks swarm id closed: it completes when every item
	// ended. Closing a closed swarm is a no-op; closing one with no
	// items, or one that ended before it was closed (it reached its
	// failure limit), is ErrState; closing a canceled one is ErrCanceled.
	CloseSwarm(ctx context.Context, id string) (Effects, error)

	// Apply performs a lifecycle operation on every record of the graph
	// rooted at root. It returns ErrState when the graph already ended or
	// when op does not apply to its status; sig.OpRetry applies only to a
	// graph that ended with something failed (ErrState otherwise).
	Apply(ctx context.Context, root string, op sig.Op) (Effects, error)

	// Ack removes the entries with the given keys from id's outbox.
	Ack(ctx context.Context, id string, keys []string) error

	// Owed returns the effects record id's outbox still owes (every
	// cancel, and the dispatches whose target still waits for them), and
	// removes from the outbox the entries owed no more.
	Owed(ctx context.Context, id string) (Effects, error)

	// Due returns up to n ids of records whose outbox has held effects
	// for at least age: their transition's process did not deliver and
	// acknowledge them. Each id returned is due again only age later, so
	// that workers asking at once share the work. Ids of expired graphs
	// are dropped. Its cost is that of what is owed, not of the number
	// of stored graphs.
	Due(ctx context.Context, age time.Duration, n int) ([]string, error)

	// Spawn records that task id stored, inside one of its attempts, its
	// n-th flow with a derived id: its Spawned count becomes at least n,
	// so that canceling its graph cancels that flow, and a retried task
	// knows the flow was stored. It returns ErrCanceled when the task was
	// canceled (the flow must be canceled), and changes no expiry.
	Spawn(ctx context.Context, id string, n int) error

	// Touch sets the expiry of the graph rooted at root to its ActiveTTL
	// from now, unless the graph ended: a worker touches the graphs of
	// the tasks it runs, so that a task running longer than the active
	// TTL does not outlive its graph. It changes no record.
	Touch(ctx context.Context, root string) error

	// Get returns record id.
	Get(ctx context.Context, id string) (*sig.Record, error)
}

// Aheader is implemented by stores that claim, in the operation that
// completes a task, the task that completion dispatches alone (the next
// step of a chain, the next item of a swarm), for a run the caller names:
// a worker that runs that task itself, at once, makes one store operation
// per task instead of two.
type Aheader interface {
	// CompleteAhead is Complete, which also claims the target of the
	// operation's lone dispatch for run next when a claim would take it
	// (it waits for that dispatch), and then says so in Effects.Claimed.
	// The target's record is Active with RunID next and AheadUntil the
	// claim's lease, lease from now, and the dispatch (its Run names
	// next) stays owed, and no Ack takes it, until the run confirms the
	// claim or ends the task. A claim of the target by another run is
	// Duplicate during the lease, and after it takes the claim over (the
	// worker that made it died before the run started). Replayed on a
	// Done task, it reports Claimed again while the claim it made is
	// still ahead.
	CompleteAhead(ctx context.Context, id, runID string, result []byte, next string, lease time.Duration) (Effects, error)

	// Confirm makes the claim of task id made ahead for runID the run's
	// own: the dispatch is owed no more. A run that lasts confirms its
	// claim before its lease ends, so that no other run takes it over.
	// It is a no-op when the task is not claimed ahead for runID.
	Confirm(ctx context.Context, id, runID string) error
}

// CompleteAhead is s's CompleteAhead when s is an [Aheader], else its
// Complete, which claims nothing: a wrapper of a store passes the
// operation on with it.
func CompleteAhead(ctx context.Context, s Store, id, runID string, result []byte, next string, lease time.Duration) (Effects, error) {
	if a, ok := s.(Aheader); ok {
		return a.CompleteAhead(ctx, id, runID, result, next, lease)
	}
	return s.Complete(ctx, id, runID, result)
}

// Confirm is s's Confirm when s is an [Aheader]; a store that is not
// claims nothing ahead, and has nothing to confirm.
func Confirm(ctx context.Context, s Store, id, runID string) error {
	if a, ok := s.(Aheader); ok {
		return a.Confirm(ctx, id, runID)
	}
	return nil
}

// Lister is implemented by stores that can list the graphs they hold, for
// inspection tools. Roots returns about n root ids from cursor ("" for the
// first page) and the cursor of the next page, "" after the last one. The
// order is the store's own; while graphs come and go a root may show up
// on two pages, and a graph created during the listing may be missed.
type Lister interface {
	Roots(ctx context.Context, cursor string, n int) (roots []string, next string, err error)
}

// Batch is implemented by stores that read several records of one graph
// in one call (tools read a page of a swarm's items this way).
type Batch interface {
	// GetMany returns the records ids name, all of the graph rooted at
	// root, in their order; a missing one is nil.
	GetMany(ctx context.Context, root string, ids []string) ([]*sig.Record, error)
}

// Index is implemented by stores that keep an index of their flows in
// order of creation, updated in the operation that creates a graph and
// expiring with the graphs: tools list a page of flows at the cost of the
// page, not of what the store holds.
type Index interface {
	// Flows returns the roots of the flows q selects, newest first (by
	// creation time, then id), at most q.Limit of them, and the cursor of
	// the next page ("" after the last one). A flow that expired is not
	// returned; one created during the listing may be missed.
	Flows(ctx context.Context, q FlowQuery) (FlowPage, error)
}

// FlowQuery selects flows from an [Index].
type FlowQuery struct {
	// Cursor is a page's Next ("" for the first page).
	Cursor string
	// Since and Until keep the flows created at or after Since and
	// before Until (zero: no bound).
	Since, Until time.Time
	// Prefix keeps the flows whose id starts with it.
	Prefix string
	// Limit is the most roots returned (at least 1; stores cap it at
	// MaxFlowPage).
	Limit int
}

// MaxFlowPage is the most roots one page of [Index.Flows] returns.
const MaxFlowPage = 1000

// FlowPage is a page of flows.
type FlowPage struct {
	// Roots are the flows' root records, newest first.
	Roots []*sig.Record
	// Next is the cursor of the next page, "" after the last one.
	Next string
}

// Requests is implemented by stores that carry lifecycle requests from
// tools to workers: a tool (the mageflow command) queues an operation on a
// flow, and a worker of a client of the store applies it with its backend
// (a resume dispatches tasks; an interrupt or a cancel cancels runs).
// Requests are taken in the order they were queued, each by one worker.
// A request carries a deadline: one that no worker took by then is never
// applied (a tool that gave up waiting has said so to its user), and the
// store keeps it no longer than that.
type Requests interface {
	// Request queues op on the graph rooted at root, to be taken by
	// deadline (the store's clock; a zero deadline is refused).
	Request(ctx context.Context, root string, op sig.Op, deadline time.Time) error
	// NextRequest waits up to wait for a queued request whose deadline
	// has not passed and takes it, dropping the expired ones it meets; ok
	// is false when none came.
	NextRequest(ctx context.Context, wait time.Duration) (root string, op sig.Op, ok bool, err error)
}

// Notifier is implemented by stores that can signal changes without being
// polled. Ended returns a channel that is closed once record id has a
// terminal status (promptly if it already has one, or if it is missing),
// or when ctx ends. Callers check the status again when it closes: a store
// may also close it when it cannot watch any longer.
type Notifier interface {
	Ended(ctx context.Context, id string) <-chan struct{}
}

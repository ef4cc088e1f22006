package sig

import (
	"maps"
	"slices"
	"time"
)

// Record is the stored state of one node of a started graph: a task, a chain
// or a swarm, with its place in the graph, its input and result, its status
// and the dispatches it still owes.
//
// Children and callbacks are not listed: their ids derive from the record's
// id ([ChildID], [SuccessID], [ErrorID]), so a record stays small however wide
// its swarm grows.
type Record struct {
	ID   string
	Root string
	Kind Kind
	// Name is the task name for a task, and a label for a chain or swarm.
	Name string
	// Label is the name flow.Named gave the node, which the tools show
	// instead of its Name; empty when it has none.
	Label string
	// Metadata are the key/value pairs flow.WithMetadata stored with the
	// flow, kept on the root only.
	Metadata map[string]string
	// Parent is the container (Role child) or the node whose callback this
	// is (Role success or error); empty for the root.
	Parent string
	Role   Role
	// Index is the position under Parent within Role.
	Index int

	// Children is the number of chain steps or swarm items.
	Children int
	// OnSuccess and OnError are the numbers of callbacks of each kind.
	OnSuccess int
	OnError   int

	// Added is, on the first item of each call that added items to a
	// swarm, that call's key: a call repeated after a lost reply finds
	// its own items by it.
	Added string

	// Args are the arguments bound at signing time (JSON), for tasks only.
	Args []byte
	// Input is the node's input (JSON) once it was entered.
	Input []byte
	// Result is the node's output (JSON) once it is Done.
	Result []byte
	// Error is set when the node Failed.
	Error *ErrorInfo

	Status     Status
	LastStatus Status
	// Entered is true once the node received its input (it started, or was
	// due to start while paused).
	Entered bool
	// Held is set when an entry or a delivery arrived while the record was
	// paused: resume starts it.
	Held bool
	// Gen counts the dispatches of a task; each one has its own dedupe key.
	Gen int
	// RunID is the backend run that holds the claim on a task.
	RunID string
	// AheadUntil is set on a task that the transition dispatching it
	// claimed for RunID in the same operation (storage.Aheader), before
	// the run started: the claim's lease. Its dispatch stays owed until
	// the run confirms the claim (a claim or Confirm by RunID) or ends the
	// task; a run of another id that claims it after the lease takes the
	// claim over, so that a worker that died before the run started loses
	// nothing, while a duplicate delivery during the lease is refused.
	AheadUntil time.Time
	// Lone is the task this record's latest transition dispatched alone.
	// A lone dispatch is owed by its target, in the target's own outbox,
	// until the target's claim takes it there (the engine acknowledges a
	// transition's several dispatches itself); Lone lets a replay of the
	// transition, or a redelivery of an ended task, find it.
	Lone string
	// Attempts counts the attempts that claimed this task.
	Attempts int
	// Spawned is, for a task, how many flows its attempts started inside
	// it with derived ids (their ids derive from the task's id and their
	// number, from 1): canceling the task's graph cancels them too.
	Spawned int
	// Epoch counts, for a task, the retries (Apply with OpRetry) that ran
	// it again after it had started flows: the flows an attempt starts
	// derive their ids from the task's id and its epoch, so that a retried
	// task starts its flows afresh, while a redelivered or retried attempt
	// of one run finds them ([SpawnBase]).
	Epoch int
	// Cursor is a chain's current step.
	Cursor int
	// Swarm is a swarm's configuration and accounting.
	Swarm *SwarmState
	// Live is kept on the root only: the number of entered records of the
	// graph that have not ended. The graph ends when the root is terminal
	// and Live is zero.
	Live int
	// Finished is kept on the root only: the graph ended and expires after
	// its DoneTTL.
	Finished bool
	// Outbox holds the dispatches decided by this record's transitions and
	// not yet acknowledged as sent.
	Outbox []Dispatch

	// ActiveTTL and DoneTTL are kept on the root only: how long the whole
	// graph lives while it runs (from its latest write) and after it ended.
	// The records of a graph expire together.
	ActiveTTL time.Duration
	DoneTTL   time.Duration

	CreatedAt time.Time
	UpdatedAt time.Time
	EndedAt   time.Time
	// ExpiresAt is when the record's graph expires, as the store reports
	// it on reads.
	ExpiresAt time.Time
}

// SwarmConfig limits a swarm. Zero values mean the defaults.
type SwarmConfig struct {
	// MaxConcurrency is how many items run at once.
	MaxConcurrency int `json:"max_concurrency,omitempty"`
	// StopAfterNFailures fails the swarm when that many items failed, and
	// stops the items still running; zero tolerates every failure.
	StopAfterNFailures int `json:"stop_after_n_failures,omitempty"`
	// MaxItems caps the number of items; the swarm closes when it is
	// reached. Zero means no cap.
	MaxItems int `json:"max_items,omitempty"`
}

// DefaultMaxConcurrency is the concurrency of a swarm whose config leaves it zero.
const DefaultMaxConcurrency = 30

// SwarmState is a swarm's configuration and accounting.
type SwarmState struct {
	Config SwarmConfig
	// Closed: no more items will be added.
	Closed bool
	// Settled: the swarm's result lists every item's outcome (its
	// index and its result or error), not only the done items' results.
	Settled bool
	// Next is the index of the next item to start.
	Next int
	// Running is the number of started items that have not ended.
	Running int
	// Done and Failed count the items that ended each way.
	Done   int
	Failed int
	// LastError is the most recent item failure.
	LastError *ErrorInfo
}

// Dispatch is one effect owed to the backend: a run of task Target to
// start, or, when Cancel is set, the backend run Cancel of task Target to
// stop. Key is derived from the target record and its dispatch generation
// (or from the run to stop), so delivering it twice is harmless.
type Dispatch struct {
	Key     string
	Task    string
	Target  string
	Root    string
	Payload []byte
	// Cancel is the backend run this entry stops; empty for a start.
	Cancel string
	// Spawned, when set, makes the entry cancel the flows task Target
	// started (see Record.Spawned), instead of a start.
	Spawned int
	// Attempts is, for a start, how many attempts Target made before it
	// (Record.Attempts): a task dispatched again on Resume numbers its
	// attempts on from them, and keeps only the retries it has left.
	Attempts int
	// Epoch is Target's Record.Epoch, for a start and for a cancel of
	// the flows it started.
	Epoch int
	// Run, for a start, is the backend run the transition that decided
	// it claimed Target for (Record.AheadUntil).
	Run string
}

// ClaimedAhead reports whether task r holds a claim made ahead that its
// run has not confirmed (AheadUntil).
func (r *Record) ClaimedAhead() bool { return !r.AheadUntil.IsZero() }

// DisplayName is the name the tools show for r: its Label (flow.Named),
// else its Name (the task's, or "chain" or "swarm").
func (r *Record) DisplayName() string {
	if r.Label != "" {
		return r.Label
	}
	return r.Name
}

// Clone returns a copy of r that shares no mutable state with it. Byte
// slices are shared: they are never modified in place.
func (r *Record) Clone() *Record {
	if r == nil {
		return nil
	}
	c := *r
	if r.Error != nil {
		e := *r.Error
		c.Error = &e
	}
	if r.Swarm != nil {
		s := *r.Swarm
		if s.LastError != nil {
			e := *s.LastError
			s.LastError = &e
		}
		c.Swarm = &s
	}
	c.Outbox = slices.Clone(r.Outbox)
	c.Metadata = maps.Clone(r.Metadata)
	return &c
}

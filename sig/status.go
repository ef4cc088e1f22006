package sig

// Status is the lifecycle state of a stored record.
type Status string

// The statuses of a record. Done, Failed and Canceled are terminal.
const (
	// Pending: created, not started yet (or dispatched and not yet claimed).
	Pending Status = "pending"
	// Active: running (a claimed task, or a chain or swarm that was entered).
	Active Status = "active"
	// Done: finished with a result.
	Done Status = "done"
	// Failed: finished with an error, after its last attempt.
	Failed Status = "failed"
	// Suspended: paused gracefully; nothing new starts until resumed.
	Suspended Status = "suspended"
	// Interrupted: paused, and running tasks were stopped.
	Interrupted Status = "interrupted"
	// Canceled: stopped for good; nothing more runs.
	Canceled Status = "canceled"
)

// Terminal reports whether s is an end state (Done, Failed or Canceled).
func (s Status) Terminal() bool {
	return s == Done || s == Failed || s == Canceled
}

// Paused reports whether s is Suspended or Interrupted.
func (s Status) Paused() bool {
	return s == Suspended || s == Interrupted
}

// Valid reports whether s is one of the statuses above.
func (s Status) Valid() bool {
	switch s {
	case Pending, Active, Done, Failed, Suspended, Interrupted, Canceled:
		return true
	}
	return false
}

// Kind says what a record describes.
type Kind string

// The kinds of node.
const (
	KindTask  Kind = "task"
	KindChain Kind = "chain"
	KindSwarm Kind = "swarm"
)

// Role says how a record hangs from its parent.
type Role string

// The roles of a record.
const (
	// RoleRoot: the root of a graph; it has no parent.
	RoleRoot Role = "root"
	// RoleChild: a chain step or a swarm item; Index is its position.
	RoleChild Role = "child"
	// RoleSuccess: a success callback of Parent.
	RoleSuccess Role = "success"
	// RoleError: an error callback of Parent.
	RoleError Role = "error"
)

// Op is a lifecycle operation applied to a whole graph.
type Op string

// The lifecycle operations.
const (
	OpSuspend   Op = "suspend"
	OpInterrupt Op = "interrupt"
	OpResume    Op = "resume"
	OpCancel    Op = "cancel"
	// OpRetry runs again what failed in an ended graph (see
	// storage/transition).
	OpRetry Op = "retry"
)

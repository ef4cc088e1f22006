// Package middleware is what runs around every task execution and every
// flow start, on every backend: a middleware sees the handler's context,
// the task's name, record, root and attempt, and the outcome once the
// task returned, as River's middleware and Temporal's interceptors do.
// Install middlewares with mageflow.WithMiddleware; the first installed
// is the outermost.
//
// A middleware that also implements [Starter] wraps each flow's start,
// one that implements [Ender] hears of each flow's end, and one that
// implements [Fanner] hears of each swarm starting its items. Pairs a
// middleware carries (Start.Carry, Execution.Carry, FanOut.Carry) travel with the
// flow's dispatches, across processes and on every backend (as Hatchet
// run metadata on Hatchet): a trace's context, for one.
package middleware

import (
	"context"
	"maps"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/mageflow-go/mageflow/sig"
)

// Middleware wraps the executions of tasks.
type Middleware interface {
	// Execute runs around one attempt of a task: it calls next, at most
	// once and before it returns (not from another goroutine), with the
	// context the task is to run with (ctx, or one made from it), and
	// returns the attempt's outcome: next's error, or an error of its own
	// (the attempt fails with it, and the backend retries it as a task's).
	// An attempt that overran its task's timeout comes back from next as
	// an error wrapping context.DeadlineExceeded. A panic in Execute is
	// handled as one in the task is.
	Execute(ctx context.Context, x *Execution, next func(context.Context) error) error
}

// Func is a Middleware made of its Execute.
type Func func(ctx context.Context, x *Execution, next func(context.Context) error) error

// Execute calls f.
func (f Func) Execute(ctx context.Context, x *Execution, next func(context.Context) error) error {
	return f(ctx, x, next)
}

// Starter is a Middleware that also wraps each flow's start (flow.Start,
// Sig.Start, a start inside a task): it calls next once, synchronously,
// with the context to start with, and the start fails if next did
// (whatever the starter returns), if it was not called, or if the
// starter panicked. A start that finds its flow stored already (a second
// start with flow.WithID, a retried task's) is wrapped too.
type Starter interface {
	Start(ctx context.Context, s *Start, next func(context.Context) error) error
}

// Ender is a Middleware that also hears of each flow's end, in the
// process whose store operation ended it, at most once per end (a flow
// retried and ended again is heard again). An end whose store reply was
// lost, the operation repeated, is not heard: an Ender counts ends, it
// is not the flow's record of them. Ended runs on the worker's path, and
// should return quickly; a panic in it is logged.
type Ender interface {
	Ended(ctx context.Context, e End)
}

// Execution is one attempt of a task.
type Execution struct {
	// Task is the task's name.
	Task string
	// Record is the id of the task's record in its flow; Root is the
	// flow's id; Parent is the id of the chain or swarm the record is a
	// step or an item of ("" for a flow of one task, or a callback).
	Record, Root, Parent string
	// RunID is the backend's id of the run.
	RunID string
	// Attempt counts from 1; MaxAttempts is the task's.
	Attempt, MaxAttempts int
	// Metadata is the flow's metadata as the run's dispatch carried it:
	// flow.WithMetadata's pairs, and what middlewares carry (Carry).
	Metadata map[string]string
	// Result is the task's result, set when next returned nil.
	Result []byte

	carried map[string]string
}

// Carry sets the pair key=value in the metadata the dispatches this
// attempt causes carry (the next step of a chain, the items a swarm
// starts next, its callbacks), in place of the pair it received: a
// trace's context, for one. The flow's stored metadata is not changed:
// a dispatch a worker's recovery sends carries the stored pair.
//
// It reports whether the pair is carried: a key under "mageflow-" (the
// engine's), a key or value longer than MaxCarriedKey or MaxCarriedValue
// or not UTF-8, or a new key past MaxCarried of them, is not.
func (x *Execution) Carry(key, value string) bool {
	return carry(&x.carried, key, value)
}

// The bounds of what a middleware carries (besides flow.WithMetadata's
// own pairs, which keep theirs): a trace's context fits, with room.
const (
	MaxCarried      = 8    // keys an execution or a start carries
	MaxCarriedKey   = 64   // bytes of a key
	MaxCarriedValue = 1024 // bytes of a value
)

// Carriable says whether the pair key=value is within the bounds of what
// a middleware carries (its count aside).
func Carriable(key, value string) bool {
	return key != "" && !strings.HasPrefix(key, "mageflow-") && len(key) <= MaxCarriedKey && len(value) <= MaxCarriedValue &&
		utf8.ValidString(key) && utf8.ValidString(value)
}

// carry sets key=value in *m within the bounds.
func carry(m *map[string]string, key, value string) bool {
	if !Carriable(key, value) {
		return false
	}
	if _, ok := (*m)[key]; !ok && len(*m) >= MaxCarried {
		return false
	}
	if *m == nil {
		*m = map[string]string{}
	}
	(*m)[key] = value
	return true
}

// Carried returns the pairs Carry set (the engine merges them).
func (x *Execution) Carried() map[string]string { return x.carried }

// Start is a flow being started.
type Start struct {
	// Root is the flow's id.
	Root string
	// Name is the flow's name (flow.Named), else its kind or its task's.
	Name string
	Kind sig.Kind
	// Parent is the record of the task that starts the flow, "" outside
	// a task.
	Parent string
	// Metadata is the flow's metadata (flow.WithMetadata). Pairs set with
	// Carry are stored with it and carried by every dispatch of the flow.
	Metadata map[string]string
	// Existed is set, once next returned, when the flow was stored before
	// (a second start with flow.WithID, a retried task's start): nothing
	// new started. A signed flow's start leaves it unset.
	Existed bool

	sent, added map[string]string
}

// Send sets key=value in the metadata the flow's first dispatches carry,
// without storing it (what changes with each dispatch: when it was
// sent, for one). The dispatches that follow carry what their own
// attempts Carry.
//
// It reports whether the pair is sent, within the bounds
// Execution.Carry says.
func (s *Start) Send(key, value string) bool {
	return carry(&s.sent, key, value)
}

// Sent returns the pairs Send set (the engine adds them).
func (s *Start) Sent() map[string]string { return s.sent }

// Carry adds key=value to the flow's metadata: stored with the flow (a
// flow signed earlier keeps what it was signed with; its first
// dispatches carry the pair), carried by every dispatch of it, and shown
// by the tools. It reports whether the pair is carried, within the
// bounds Execution.Carry says (at most MaxCarried pairs added to the
// flow's own).
func (s *Start) Carry(key, value string) bool {
	if !carry(&s.added, key, value) {
		return false
	}
	s.Metadata = maps.Clone(s.Metadata)
	if s.Metadata == nil {
		s.Metadata = map[string]string{}
	}
	s.Metadata[key] = value
	return true
}

// End is a flow that ended: its root as it ended.
type End struct {
	Root, Name string
	Kind       sig.Kind
	Status     sig.Status
	Error      *sig.ErrorInfo
	Created    time.Time
	Ended      time.Time
	Metadata   map[string]string
}

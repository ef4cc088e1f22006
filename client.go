package mageflow

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/mageflow-go/mageflow/backend"
	"github.com/mageflow-go/mageflow/internal/engine"
	"github.com/mageflow-go/mageflow/internal/graph"
	"github.com/mageflow-go/mageflow/middleware"
	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
	"github.com/mageflow-go/mageflow/task"
)

// ErrUnknownTask is wrapped by the error of starting a flow that names a
// task no worker registered.
var ErrUnknownTask = backend.ErrUnknownTask

// The errors users match (with errors.Is). Each operation's doc says
// which it returns; flow.FailedError (errors.As) carries a failed flow's
// ErrorInfo.
var (
	// ErrNotFound: no flow has the id (never stored, or expired): Status,
	// Wait and the lifecycle operations of a handle, flow.Attach.
	ErrNotFound = engine.ErrNotFound
	// ErrStarted: Start of a signed flow (Sig, SwarmSig) that was started
	// already.
	ErrStarted = engine.ErrStarted
	// ErrNotPaused: Resume of a flow that is neither suspended nor
	// interrupted.
	ErrNotPaused = engine.ErrNotPaused
	// ErrFinished: an operation on a flow whose root ended (done, failed
	// or canceled): Suspend, Interrupt, Resume, Start of a signed flow.
	// (sig.Record's Finished says more: the root and its callbacks ended.)
	ErrFinished = engine.ErrFinished
	// ErrCanceled: Wait on a canceled flow, and Start, Suspend,
	// Interrupt, Resume and Retry of one (with ErrFinished).
	ErrCanceled = engine.ErrCanceled
	// ErrNotFailed: Retry of a flow in which nothing failed, or that has
	// not ended (it runs, or its callbacks still run).
	ErrNotFailed = engine.ErrNotFailed
	// ErrSwarmClosed: SwarmSig.Add to a swarm that was closed, or that
	// reached its MaxItems.
	ErrSwarmClosed = engine.ErrSwarmClosed
	// ErrInvalidFlow: flow.Start, flow.Sign, flow.SignSwarm or
	// SwarmSig.Add refused a flow before storing anything (a nil or zero
	// node, an empty chain or closed swarm, a bad config, a task no worker
	// registered, which also matches ErrUnknownTask, or one registered with
	// other types); the error names the node and the reason.
	ErrInvalidFlow = engine.ErrInvalidFlow
)

// Client runs flows: it holds the tasks this process executes, the backend
// that runs tasks and the store that keeps the state of started flows. It is
// safe for concurrent use.
type Client struct {
	eng *engine.Engine
}

func init() {
	engine.Unwrap = func(c any) (*engine.Engine, error) {
		cl, ok := c.(*Client)
		if !ok || cl == nil || cl.eng == nil {
			return nil, errors.New("mageflow: nil client (use mageflow.New)")
		}
		return cl.eng, nil
	}
}

// New returns a client over backend b and store s.
func New(b backend.Backend, s storage.Store, opts ...Option) (*Client, error) {
	if b == nil {
		return nil, errors.New("mageflow: nil backend")
	}
	if s == nil {
		return nil, errors.New("mageflow: nil store")
	}
	o := defaults()
	for _, opt := range opts {
		if opt == nil {
			continue
		}
		if err := opt(&o); err != nil {
			return nil, err
		}
	}
	return &Client{eng: engine.New(b, s, engine.Config{Logger: o.logger, TTL: o.ttl, Now: time.Now, Fresh: o.fresh, Sweep: o.sweep, Middleware: o.mws})}, nil
}

// Register makes this process's worker execute tasks. Call it before
// StartWorker: a worker runs the tasks registered before it started, and
// Register after StartWorker returns an error wrapping
// backend.ErrWorkerStarted on every backend (flowtest's Env, which runs
// the memory backend with memory.WithLateRegistration, is the exception).
// Registering a task twice is a no-op; registering two different tasks
// under one name is an error naming it.
func (c *Client) Register(tasks ...task.Registrable) error {
	for _, t := range tasks {
		if t == nil {
			return errors.New("mageflow: register: nil task")
		}
		if err := c.eng.Register(graph.TaskDefOf(t.TaskDef())); err != nil {
			return err
		}
	}
	return nil
}

// StartWorker starts executing the registered tasks. stop stops taking new
// deliveries and waits for running tasks until its context ends. When it
// ends first, the running tasks' contexts are canceled (what they return
// is still recorded), the store calls that retry a store that cannot be
// reached give up, and stop returns an error wrapping the context's: what
// those calls did not record is redelivered or recovered as when the
// process dies. A process that only starts flows needs no worker. On a
// store that keeps the tasks its workers registered (storage.Tasks: both
// of mageflow's), the worker records its tasks before StartWorker returns
// (waiting up to two seconds for the store, then trying on beside the
// work), and again every hour while it runs, for the tools that list
// them (mageflow mcp).
func (c *Client) StartWorker(ctx context.Context) (stop func(context.Context) error, err error) {
	return c.eng.StartWorker(ctx)
}

// Option configures a [Client].
type Option func(*options) error

type options struct {
	logger *slog.Logger
	ttl    map[sig.Kind]engine.TTL
	fresh  bool
	sweep  engine.Sweep
	mws    []middleware.Middleware
}

// Default TTLs of stored records.
const (
	// DefaultActiveTTL is how long records live while their flow runs.
	DefaultActiveTTL = 24 * time.Hour
	// DefaultDoneTTL is how long records live after their flow ended:
	// long enough to look at a failure the next day (see WithTTL for
	// what it costs).
	DefaultDoneTTL = 24 * time.Hour
	// MinDoneTTL is the smallest done TTL accepted.
	MinDoneTTL = time.Second
)

func defaults() options {
	ttl := engine.TTL{Active: DefaultActiveTTL, Done: DefaultDoneTTL}
	return options{
		logger: slog.New(slog.DiscardHandler),
		ttl:    map[sig.Kind]engine.TTL{sig.KindTask: ttl, sig.KindChain: ttl, sig.KindSwarm: ttl},
	}
}

// WithLogger logs the client's work to l. By default, and with a nil
// logger, nothing is logged.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) error {
		if l == nil {
			l = slog.New(slog.DiscardHandler)
		}
		o.logger = l
		return nil
	}
}

// WithMiddleware runs every task execution of the client's worker
// through ms, the first outermost (several WithMiddleware append, in
// order): each sees the handler's context, the task, its record, root
// and attempt, and the attempt's outcome once the task returned (package
// middleware). Those that also implement middleware.Starter wrap every
// flow the client starts, and those that implement middleware.Ender hear
// of the flows' ends that the client's store operations make (at most
// once each), and those that implement middleware.Fanner of the swarms
// they start, before their items are sent. The middlewares run on every backend; a panic in Execute
// fails the attempt as a panic in the task does, one in Start fails the
// start.
func WithMiddleware(ms ...middleware.Middleware) Option {
	return func(o *options) error {
		for i, m := range ms {
			if m == nil {
				return fmt.Errorf("mageflow: WithMiddleware: middleware %d is nil", i)
			}
		}
		o.mws = append(o.mws, ms...)
		return nil
	}
}

// WithFreshIDs turns off retry-safe starts. By default a flow started,
// signed or signed as a swarm inside a running task gets an id derived
// from the task's record and the order of the task's starts, so that a
// retried or redelivered task finds the flows its earlier attempt created
// and nothing runs twice (the task must then create its flows in the same
// order on every attempt). With WithFreshIDs every start gets a new id,
// and a retried task creates its flows again.
func WithFreshIDs() Option {
	return func(o *options) error {
		o.fresh = true
		return nil
	}
}

// WithSweep tunes the worker's recovery of owed effects: every interval
// (default 5 s) the worker asks the store for the effects (dispatches,
// cancels of running tasks) that transitions decided more than grace ago
// (default 10 s) and that their process did not deliver (it died, the
// backend refused them for longer than its own tries, the store's reply
// was lost), and delivers them. Every worker recovers by default; this
// option only changes how soon. Each round costs what is owed (one store
// call per shard, one per owing record), not the number of stored flows.
// Dispatches are deduplicated by key and claims are idempotent, so a
// dispatch delivered twice still runs once. The same loop keeps the
// graphs of running tasks alive.
func WithSweep(interval, grace time.Duration) Option {
	return func(o *options) error {
		if interval <= 0 || grace < 0 {
			return fmt.Errorf("mageflow: WithSweep(%v, %v): the interval must be positive and the grace not negative", interval, grace)
		}
		o.sweep = engine.Sweep{Every: interval, Grace: grace}
		return nil
	}
}

// WithTTL sets how long records live while their flow runs (active) and
// after it ended (done), for every kind of record.
func WithTTL(active, done time.Duration) Option {
	return func(o *options) error {
		for _, k := range []sig.Kind{sig.KindTask, sig.KindChain, sig.KindSwarm} {
			if err := setTTL(o, k, active, done); err != nil {
				return err
			}
		}
		return nil
	}
}

// WithKindTTL sets the TTLs of graphs that hold a node of kind
// (sig.KindTask, sig.KindChain or sig.KindSwarm). A graph's records
// expire together, with the largest TTLs of the kinds of node it holds
// (an open swarm, which may get items of any kind, takes the largest of
// all): a kind's TTLs are a floor for every graph that contains one, not
// a TTL of that kind's records alone.
func WithKindTTL(kind sig.Kind, active, done time.Duration) Option {
	return func(o *options) error { return setTTL(o, kind, active, done) }
}

func setTTL(o *options, kind sig.Kind, active, done time.Duration) error {
	if _, ok := o.ttl[kind]; !ok {
		return fmt.Errorf("mageflow: TTL for unknown kind %q", kind)
	}
	if active <= 0 {
		return fmt.Errorf("mageflow: active TTL of %s must be positive, not %v", kind, active)
	}
	if done < MinDoneTTL {
		return fmt.Errorf("mageflow: done TTL of %s must be at least %v, not %v", kind, MinDoneTTL, done)
	}
	o.ttl[kind] = engine.TTL{Active: active, Done: done}
	return nil
}

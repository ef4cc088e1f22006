package flowsuite

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mageflow-go/mageflow"
	"github.com/mageflow-go/mageflow/backend"
	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
	"github.com/mageflow-go/mageflow/task"
)

// Faults are what a test puts between a client and its backend and store:
// each wraps what it is given (nil leaves it alone).
type Faults struct {
	Backend func(backend.Backend) backend.Backend
	Store   func(storage.Store) storage.Store
}

// NewFaultyEnv is NewEnv with the client's backend and store wrapped by f.
func NewFaultyEnv(t testing.TB, b backend.Backend, s Store, opts []mageflow.Option, f Faults, tasks ...task.Registrable) Env {
	t.Helper()
	if f.Backend != nil {
		b = f.Backend(b)
	}
	if f.Store != nil {
		s.Store = f.Store(s.Store)
	}
	return NewEnv(t, b, s, opts, tasks...)
}

// errRefused is what a closed Valve answers, as a loaded task queue
// answers some calls.
var errRefused = errors.New("flowsuite: backend refuses calls (valve closed)")

// Valve is a backend that refuses every dispatch (and, with Cancels, every
// cancel) while it is closed, for as long as a test keeps it so.
type Valve struct {
	backend.Backend
	// Cancels makes a closed valve refuse cancels too.
	Cancels bool
	closed  atomic.Bool
	refused atomic.Int64
}

// Close makes v refuse calls; Open lets them through again.
func (v *Valve) Close() { v.closed.Store(true) }

// Open lets calls through.
func (v *Valve) Open() { v.closed.Store(false) }

// Refused returns how many calls v refused.
func (v *Valve) Refused() int64 { return v.refused.Load() }

// Dispatch implements backend.Backend.
func (v *Valve) Dispatch(ctx context.Context, d backend.Dispatch) (string, error) {
	if v.closed.Load() {
		v.refused.Add(1)
		return "", errRefused
	}
	return v.Backend.Dispatch(ctx, d)
}

// DispatchBatch implements backend.Batcher.
func (v *Valve) DispatchBatch(ctx context.Context, ds []backend.Dispatch) ([]string, []error) {
	ids, errs := make([]string, len(ds)), make([]error, len(ds))
	if b, ok := v.Backend.(backend.Batcher); ok && !v.closed.Load() {
		return b.DispatchBatch(ctx, ds)
	}
	for i, d := range ds {
		ids[i], errs[i] = v.Dispatch(ctx, d)
	}
	return ids, errs
}

// Cancel implements backend.Backend.
func (v *Valve) Cancel(ctx context.Context, run string) error {
	if v.Cancels && v.closed.Load() {
		v.refused.Add(1)
		return errRefused
	}
	return v.Backend.Cancel(ctx, run)
}

// errLost is the error of a store call whose reply a Lossy store dropped
// after the store applied it: a timeout, a reset connection.
var errLost = errors.New("flowsuite: store reply lost after the store applied the call")

// Lossy is a store that drops the replies of some calls after applying
// them. Lose names the operations ("create", "start", "add", "close",
// "apply", "complete") whose next reply is lost, with how many.
type Lossy struct {
	storage.Store
	mu   sync.Mutex
	lose map[string]int
	lost atomic.Int64
}

// NewLossy returns s losing the replies lose counts.
func NewLossy(s storage.Store, lose map[string]int) *Lossy {
	if lose == nil {
		lose = map[string]int{}
	}
	return &Lossy{Store: s, lose: lose}
}

// Lose makes the next n replies of op lost, from now on.
func (l *Lossy) Lose(op string, n int) {
	l.mu.Lock()
	defer l.mu.Unlock()
	l.lose[op] += n
}

// Lost returns how many replies l dropped.
func (l *Lossy) Lost() int64 { return l.lost.Load() }

func (l *Lossy) drop(op string, err error) error {
	if err != nil {
		return err
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	if l.lose[op] > 0 {
		l.lose[op]--
		l.lost.Add(1)
		return errLost
	}
	return nil
}

func (l *Lossy) effects(op string, eff storage.Effects, err error) (storage.Effects, error) {
	if err := l.drop(op, err); err != nil {
		return storage.Effects{}, err
	}
	return eff, nil
}

// CreateGraph implements storage.Store.
func (l *Lossy) CreateGraph(ctx context.Context, g storage.Graph) (storage.Effects, error) {
	eff, err := l.Store.CreateGraph(ctx, g)
	return l.effects("create", eff, err)
}

// StartGraph implements storage.Store.
func (l *Lossy) StartGraph(ctx context.Context, root string, input []byte) (storage.Effects, error) {
	eff, err := l.Store.StartGraph(ctx, root, input)
	return l.effects("start", eff, err)
}

// AddItems implements storage.Store.
func (l *Lossy) AddItems(ctx context.Context, id string, base int, items []*sig.Record) (storage.Effects, error) {
	eff, err := l.Store.AddItems(ctx, id, base, items)
	return l.effects("add", eff, err)
}

// CloseSwarm implements storage.Store.
func (l *Lossy) CloseSwarm(ctx context.Context, id string) (storage.Effects, error) {
	eff, err := l.Store.CloseSwarm(ctx, id)
	return l.effects("close", eff, err)
}

// Apply implements storage.Store.
func (l *Lossy) Apply(ctx context.Context, root string, op sig.Op) (storage.Effects, error) {
	eff, err := l.Store.Apply(ctx, root, op)
	return l.effects("apply", eff, err)
}

// CompleteAhead implements storage.Aheader, losing replies as Complete.
func (l *Lossy) CompleteAhead(ctx context.Context, id, runID string, result []byte, next string, lease time.Duration) (storage.Effects, error) {
	eff, err := storage.CompleteAhead(ctx, l.Store, id, runID, result, next, lease)
	return l.effects("complete", eff, err)
}

// Confirm implements storage.Aheader.
func (l *Lossy) Confirm(ctx context.Context, id, runID string) error {
	return storage.Confirm(ctx, l.Store, id, runID)
}

// Complete implements storage.Store.
func (l *Lossy) Complete(ctx context.Context, id, runID string, result []byte) (storage.Effects, error) {
	eff, err := l.Store.Complete(ctx, id, runID, result)
	return l.effects("complete", eff, err)
}

// errUnreachable is what a down Outage answers: a store that cannot be
// reached, which the engine retries.
var errUnreachable = errors.New("flowsuite: store unreachable (outage)")

// Outage is a store that answers the calls a task's handler makes
// (claim, complete, fail) with errUnreachable while it is down. It hides
// what the store implements besides storage.Store (claims made ahead,
// notifications, lifecycle requests).
type Outage struct {
	storage.Store
	down    atomic.Bool
	refused atomic.Int64
}

// Down makes o refuse the handlers' calls; Up lets them through again.
func (o *Outage) Down() { o.down.Store(true) }

// Up lets the handlers' calls through.
func (o *Outage) Up() { o.down.Store(false) }

// Refused returns how many calls o refused.
func (o *Outage) Refused() int64 { return o.refused.Load() }

func (o *Outage) refuse() bool {
	if o.down.Load() {
		o.refused.Add(1)
		return true
	}
	return false
}

// Claim implements storage.Store.
func (o *Outage) Claim(ctx context.Context, id, runID string) (storage.Claim, error) {
	if o.refuse() {
		return storage.Claim{}, errUnreachable
	}
	return o.Store.Claim(ctx, id, runID)
}

// Complete implements storage.Store.
func (o *Outage) Complete(ctx context.Context, id, runID string, result []byte) (storage.Effects, error) {
	if o.refuse() {
		return storage.Effects{}, errUnreachable
	}
	return o.Store.Complete(ctx, id, runID, result)
}

// Fail implements storage.Store.
func (o *Outage) Fail(ctx context.Context, id, runID string, info sig.ErrorInfo) (storage.Effects, error) {
	if o.refuse() {
		return storage.Effects{}, errUnreachable
	}
	return o.Store.Fail(ctx, id, runID, info)
}

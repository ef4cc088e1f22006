package proptest

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"time"

	"github.com/mageflow-go/mageflow/backend"
	"github.com/mageflow-go/mageflow/internal/engine"
	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
)

// refuseCalls is how many dispatch calls a Refuse fault refuses: more than
// the engine's tries of one send (6), so that what it decided stays owed.
const refuseCalls = 8

// errRefused is what the backend answers while a Refuse fault holds.
var errRefused = errors.New("proptest: backend refuses dispatches (injected)")

// faultyBackend is the memory backend with the Refuse faults of a case:
// it counts dispatch calls and refuses refuseCalls of them after the
// Times-th of each Refuse.
type faultyBackend struct {
	backend.Backend
	mu     sync.Mutex
	calls  int
	refuse map[int]bool // call numbers to refuse
}

func newFaultyBackend(b backend.Backend, faults []Fault) *faultyBackend {
	f := &faultyBackend{Backend: b, refuse: map[int]bool{}}
	for _, ft := range faults {
		if ft.Kind == Refuse {
			for i := 1; i <= refuseCalls; i++ {
				f.refuse[ft.Times+i] = true
			}
		}
	}
	return f
}

// next counts a dispatch call and reports whether it is refused.
func (f *faultyBackend) next() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.calls++
	return f.refuse[f.calls]
}

func (f *faultyBackend) Dispatch(ctx context.Context, d backend.Dispatch) (string, error) {
	if f.next() {
		return "", errRefused
	}
	return f.Backend.Dispatch(ctx, d)
}

// DispatchBatch sends one at a time, so that every dispatch is a call.
func (f *faultyBackend) DispatchBatch(ctx context.Context, ds []backend.Dispatch) ([]string, []error) {
	ids, errs := make([]string, len(ds)), make([]error, len(ds))
	for i, d := range ds {
		ids[i], errs[i] = f.Dispatch(ctx, d)
	}
	return ids, errs
}

// errLost is the error of a transition whose reply a LoseReply fault
// dropped after the store applied it.
var errLost = errors.New("proptest: store reply lost (injected)")

// lossyStore drops the replies of the transitions (creates, completes,
// fails) whose numbers the case's LoseReply faults give.
type lossyStore struct {
	storage.Store
	n    atomic.Int64
	lose map[int64]bool
}

func newLossyStore(s storage.Store, faults []Fault) storage.Store {
	l := &lossyStore{Store: s, lose: map[int64]bool{}}
	for _, f := range faults {
		if f.Kind == LoseReply {
			l.lose[int64(f.Times)] = true
		}
	}
	if len(l.lose) == 0 {
		return s
	}
	return l
}

func (l *lossyStore) drop(eff storage.Effects, err error) (storage.Effects, error) {
	if err == nil && l.lose[l.n.Add(1)] {
		return storage.Effects{}, errLost
	}
	return eff, err
}

func (l *lossyStore) CreateGraph(ctx context.Context, g storage.Graph) (storage.Effects, error) {
	return l.drop(l.Store.CreateGraph(ctx, g))
}

func (l *lossyStore) Complete(ctx context.Context, id, runID string, result []byte) (storage.Effects, error) {
	return l.drop(l.Store.Complete(ctx, id, runID, result))
}

func (l *lossyStore) CompleteAhead(ctx context.Context, id, runID string, result []byte, next string, lease time.Duration) (storage.Effects, error) {
	return l.drop(storage.CompleteAhead(ctx, l.Store, id, runID, result, next, lease))
}

func (l *lossyStore) Confirm(ctx context.Context, id, runID string) error {
	return storage.Confirm(ctx, l.Store, id, runID)
}

func (l *lossyStore) Fail(ctx context.Context, id, runID string, info sig.ErrorInfo) (storage.Effects, error) {
	return l.drop(l.Store.Fail(ctx, id, runID, info))
}

// Ended passes the store's notifier on (see endedOf).
func (l *lossyStore) Ended(ctx context.Context, id string) <-chan struct{} {
	return endedOf(ctx, l.Store, id)
}

// endedOf passes s's notifier on, or closes at once (the engine then
// polls): what a wrapper of a store says of Ended.
func endedOf(ctx context.Context, s storage.Store, id string) <-chan struct{} {
	if n, ok := s.(storage.Notifier); ok {
		return n.Ended(ctx, id)
	}
	ch := make(chan struct{})
	close(ch)
	return ch
}

// PauseFor is how long a Pause fault keeps its flow suspended.
const PauseFor = 20 * time.Millisecond

// pauses returns the task ends after which the case's Pause faults
// suspend the flow, in order.
func pauses(faults []Fault) []int64 {
	var at []int64
	for _, f := range faults {
		if f.Kind == Pause {
			at = append(at, int64(f.Times))
		}
	}
	slices.Sort(at)
	return at
}

// endCounter counts the task ends (completes and fails) the store
// applied, and closes the channel of each count it was asked to watch.
type endCounter struct {
	storage.Store
	n     atomic.Int64
	mu    sync.Mutex
	watch map[int64]chan struct{}
}

func newEndCounter(s storage.Store, at []int64) *endCounter {
	c := &endCounter{Store: s, watch: map[int64]chan struct{}{}}
	for _, n := range at {
		if c.watch[n] == nil {
			c.watch[n] = make(chan struct{})
		}
	}
	return c
}

// reached is closed once n task ends were applied.
func (c *endCounter) reached(n int64) <-chan struct{} { return c.watch[n] }

func (c *endCounter) count(err error) {
	if err != nil {
		return
	}
	n := c.n.Add(1)
	c.mu.Lock()
	defer c.mu.Unlock()
	if ch := c.watch[n]; ch != nil {
		close(ch)
	}
}

func (c *endCounter) Complete(ctx context.Context, id, runID string, result []byte) (storage.Effects, error) {
	eff, err := c.Store.Complete(ctx, id, runID, result)
	c.count(err)
	return eff, err
}

func (c *endCounter) CompleteAhead(ctx context.Context, id, runID string, result []byte, next string, lease time.Duration) (storage.Effects, error) {
	eff, err := storage.CompleteAhead(ctx, c.Store, id, runID, result, next, lease)
	c.count(err)
	return eff, err
}

func (c *endCounter) Confirm(ctx context.Context, id, runID string) error {
	return storage.Confirm(ctx, c.Store, id, runID)
}

func (c *endCounter) Fail(ctx context.Context, id, runID string, info sig.ErrorInfo) (storage.Effects, error) {
	eff, err := c.Store.Fail(ctx, id, runID, info)
	c.count(err)
	return eff, err
}

// Ended passes the store's notifier on (see endedOf).
func (c *endCounter) Ended(ctx context.Context, id string) <-chan struct{} {
	return endedOf(ctx, c.Store, id)
}

// pauser is the flow's lifecycle, as the Pause faults drive it.
type pauser interface {
	Suspend(context.Context) error
	Resume(context.Context) error
}

// pauseAt suspends f at each point of at, once the store applied that
// many task ends, and resumes it PauseFor later. It returns when every
// pause was made, or when done is closed while it waits for the next
// point (the graph finished first), or ctx ended; a pause under way is
// always resumed. Its error is a lifecycle call that failed otherwise
// than on an ended flow.
func pauseAt(ctx context.Context, done <-chan struct{}, c *endCounter, at []int64, f pauser) error {
	for _, n := range at {
		select {
		case <-c.reached(n):
		case <-done:
			return nil
		case <-ctx.Done():
			return nil
		}
		if err := f.Suspend(ctx); err != nil {
			if errors.Is(err, engine.ErrFinished) || ctx.Err() != nil {
				return nil
			}
			return fmt.Errorf("pause after %d task ends: suspend: %w", n, err)
		}
		tm := time.NewTimer(PauseFor) // the pause's length, not a wait for an event
		select {
		case <-tm.C:
		case <-ctx.Done():
			tm.Stop()
			return nil
		}
		if err := f.Resume(ctx); err != nil && !errors.Is(err, engine.ErrFinished) {
			return fmt.Errorf("pause after %d task ends: resume: %w", n, err)
		}
	}
	return nil
}

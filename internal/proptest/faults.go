package proptest

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"

	"github.com/mageflow-go/mageflow/backend"
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

func (l *lossyStore) Fail(ctx context.Context, id, runID string, info sig.ErrorInfo) (storage.Effects, error) {
	return l.drop(l.Store.Fail(ctx, id, runID, info))
}

// Ended passes the store's notifier on, or closes at once (the engine then
// polls).
func (l *lossyStore) Ended(ctx context.Context, id string) <-chan struct{} {
	if n, ok := l.Store.(storage.Notifier); ok {
		return n.Ended(ctx, id)
	}
	ch := make(chan struct{})
	close(ch)
	return ch
}

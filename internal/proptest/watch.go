package proptest

import (
	"context"
	"sync"
	"time"

	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
)

// watch is a store that, after every task transition, reads the swarms
// the task runs in and notes how many items each had entered when it was
// first seen failed. A swarm that failed enters no item after: its Next
// must not move.
type watch struct {
	storage.Store
	slots map[string][]slot

	mu     sync.Mutex
	frozen map[string]int // swarm path -> Swarm.Next when first seen failed
}

var _ storage.Notifier = (*watch)(nil)

func newWatch(s storage.Store, slots map[string][]slot) *watch {
	return &watch{Store: s, slots: slots, frozen: map[string]int{}}
}

// Ended passes the store's notifier on, or closes at once (the engine
// then polls) for a store without one.
func (w *watch) Ended(ctx context.Context, id string) <-chan struct{} {
	if n, ok := w.Store.(storage.Notifier); ok {
		return n.Ended(ctx, id)
	}
	ch := make(chan struct{})
	close(ch)
	return ch
}

func (w *watch) Complete(ctx context.Context, id, runID string, result []byte) (storage.Effects, error) {
	eff, err := w.Store.Complete(ctx, id, runID, result)
	if err == nil {
		w.note(ctx, id)
	}
	return eff, err
}

func (w *watch) CompleteAhead(ctx context.Context, id, runID string, result []byte, next string, lease time.Duration) (storage.Effects, error) {
	eff, err := storage.CompleteAhead(ctx, w.Store, id, runID, result, next, lease)
	if err == nil {
		w.note(ctx, id)
	}
	return eff, err
}

func (w *watch) Confirm(ctx context.Context, id, runID string) error {
	return storage.Confirm(ctx, w.Store, id, runID)
}

func (w *watch) Fail(ctx context.Context, id, runID string, info sig.ErrorInfo) (storage.Effects, error) {
	eff, err := w.Store.Fail(ctx, id, runID, info)
	if err == nil {
		w.note(ctx, id)
	}
	return eff, err
}

// note reads the swarms task id runs in and notes those newly failed.
func (w *watch) note(ctx context.Context, id string) {
	root := sig.RootOf(id)
	for _, s := range w.slots[pathOf(id)] {
		w.mu.Lock()
		_, seen := w.frozen[s.swarm]
		w.mu.Unlock()
		if seen {
			continue
		}
		r, err := w.Store.Get(ctx, root+s.swarm)
		if err != nil || r.Status != sig.Failed || r.Swarm == nil {
			continue
		}
		w.mu.Lock()
		if _, seen := w.frozen[s.swarm]; !seen {
			w.frozen[s.swarm] = r.Swarm.Next
		}
		w.mu.Unlock()
	}
}

// Frozen returns, by swarm path, the items each failed swarm had entered
// when it was first seen failed.
func (w *watch) Frozen() map[string]int {
	w.mu.Lock()
	defer w.mu.Unlock()
	out := make(map[string]int, len(w.frozen))
	for k, v := range w.frozen {
		out[k] = v
	}
	return out
}

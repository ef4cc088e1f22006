package memory

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
	"github.com/mageflow-go/mageflow/storage/transition"
)

// sweepEvery is how many transitions pass between sweeps of expired records.
const sweepEvery = 4096

// Store is an in-process storage.Store. The zero value is not usable; call
// [New].
type Store struct {
	mu      sync.Mutex
	now     func() time.Time
	graphs  map[string]*graph
	waiters map[string][]chan struct{}
	// owed holds the records whose outbox holds effects, with the time
	// since when (or since they were last handed out by Due).
	owed map[string]time.Time
	ops  int
	tx   tx // reused by every transition, under mu

	tasks map[string]storage.TaskInfo // the tasks workers registered, by name

	requests  []request     // lifecycle requests, oldest first
	requested chan struct{} // closed when a request is queued
}

var (
	_ storage.Store    = (*Store)(nil)
	_ storage.Notifier = (*Store)(nil)
)

// graph is what the store keeps per graph: its records by id, their ids
// in creation order, and when it expires. Records live in their graph's
// map, not one map of the store's: a transition looks up a handful of
// records of one graph, in a map as small as the graph.
type graph struct {
	recs    map[string]*sig.Record
	ids     []string
	expires time.Time
}

// Option configures a [Store].
type Option func(*Store)

// WithClock makes the store read time from now instead of time.Now.
func WithClock(now func() time.Time) Option {
	return func(s *Store) { s.now = now }
}

// New returns an empty store.
func New(opts ...Option) *Store {
	s := &Store{
		now:     time.Now,
		graphs:  make(map[string]*graph),
		waiters: make(map[string][]chan struct{}),
		owed:    make(map[string]time.Time),
	}
	for _, o := range opts {
		o(s)
	}
	return s
}

// run executes fn as one atomic transition.
func (s *Store) run(ctx context.Context, what, id string, fn func(transition.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("storage/memory: %s %s: %w", what, id, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	t := &s.tx
	t.reset(s, s.now())
	if err := fn(t); err != nil {
		t.rollback()
		return fmt.Errorf("storage/memory: %s %s: %w", what, id, err)
	}
	t.commit()
	s.ops++
	if s.ops%sweepEvery == 0 {
		s.sweep(t.now)
	}
	return nil
}

// CreateGraph implements storage.Store.
func (s *Store) CreateGraph(ctx context.Context, g storage.Graph) (eff storage.Effects, err error) {
	id := ""
	if len(g.Records) > 0 && g.Records[0] != nil {
		id = g.Records[0].ID
	}
	err = s.run(ctx, "create graph", id, func(t transition.Tx) (err error) {
		s.tx.reserve(len(g.Records))
		eff, err = transition.CreateGraph(t, g)
		return err
	})
	return eff, err
}

// StartGraph implements storage.Store.
func (s *Store) StartGraph(ctx context.Context, root string, input []byte) (eff storage.Effects, err error) {
	err = s.run(ctx, "start", root, func(t transition.Tx) (err error) {
		eff, err = transition.StartGraph(t, root, input)
		return err
	})
	return eff, err
}

// Claim implements storage.Store.
func (s *Store) Claim(ctx context.Context, id, runID string) (c storage.Claim, err error) {
	err = s.run(ctx, "claim", id, func(t transition.Tx) (err error) {
		c, err = transition.Claim(t, id, runID) // c.Record is a copy
		return err
	})
	return c, err
}

// Complete implements storage.Store.
func (s *Store) Complete(ctx context.Context, id, runID string, result []byte) (eff storage.Effects, err error) {
	err = s.run(ctx, "complete", id, func(t transition.Tx) (err error) {
		eff, err = transition.Complete(t, id, runID, result)
		return err
	})
	return eff, err
}

// CompleteAhead implements storage.Aheader.
func (s *Store) CompleteAhead(ctx context.Context, id, runID string, result []byte, next string, lease time.Duration) (eff storage.Effects, err error) {
	err = s.run(ctx, "complete", id, func(t transition.Tx) (err error) {
		eff, err = transition.CompleteAhead(t, id, runID, result, next, lease)
		return err
	})
	return eff, err
}

// Confirm implements storage.Aheader.
func (s *Store) Confirm(ctx context.Context, id, runID string) error {
	return s.run(ctx, "confirm", id, func(t transition.Tx) error {
		return transition.Confirm(t, id, runID)
	})
}

// Fail implements storage.Store.
func (s *Store) Fail(ctx context.Context, id, runID string, info sig.ErrorInfo) (eff storage.Effects, err error) {
	err = s.run(ctx, "fail", id, func(t transition.Tx) (err error) {
		eff, err = transition.Fail(t, id, runID, info)
		return err
	})
	return eff, err
}

// AddItems implements storage.Store.
func (s *Store) AddItems(ctx context.Context, id string, base int, items []*sig.Record) (eff storage.Effects, err error) {
	err = s.run(ctx, "add items to", id, func(t transition.Tx) (err error) {
		s.tx.reserve(len(items))
		eff, err = transition.AddItems(t, id, base, items)
		return err
	})
	return eff, err
}

// CloseSwarm implements storage.Store.
func (s *Store) CloseSwarm(ctx context.Context, id string) (eff storage.Effects, err error) {
	err = s.run(ctx, "close swarm", id, func(t transition.Tx) (err error) {
		eff, err = transition.CloseSwarm(t, id)
		return err
	})
	return eff, err
}

// Apply implements storage.Store.
func (s *Store) Apply(ctx context.Context, root string, op sig.Op) (eff storage.Effects, err error) {
	err = s.run(ctx, string(op), root, func(t transition.Tx) (err error) {
		eff, err = transition.Apply(t, root, op)
		return err
	})
	return eff, err
}

// Ack implements storage.Store.
func (s *Store) Ack(ctx context.Context, id string, keys []string) error {
	return s.run(ctx, "ack", id, func(t transition.Tx) error {
		return transition.Ack(t, id, keys)
	})
}

// Spawn implements storage.Store.
func (s *Store) Spawn(ctx context.Context, id string, n int) error {
	return s.run(ctx, "spawn", id, func(t transition.Tx) error {
		return transition.Spawn(t, id, n)
	})
}

// Touch implements storage.Store.
func (s *Store) Touch(ctx context.Context, root string) error {
	return s.run(ctx, "touch", root, func(t transition.Tx) error {
		return transition.Touch(t, root)
	})
}

// Owed implements storage.Store.
func (s *Store) Owed(ctx context.Context, id string) (eff storage.Effects, err error) {
	err = s.run(ctx, "owed by", id, func(t transition.Tx) (err error) {
		eff, err = transition.Owed(t, id)
		return err
	})
	return eff, err
}

// Due implements storage.Store: the oldest owed first.
func (s *Store) Due(ctx context.Context, age time.Duration, n int) ([]string, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("storage/memory: due: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	cutoff := now.Add(-age)
	type due struct {
		id string
		at time.Time
	}
	var ds []due
	for id, at := range s.owed {
		if s.live(id, now) == nil {
			delete(s.owed, id)
			continue
		}
		if !at.After(cutoff) {
			ds = append(ds, due{id, at})
		}
	}
	slices.SortFunc(ds, func(a, b due) int {
		if c := a.at.Compare(b.at); c != 0 {
			return c
		}
		return strings.Compare(a.id, b.id)
	})
	ids := make([]string, 0, min(len(ds), max(n, 0)))
	for _, d := range ds[:min(len(ds), max(n, 0))] {
		s.owed[d.id] = now
		ids = append(ids, d.id)
	}
	return ids, nil
}

// Get implements storage.Store.
func (s *Store) Get(ctx context.Context, id string) (*sig.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("storage/memory: get %s: %w", id, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.live(id, s.now())
	if r == nil {
		return nil, fmt.Errorf("storage/memory: get %s: %w", id, storage.ErrNotFound)
	}
	c := r.Clone()
	c.ExpiresAt = s.graphs[sig.RootOf(id)].expires
	return c, nil
}

// Ended implements storage.Notifier.
func (s *Store) Ended(ctx context.Context, id string) <-chan struct{} {
	ch := make(chan struct{})
	s.mu.Lock()
	defer s.mu.Unlock()
	r := s.live(id, s.now())
	if r == nil || r.Status.Terminal() || ctx.Err() != nil {
		close(ch)
		return ch
	}
	s.waiters[id] = append(s.waiters[id], ch)
	context.AfterFunc(ctx, func() {
		s.mu.Lock()
		defer s.mu.Unlock()
		ws := s.waiters[id]
		for i, w := range ws {
			if w == ch {
				s.waiters[id] = append(ws[:i], ws[i+1:]...)
				if len(s.waiters[id]) == 0 {
					delete(s.waiters, id)
				}
				close(ch)
				return
			}
		}
	})
	return ch
}

// Len returns the number of records held, expired ones included until the
// next sweep. It is meant for tests.
func (s *Store) Len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	n := 0
	for _, g := range s.graphs {
		n += len(g.recs)
	}
	return n
}

// live returns record id unless it is missing or its graph expired. s.mu
// is held.
func (s *Store) live(id string, now time.Time) *sig.Record {
	g := s.graphs[sig.RootOf(id)]
	if g == nil || !now.Before(g.expires) {
		return nil
	}
	return g.recs[id]
}

// sweep deletes expired graphs. s.mu is held.
func (s *Store) sweep(now time.Time) {
	for root, g := range s.graphs {
		if now.Before(g.expires) {
			continue
		}
		for _, id := range g.ids {
			delete(s.owed, id)
			for _, ch := range s.waiters[id] {
				close(ch)
			}
			delete(s.waiters, id)
		}
		delete(s.graphs, root)
	}
}

var _ storage.Lister = (*Store)(nil)

var _ storage.Aheader = (*Store)(nil)

// Roots implements storage.Lister: the roots of live graphs in id order,
// n at a time; the cursor is the last root of the previous page.
func (s *Store) Roots(ctx context.Context, cursor string, n int) ([]string, string, error) {
	if err := ctx.Err(); err != nil {
		return nil, "", fmt.Errorf("storage/memory: roots: %w", err)
	}
	n = max(n, 1)
	s.mu.Lock()
	now := s.now()
	var all []string
	for root, g := range s.graphs {
		if root > cursor && now.Before(g.expires) {
			all = append(all, root)
		}
	}
	s.mu.Unlock()
	slices.Sort(all)
	if len(all) <= n {
		return all, "", nil
	}
	return all[:n], all[n-1], nil
}

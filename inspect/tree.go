package inspect

import (
	"context"
	"errors"
	"fmt"

	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
)

// Node is a record of a flow with what hangs under it: a chain's steps or
// a swarm's items (at most TreeOptions.MaxChildren of them; More counts
// the others) and its callbacks.
type Node struct {
	Record   *sig.Record
	Children []*Node
	More     int
	// FailedMore are a swarm's failed items among the More not loaded
	// (at most MaxChildren of them), so that failures always show.
	FailedMore []*Node
	OnSuccess  []*Node
	OnError    []*Node
	// WillNotFire is set on a callback that will not fire: a success
	// callback of a node that failed or was canceled, an error callback of
	// one that is done or was canceled (its record stays unentered,
	// pending or paused, and says nothing itself).
	WillNotFire bool
}

// TreeOptions bound what Tree reads.
type TreeOptions struct {
	// MaxChildren is the most steps or items read per container (default
	// 50). A swarm's progress comes from its counts, not from its items.
	MaxChildren int
	// SkipFailures leaves FailedMore empty: a view that shows progress
	// only (the counts) does not search a swarm's items for its failures,
	// which costs a read per page of items.
	SkipFailures bool
}

// Tree reads the flow (or the part of one) whose record is id. On a store
// that reads several records at once (storage.Batch: both of mageflow's)
// it reads a container's page of children in one call, and its callbacks
// in another.
func Tree(ctx context.Context, s storage.Store, id string, opt TreeOptions) (*Node, error) {
	maxc := opt.MaxChildren
	if maxc <= 0 {
		maxc = 50
	}
	r, err := s.Get(ctx, id)
	if err != nil {
		return nil, fmt.Errorf("inspect: read %s: %w", id, err)
	}
	root := sig.RootOf(id)
	many := func(ids []string) ([]*sig.Record, error) { return getMany(ctx, s, root, ids) }
	ids := func(n int, id func(int) string, from, to int) []string {
		out := make([]string, 0, max(0, min(to, n)-from))
		for i := from; i < min(to, n); i++ {
			out = append(out, id(i))
		}
		return out
	}
	var build func(r *sig.Record) (*Node, error)
	build = func(r *sig.Record) (*Node, error) {
		n := &Node{Record: r}
		child := func(i int) string { return sig.ChildID(r.ID, i) }
		kids, err := many(ids(r.Children, child, 0, maxc))
		if err != nil {
			return nil, err
		}
		failed := 0 // failed items loaded
		for _, k := range kids {
			c, err := build(k)
			if err != nil {
				return nil, err
			}
			if k.Status == sig.Failed {
				failed++
			}
			n.Children = append(n.Children, c)
		}
		n.More = r.Children - len(kids)
		if r.Kind == sig.KindSwarm && r.Swarm != nil && n.More > 0 && !opt.SkipFailures {
			// the failures the counts report and the first items do not
			// hold: read on (records only, a page at a time) until they
			// are found
			for from := maxc; from < r.Children && failed < r.Swarm.Failed && len(n.FailedMore) < maxc; from += maxc {
				page, err := many(ids(r.Children, child, from, from+maxc))
				if err != nil {
					return nil, err
				}
				for _, c := range page {
					if c.Status == sig.Failed && len(n.FailedMore) < maxc {
						failed++
						n.FailedMore = append(n.FailedMore, &Node{Record: c})
					}
				}
			}
		}
		cbIDs := append(ids(r.OnSuccess, func(i int) string { return sig.SuccessID(r.ID, i) }, 0, r.OnSuccess),
			ids(r.OnError, func(i int) string { return sig.ErrorID(r.ID, i) }, 0, r.OnError)...)
		cbs, err := many(cbIDs)
		if err != nil {
			return nil, err
		}
		for i, cr := range cbs {
			c, err := build(cr)
			if err != nil {
				return nil, err
			}
			if i < r.OnSuccess {
				c.WillNotFire = !cr.Entered && (r.Status == sig.Failed || r.Status == sig.Canceled)
				n.OnSuccess = append(n.OnSuccess, c)
			} else {
				c.WillNotFire = !cr.Entered && (r.Status == sig.Done || r.Status == sig.Canceled)
				n.OnError = append(n.OnError, c)
			}
		}
		return n, nil
	}
	return build(r)
}

// Walk calls fn for n and every node under it, parents first, with its
// depth.
func (n *Node) Walk(fn func(n *Node, depth int)) {
	var walk func(n *Node, depth int)
	walk = func(n *Node, depth int) {
		fn(n, depth)
		for _, group := range [][]*Node{n.Children, n.FailedMore, n.OnSuccess, n.OnError} {
			for _, c := range group {
				walk(c, depth+1)
			}
		}
	}
	walk(n, 0)
}

// getMany reads records ids of the graph rooted at root: in one call on a
// storage.Batch, else one by one. A missing one is an error wrapping
// storage.ErrNotFound.
func getMany(ctx context.Context, s storage.Store, root string, ids []string) ([]*sig.Record, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	var recs []*sig.Record
	if b, ok := s.(storage.Batch); ok {
		var err error
		if recs, err = b.GetMany(ctx, root, ids); err != nil {
			return nil, fmt.Errorf("inspect: read %s…: %w", ids[0], err)
		}
	} else {
		recs = make([]*sig.Record, len(ids))
		for i, id := range ids {
			r, err := s.Get(ctx, id)
			if err != nil && !errors.Is(err, storage.ErrNotFound) {
				return nil, fmt.Errorf("inspect: read %s: %w", id, err)
			}
			recs[i] = r
		}
	}
	for i, r := range recs {
		if r == nil {
			return nil, fmt.Errorf("inspect: read %s: %w", ids[i], storage.ErrNotFound)
		}
	}
	return recs, nil
}

package inspect

import (
	"context"
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
}

// Tree reads the flow (or the part of one) whose record is id.
func Tree(ctx context.Context, s storage.Store, id string, opt TreeOptions) (*Node, error) {
	maxc := opt.MaxChildren
	if maxc <= 0 {
		maxc = 50
	}
	var read func(id string) (*Node, error)
	read = func(id string) (*Node, error) {
		r, err := s.Get(ctx, id)
		if err != nil {
			return nil, fmt.Errorf("inspect: read %s: %w", id, err)
		}
		n := &Node{Record: r}
		failed := 0 // failed items loaded
		for i := 0; i < r.Children; i++ {
			if i == maxc {
				n.More = r.Children - maxc
				break
			}
			c, err := read(sig.ChildID(id, i))
			if err != nil {
				return nil, err
			}
			if c.Record.Status == sig.Failed {
				failed++
			}
			n.Children = append(n.Children, c)
		}
		if r.Kind == sig.KindSwarm && r.Swarm != nil && n.More > 0 {
			// the failures the counts report and the first items do not
			// hold: read on (records only) until they are found
			for i := maxc; i < r.Children && failed < r.Swarm.Failed && len(n.FailedMore) < maxc; i++ {
				c, err := s.Get(ctx, sig.ChildID(id, i))
				if err != nil {
					return nil, fmt.Errorf("inspect: read %s: %w", sig.ChildID(id, i), err)
				}
				if c.Status == sig.Failed {
					failed++
					n.FailedMore = append(n.FailedMore, &Node{Record: c})
				}
			}
		}
		for i := 0; i < r.OnSuccess; i++ {
			c, err := read(sig.SuccessID(id, i))
			if err != nil {
				return nil, err
			}
			c.WillNotFire = !c.Record.Entered && (r.Status == sig.Failed || r.Status == sig.Canceled)
			n.OnSuccess = append(n.OnSuccess, c)
		}
		for i := 0; i < r.OnError; i++ {
			c, err := read(sig.ErrorID(id, i))
			if err != nil {
				return nil, err
			}
			c.WillNotFire = !c.Record.Entered && (r.Status == sig.Done || r.Status == sig.Canceled)
			n.OnError = append(n.OnError, c)
		}
		return n, nil
	}
	return read(id)
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

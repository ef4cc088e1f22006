package memory

import (
	"cmp"
	"context"
	"fmt"
	"slices"
	"strings"

	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
)

var _ storage.Index = (*Store)(nil)

// Flows implements storage.Index. It looks at every live graph, which a
// store for tests and development can afford.
func (s *Store) Flows(ctx context.Context, q storage.FlowQuery) (storage.FlowPage, error) {
	if err := ctx.Err(); err != nil {
		return storage.FlowPage{}, fmt.Errorf("storage/memory: flows: %w", err)
	}
	var cms int64
	var cid string
	if q.Cursor != "" {
		var err error
		if cms, cid, err = storage.ParseFlowCursor(q.Cursor); err != nil {
			return storage.FlowPage{}, fmt.Errorf("storage/memory: flows: %w", err)
		}
	}
	limit := min(max(q.Limit, 1), storage.MaxFlowPage)
	s.mu.Lock()
	now := s.now()
	var roots []*sig.Record
	for root, g := range s.graphs {
		r := g.recs[root]
		if r == nil || !now.Before(g.expires) || !strings.HasPrefix(root, q.Prefix) {
			continue
		}
		ms := r.CreatedAt.UnixMilli()
		switch {
		case q.Cursor != "" && !storage.Before(ms, root, cms, cid),
			!q.Since.IsZero() && ms < q.Since.UnixMilli(),
			!q.Until.IsZero() && ms >= q.Until.UnixMilli():
			continue
		}
		c := r.Clone()
		c.ExpiresAt = g.expires
		roots = append(roots, c)
	}
	s.mu.Unlock()
	slices.SortFunc(roots, func(a, b *sig.Record) int {
		if c := cmp.Compare(b.CreatedAt.UnixMilli(), a.CreatedAt.UnixMilli()); c != 0 {
			return c
		}
		return cmp.Compare(b.ID, a.ID)
	})
	var page storage.FlowPage
	if len(roots) > limit {
		roots = roots[:limit]
		last := roots[limit-1]
		page.Next = storage.FlowCursor(last.CreatedAt, last.ID)
	}
	page.Roots = roots
	return page, nil
}

var _ storage.Batch = (*Store)(nil)

// GetMany implements storage.Batch.
func (s *Store) GetMany(ctx context.Context, root string, ids []string) ([]*sig.Record, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("storage/memory: get many of %s: %w", root, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	out := make([]*sig.Record, len(ids))
	for i, id := range ids {
		if sig.RootOf(id) != root {
			return nil, fmt.Errorf("storage/memory: get many of %s: %s is not of that graph: %w", root, id, storage.ErrState)
		}
		if r := s.live(id, now); r != nil {
			c := r.Clone()
			c.ExpiresAt = s.graphs[root].expires
			out[i] = c
		}
	}
	return out, nil
}

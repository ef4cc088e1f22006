package inspect

import (
	"context"
	"fmt"
	"slices"

	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
)

// ItemsOptions select a page of a container's children.
type ItemsOptions struct {
	// Status keeps the children with one of these statuses (all when
	// empty).
	Status []sig.Status
	// From is the index to read from (a page's Next).
	From int
	// Limit is the most children returned (default 50).
	Limit int
}

// ItemsPage is a page of a container's children.
type ItemsPage struct {
	Items []*Node
	// Next is the index to read the next page from, or -1 after the
	// last one.
	Next int
}

// Items reads a page of the steps or items of container id that opt
// selects, a page of records per store call (storage.Batch), for a view
// of a large swarm: its children are nodes without what hangs under
// them.
func Items(ctx context.Context, s storage.Store, id string, opt ItemsOptions) (ItemsPage, error) {
	limit := opt.Limit
	if limit <= 0 {
		limit = 50
	}
	r, err := s.Get(ctx, id)
	if err != nil {
		return ItemsPage{}, fmt.Errorf("inspect: read %s: %w", id, err)
	}
	out := ItemsPage{Next: -1}
	for from := max(opt.From, 0); from < r.Children; from += limit {
		ids := make([]string, 0, limit)
		for i := from; i < min(from+limit, r.Children); i++ {
			ids = append(ids, sig.ChildID(id, i))
		}
		recs, err := getMany(ctx, s, sig.RootOf(id), ids)
		if err != nil {
			return ItemsPage{}, err
		}
		for i, c := range recs {
			if len(opt.Status) > 0 && !slices.Contains(opt.Status, c.Status) {
				continue
			}
			out.Items = append(out.Items, &Node{Record: c})
			if len(out.Items) == limit {
				if next := from + i + 1; next < r.Children {
					out.Next = next
				}
				return out, nil
			}
		}
	}
	return out, nil
}

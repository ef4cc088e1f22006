package inspect

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
)

// ListOptions filter and bound a listing.
type ListOptions struct {
	// Status keeps the flows with one of these statuses (all when empty).
	Status []sig.Status
	// Name keeps the flows of that name (Summary.Name: flow.Named's, else
	// the kind or the root task's name).
	Name string
	// Metadata keeps the flows whose metadata holds every one of these
	// pairs.
	Metadata map[string]string
	// Since and Until keep the flows created at or after Since and before
	// Until (zero: no bound).
	Since, Until time.Time
	// Prefix keeps the flows whose id starts with it.
	Prefix string
	// Cursor continues a listing: the Next of the page before.
	Cursor string
	// Limit is the most flows returned, newest first (default 50).
	Limit int
}

// Page is a page of a listing.
type Page struct {
	Flows []Summary
	// Next is the cursor of the next page (ListOptions.Cursor), "" after
	// the last one.
	Next string
}

// ErrNoListing is returned by List for a store that cannot list its
// graphs (it implements neither storage.Index nor storage.Lister).
var ErrNoListing = errors.New("inspect: the store cannot list its graphs")

// matches reports whether root r passes the filters of opt that the
// store's index does not apply.
func (opt ListOptions) matches(r *sig.Record) bool {
	if len(opt.Status) > 0 && !slices.Contains(opt.Status, r.Status) {
		return false
	}
	if opt.Name != "" && NameOf(r) != opt.Name {
		return false
	}
	for k, v := range opt.Metadata {
		if got, ok := r.Metadata[k]; !ok || got != v {
			return false
		}
	}
	return true
}

// List returns the first page of the flows opt selects, newest first.
func List(ctx context.Context, s storage.Store, opt ListOptions) ([]Summary, error) {
	p, err := ListPage(ctx, s, opt)
	return p.Flows, err
}

// ListPage returns a page of the flows opt selects, newest first. On a
// store with an index (storage.Index: both of mageflow's stores) it
// reads pages of the index until the page is full, so that a listing of
// the newest flows costs the page, not what the store holds. The index
// orders flows by creation and applies Since, Until and Prefix; the other
// filters are applied to the flows it reads, and a call reads at most
// ScanBudget(Limit) of them: a filter that few flows pass returns a page
// with fewer than Limit flows (none, maybe) and a Next to read on from.
// On a store with only a storage.Lister it reads every flow, and pages
// by offset.
func ListPage(ctx context.Context, s storage.Store, opt ListOptions) (Page, error) {
	limit := opt.Limit
	if limit <= 0 {
		limit = 50
	}
	x, ok := s.(storage.Index)
	if !ok {
		return listAll(ctx, s, opt, limit)
	}
	var out Page
	q := storage.FlowQuery{Cursor: opt.Cursor, Since: opt.Since, Until: opt.Until, Prefix: opt.Prefix, Limit: limit}
	budget := ScanBudget(limit)
	for {
		q.Limit = min(q.Limit, budget)
		p, err := x.Flows(ctx, q)
		if err != nil {
			return Page{}, fmt.Errorf("inspect: list: %w", err)
		}
		budget -= len(p.Roots)
		for i, r := range p.Roots {
			if !opt.matches(r) {
				continue
			}
			out.Flows = append(out.Flows, Summarize(r))
			if len(out.Flows) == limit {
				if i < len(p.Roots)-1 || p.Next != "" {
					out.Next = storage.FlowCursor(r.CreatedAt, r.ID)
				}
				return out, nil
			}
		}
		if p.Next == "" {
			return out, nil
		}
		if budget <= 0 {
			out.Next = p.Next // read on from there
			return out, nil
		}
		q.Cursor = p.Next
		// a filter few flows pass: read larger pages of the index
		q.Limit = min(2*q.Limit, storage.MaxFlowPage)
	}
}

// Collect returns every flow opt selects, newest first, reading page
// after page (opt.Limit a page), up to most of them; more says that
// others match.
func Collect(ctx context.Context, s storage.Store, opt ListOptions, most int) (flows []Summary, more bool, err error) {
	for {
		p, err := ListPage(ctx, s, opt)
		if err != nil {
			return nil, false, err
		}
		flows = append(flows, p.Flows...)
		if len(flows) >= most {
			return flows[:most], len(flows) > most || p.Next != "", nil
		}
		if p.Next == "" {
			return flows, false, nil
		}
		opt.Cursor = p.Next
	}
}

// ScanBudget is the most flows of the index one ListPage of limit flows
// reads: 20 times the page, and at least 1,000.
func ScanBudget(limit int) int { return max(20*limit, 1000) }

// listAll lists a store without an index: every root, read and sorted.
func listAll(ctx context.Context, s storage.Store, opt ListOptions, limit int) (Page, error) {
	l, ok := s.(storage.Lister)
	if !ok {
		return Page{}, ErrNoListing
	}
	seen := map[string]bool{}
	var all []Summary
	cursor := ""
	for {
		roots, next, err := l.Roots(ctx, cursor, 500)
		if err != nil {
			return Page{}, fmt.Errorf("inspect: list: %w", err)
		}
		for _, id := range roots {
			if seen[id] || !strings.HasPrefix(id, opt.Prefix) {
				continue
			}
			seen[id] = true
			r, err := s.Get(ctx, id)
			if errors.Is(err, storage.ErrNotFound) {
				continue // expired since it was listed
			}
			if err != nil {
				return Page{}, fmt.Errorf("inspect: read %s: %w", id, err)
			}
			ms := r.CreatedAt.UnixMilli()
			if !opt.matches(r) || !opt.Since.IsZero() && ms < opt.Since.UnixMilli() || !opt.Until.IsZero() && ms >= opt.Until.UnixMilli() {
				continue
			}
			all = append(all, Summarize(r))
		}
		if next == "" {
			break
		}
		cursor = next
	}
	slices.SortFunc(all, func(a, b Summary) int {
		if c := b.Created.Compare(a.Created); c != 0 {
			return c
		}
		return strings.Compare(b.ID, a.ID)
	})
	if opt.Cursor != "" {
		cms, cid, err := storage.ParseFlowCursor(opt.Cursor)
		if err != nil {
			return Page{}, fmt.Errorf("inspect: list: %w", err)
		}
		all = slices.DeleteFunc(all, func(f Summary) bool { return !storage.Before(f.Created.UnixMilli(), f.ID, cms, cid) })
	}
	var out Page
	if len(all) > limit {
		all = all[:limit]
		last := all[limit-1]
		out.Next = storage.FlowCursor(last.Created, last.ID)
	}
	out.Flows = all
	return out, nil
}

// ErrAmbiguous is returned by Resolve for a prefix of several flows' ids.
var ErrAmbiguous = errors.New("inspect: id prefix of several flows")

// MinPrefix is the shortest id prefix Resolve looks up.
const MinPrefix = 4

// Resolve returns the id of the record idOrPrefix names: the id itself
// when a record has it, else the one flow whose id starts with it (at
// least MinPrefix characters). It returns an error wrapping
// storage.ErrNotFound when none does, and ErrAmbiguous, naming a few,
// when several do.
func Resolve(ctx context.Context, s storage.Store, idOrPrefix string) (string, error) {
	if _, err := s.Get(ctx, idOrPrefix); err == nil {
		return idOrPrefix, nil
	} else if !errors.Is(err, storage.ErrNotFound) {
		return "", err
	}
	if len(idOrPrefix) < MinPrefix || strings.Contains(idOrPrefix, ".") {
		return "", fmt.Errorf("inspect: no record %q: %w", idOrPrefix, storage.ErrNotFound)
	}
	p, err := ListPage(ctx, s, ListOptions{Prefix: idOrPrefix, Limit: 5})
	if err != nil {
		return "", err
	}
	switch len(p.Flows) {
	case 0:
		return "", fmt.Errorf("inspect: no flow with an id that starts with %q: %w", idOrPrefix, storage.ErrNotFound)
	case 1:
		return p.Flows[0].ID, nil
	}
	ids := make([]string, len(p.Flows))
	for i, f := range p.Flows {
		ids[i] = f.ID
	}
	more := ""
	if p.Next != "" {
		more = ", …"
	}
	return "", fmt.Errorf("%w %q: %s%s", ErrAmbiguous, idOrPrefix, strings.Join(ids, ", "), more)
}

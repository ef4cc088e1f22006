package redis

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
)

var _ storage.Index = (*Store)(nil)

// entry is a flow of a shard's index: its root id and creation time.
type entry struct {
	id string
	ms int64
}

// Flows implements storage.Index with plain reads, so that a user who
// may only read can list flows: one round trip for the newest entries of
// every shard's index (a sorted set by creation time, which CreateGraph
// writes in its own operation), and one for the roots of the page. A
// Prefix scans the indexes (ZSCAN) instead.
func (s *Store) Flows(ctx context.Context, q storage.FlowQuery) (storage.FlowPage, error) {
	limit := min(max(q.Limit, 1), storage.MaxFlowPage)
	var cms int64
	var cid string
	hi, lo := "+inf", "-inf"
	if q.Cursor != "" {
		var err error
		if cms, cid, err = storage.ParseFlowCursor(q.Cursor); err != nil {
			return storage.FlowPage{}, fmt.Errorf("storage/redis: flows: %w", err)
		}
		hi = strconv.FormatInt(cms, 10)
	}
	if !q.Until.IsZero() {
		if u := q.Until.UnixMilli() - 1; q.Cursor == "" || u < cms {
			hi = strconv.FormatInt(u, 10)
		}
	}
	if !q.Since.IsZero() {
		lo = strconv.FormatInt(q.Since.UnixMilli(), 10)
	}
	keep := func(e entry) bool {
		switch {
		case q.Cursor != "" && !storage.Before(e.ms, e.id, cms, cid):
			return false
		case !q.Since.IsZero() && e.ms < q.Since.UnixMilli(), !q.Until.IsZero() && e.ms >= q.Until.UnixMilli():
			return false
		}
		return strings.HasPrefix(e.id, q.Prefix)
	}
	var all []entry
	var err error
	if q.Prefix != "" {
		all, err = s.scanIndexes(ctx, q.Prefix, keep)
	} else {
		all, err = s.newestEntries(ctx, hi, lo, limit+1, keep)
	}
	if err != nil {
		return storage.FlowPage{}, err
	}
	slices.SortFunc(all, func(a, b entry) int {
		if c := cmp.Compare(b.ms, a.ms); c != 0 {
			return c
		}
		return cmp.Compare(b.id, a.id)
	})
	var page storage.FlowPage
	if len(all) > limit {
		all = all[:limit]
		last := all[limit-1]
		page.Next = storage.FlowCursor(time.UnixMilli(last.ms), last.id)
	}
	page.Roots, err = s.roots(ctx, all)
	return page, err
}

// newestEntries returns, from every shard's index, the n newest entries
// scored from hi down to lo that keep accepts: one round trip, and
// another for a shard whose n entries keep refused some of (the ties of
// a cursor's millisecond).
func (s *Store) newestEntries(ctx context.Context, hi, lo string, n int, keep func(entry) bool) ([]entry, error) {
	want := make([]int, s.shards)
	for sh := range want {
		want[sh] = n
	}
	pending := make([]int, s.shards)
	for sh := range pending {
		pending[sh] = sh
	}
	var all []entry
	for len(pending) > 0 {
		cmds := make([]*goredis.ZSliceCmd, len(pending))
		_, err := s.c.Pipelined(ctx, func(p goredis.Pipeliner) error {
			for i, sh := range pending {
				cmds[i] = p.ZRevRangeByScoreWithScores(ctx, s.flowsKey(sh), &goredis.ZRangeBy{Max: hi, Min: lo, Count: int64(want[sh])})
			}
			return nil
		})
		if err != nil && !errors.Is(err, goredis.Nil) {
			return nil, translate("flows", s.flowsKey(pending[0]), err)
		}
		var again []int
		for i, sh := range pending {
			zs, err := cmds[i].Result()
			if err != nil && !errors.Is(err, goredis.Nil) {
				return nil, translate("flows", s.flowsKey(sh), err)
			}
			kept := 0
			var got []entry
			for _, z := range zs {
				id, _ := z.Member.(string)
				e := entry{id: id, ms: int64(z.Score)}
				if keep(e) {
					got = append(got, e)
					kept++
				}
			}
			if len(zs) == want[sh] && kept < n {
				// refused entries (the cursor's ties) took places: ask
				// this shard for more
				want[sh] *= 2
				again = append(again, sh)
				continue
			}
			all = append(all, got...)
		}
		pending = again
	}
	return all, nil
}

// scanIndexes returns the entries of every shard's index whose id starts
// with prefix and that keep accepts.
func (s *Store) scanIndexes(ctx context.Context, prefix string, keep func(entry) bool) ([]entry, error) {
	match := strings.NewReplacer("*", `\*`, "?", `\?`, "[", `\[`, "]", `\]`, `\`, `\\`).Replace(prefix) + "*"
	var all []entry
	for sh := range s.shards {
		key := s.flowsKey(sh)
		var cursor uint64
		for {
			kv, next, err := s.c.ZScan(ctx, key, cursor, match, 1000).Result()
			if err != nil {
				return nil, translate("flows", key, err)
			}
			for i := 0; i+1 < len(kv); i += 2 {
				ms, err := strconv.ParseFloat(kv[i+1], 64)
				if err != nil {
					continue
				}
				if e := (entry{id: kv[i], ms: int64(ms)}); keep(e) {
					all = append(all, e)
				}
			}
			if next == 0 {
				break
			}
			cursor = next
		}
	}
	return all, nil
}

// roots reads the root records of es, in one round trip: those whose
// graph expired since it was indexed are left out.
func (s *Store) roots(ctx context.Context, es []entry) ([]*sig.Record, error) {
	if len(es) == 0 {
		return nil, nil
	}
	hgets := make([]*goredis.StringCmd, len(es))
	pttls := make([]*goredis.DurationCmd, len(es))
	_, err := s.c.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for i, e := range es {
			key := s.Key(e.id)
			hgets[i] = p.HGet(ctx, key, Field(e.id))
			pttls[i] = p.PTTL(ctx, key)
		}
		return nil
	})
	if err != nil && !errors.Is(err, goredis.Nil) {
		return nil, translate("flows", s.Key(es[0].id), err)
	}
	out := make([]*sig.Record, 0, len(es))
	for i, e := range es {
		raw, err := hgets[i].Result()
		if errors.Is(err, goredis.Nil) {
			continue // expired since it was indexed
		}
		if err != nil {
			return nil, translate("flows", s.Key(e.id), err)
		}
		var w wireRecord
		if err := unmarshal(raw, &w); err != nil || !w.isRecord() {
			return nil, fmt.Errorf("storage/redis: flows: key %s field %s does not decode (%v): %w", s.Key(e.id), e.id, err, storage.ErrCorrupt)
		}
		r, err := fromWire(e.id, &w)
		if err != nil {
			return nil, fmt.Errorf("storage/redis: flows: key %s field %s does not decode (%v): %w", s.Key(e.id), e.id, err, storage.ErrCorrupt)
		}
		if ttl := pttls[i].Val(); ttl > 0 {
			r.ExpiresAt = time.Now().Add(ttl).Truncate(time.Millisecond) // the precision of PTTL
		}
		out = append(out, r)
	}
	return out, nil
}

var _ storage.Batch = (*Store)(nil)

// GetMany implements storage.Batch with one HMGET (and a PTTL) on the
// graph's key: one round trip of plain reads.
func (s *Store) GetMany(ctx context.Context, root string, ids []string) ([]*sig.Record, error) {
	if len(ids) == 0 {
		return nil, nil
	}
	for _, id := range ids {
		if !sig.ValidID(id) || sig.RootOf(id) != root {
			return nil, fmt.Errorf("storage/redis: get many of %s: %q is not of that graph: %w", root, id, storage.ErrState)
		}
	}
	key := s.Key(root)
	fields := make([]string, len(ids))
	for i, id := range ids {
		fields[i] = Field(id)
	}
	var hm *goredis.SliceCmd
	var pttl *goredis.DurationCmd
	werr := s.send(ctx, key, func(p goredis.Pipeliner) {
		hm = p.HMGet(ctx, key, fields...)
		pttl = p.PTTL(ctx, key)
	})
	if hm == nil {
		return nil, translate("get many of "+root, key, werr)
	}
	vals, err := hm.Result()
	if err != nil {
		return nil, translate("get many of "+root, key, err)
	}
	if werr != nil {
		return nil, translate("get many of "+root, key, werr)
	}
	out := make([]*sig.Record, len(ids))
	for i, v := range vals {
		raw, ok := v.(string)
		if !ok {
			continue // missing
		}
		var w wireRecord
		if err := unmarshal(raw, &w); err != nil || !w.isRecord() {
			return nil, fmt.Errorf("storage/redis: get many of %s: key %s field %s does not decode (%v): %w", root, key, ids[i], err, storage.ErrCorrupt)
		}
		r, err := fromWire(ids[i], &w)
		if err != nil {
			return nil, fmt.Errorf("storage/redis: get many of %s: key %s field %s does not decode (%v): %w", root, key, ids[i], err, storage.ErrCorrupt)
		}
		if ttl := pttl.Val(); ttl > 0 {
			r.ExpiresAt = time.Now().Add(ttl).Truncate(time.Millisecond) // the precision of PTTL
		}
		out[i] = r
	}
	return out, nil
}

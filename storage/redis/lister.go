package redis

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"

	goredis "github.com/redis/go-redis/v9"

	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
)

var _ storage.Lister = (*Store)(nil)

// Roots implements storage.Lister with SCAN over the store's graph keys:
// at least n roots a page (SCAN may give a few more), but for the last;
// the cursor is SCAN's. On a Cluster every master is
// scanned and the whole list comes in one page.
func (s *Store) Roots(ctx context.Context, cursor string, n int) ([]string, string, error) {
	match := s.prefix + ":{*}:*"
	if cc, ok := s.c.(*goredis.ClusterClient); ok {
		var mu sync.Mutex
		var roots []string
		err := cc.ForEachMaster(ctx, func(ctx context.Context, c *goredis.Client) error {
			iter := c.Scan(ctx, 0, match, 1000).Iterator()
			for iter.Next(ctx) {
				if root, ok := s.rootOf(iter.Val()); ok {
					mu.Lock()
					roots = append(roots, root)
					mu.Unlock()
				}
			}
			return iter.Err()
		})
		if err != nil {
			return nil, "", translate("roots", match, err)
		}
		return roots, "", nil
	}
	var from uint64
	if cursor != "" {
		c, err := strconv.ParseUint(cursor, 10, 64)
		if err != nil {
			return nil, "", fmt.Errorf("storage/redis: roots: bad cursor %q: %w", cursor, storage.ErrState)
		}
		from = c
	}
	// SCAN's COUNT is a number of hash-table slots, not of keys found: a
	// sparse table (many keys deleted) gives empty batches, so scan on
	// until the page holds n roots or the scan ends.
	n = max(n, 1)
	var roots []string
	cursor64 := from
	for {
		keys, next, err := s.c.Scan(ctx, cursor64, match, int64(max(n, 1000))).Result()
		if err != nil {
			return nil, "", translate("roots", match, err)
		}
		for _, k := range keys {
			if root, ok := s.rootOf(k); ok {
				roots = append(roots, root)
			}
		}
		if next == 0 {
			return roots, "", nil
		}
		cursor64 = next
		if len(roots) >= n {
			return roots, strconv.FormatUint(next, 10), nil
		}
	}
}

// rootOf returns the root whose graph key is key.
func (s *Store) rootOf(key string) (string, bool) {
	rest, ok := strings.CutPrefix(key, s.prefix+":{")
	if !ok {
		return "", false
	}
	shard, root, ok := strings.Cut(rest, "}:")
	if !ok || !sig.ValidID(root) || sig.RootOf(root) != root || s.shardBase(s.shard(root)) != s.prefix+":{"+shard+"}:" {
		return "", false
	}
	return root, true
}

// Prefixes returns up to n key prefixes under which the server holds
// flows of a store (the prefixes of the indexes of flows it finds), for a
// tool that found none under its own. It scans the server's keys.
func (s *Store) Prefixes(ctx context.Context, n int) ([]string, error) {
	const suffix = "}!flows"
	seen := map[string]bool{}
	var mu sync.Mutex
	scan := func(ctx context.Context, c goredis.Cmdable) error {
		iter := c.Scan(ctx, 0, "*:{*"+suffix, 1000).Iterator()
		for iter.Next(ctx) {
			k := iter.Val()
			if i := strings.LastIndex(k, ":{"); i > 0 && strings.HasSuffix(k, suffix) {
				mu.Lock()
				seen[k[:i]] = true
				mu.Unlock()
			}
		}
		return iter.Err()
	}
	var err error
	if cc, ok := s.c.(*goredis.ClusterClient); ok {
		err = cc.ForEachMaster(ctx, func(ctx context.Context, c *goredis.Client) error { return scan(ctx, c) })
	} else {
		err = scan(ctx, s.c)
	}
	if err != nil {
		return nil, translate("prefixes", "*"+suffix, err)
	}
	out := make([]string, 0, len(seen))
	for p := range seen {
		out = append(out, p)
	}
	slices.Sort(out)
	if len(out) > n {
		out = out[:n]
	}
	return out, nil
}

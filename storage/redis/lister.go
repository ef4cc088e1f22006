package redis

import (
	"context"
	"fmt"
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

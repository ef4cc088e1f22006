package redis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
)

var _ storage.Requests = (*Store)(nil)

// requestsKey is the list of lifecycle requests, oldest at the tail. It
// expires with the latest deadline of the requests it holds.
func (s *Store) requestsKey() string { return s.prefix + ":requests" }

// Request implements storage.Requests: one call that pushes
// "<op> <root> <deadline in ms>" and keeps the list alive until the
// deadline. Deadlines are read on the clocks of the tool and the worker,
// which are assumed to agree to well within a tool's wait.
func (s *Store) Request(ctx context.Context, root string, op sig.Op, deadline time.Time) error {
	if !sig.ValidID(root) || sig.RootOf(root) != root {
		return fmt.Errorf("storage/redis: request %s: %q is not a root id: %w", op, root, storage.ErrNotFound)
	}
	if deadline.IsZero() {
		return fmt.Errorf("storage/redis: request %s %s: no deadline: %w", op, root, storage.ErrState)
	}
	// the list outlives the latest deadline it holds by up to a second
	ttl := max(time.Until(deadline), time.Second)
	entry := string(op) + " " + root + " " + strconv.FormatInt(deadline.UnixMilli(), 10)
	key := s.requestsKey()
	_, err := s.call(ctx, s.lua.request, "request "+string(op), root, key, []string{key, key}, entry, ttl.Milliseconds())
	return err
}

// NextRequest implements storage.Requests: BRPOPs of up to wait (at least
// a millisecond) in all, dropping the requests whose deadline passed.
func (s *Store) NextRequest(ctx context.Context, wait time.Duration) (string, sig.Op, bool, error) {
	until := time.Now().Add(max(wait, time.Millisecond))
	for {
		left := time.Until(until)
		if left <= 0 {
			return "", "", false, nil
		}
		v, err := s.pop(ctx, left)
		if errors.Is(err, goredis.Nil) {
			return "", "", false, nil
		}
		if err != nil {
			return "", "", false, translate("next request", s.requestsKey(), err)
		}
		root, op, deadline, err := s.parseRequest(v)
		if err != nil {
			return "", "", false, err
		}
		if s.now().UnixMilli() > deadline {
			continue // no worker took it in time: its tool has given up
		}
		return root, op, true, nil
	}
}

// pop takes the oldest request, waiting up to wait: go-redis's BRPop for
// whole seconds (it gives the connection the time to wait), a BRPOP
// with a fraction of a second for less.
func (s *Store) pop(ctx context.Context, wait time.Duration) (string, error) {
	if wait >= time.Second {
		res, err := s.c.BRPop(ctx, wait.Truncate(time.Second), s.requestsKey()).Result()
		if err != nil {
			return "", err
		}
		return res[1], nil
	}
	res, err := s.c.Do(ctx, "BRPOP", s.requestsKey(), strconv.FormatFloat(max(wait, time.Millisecond).Seconds(), 'f', 3, 64)).StringSlice()
	if err != nil {
		return "", err
	}
	if len(res) != 2 {
		return "", fmt.Errorf("storage/redis: next request: BRPOP replied %q: %w", res, storage.ErrCorrupt)
	}
	return res[1], nil
}

// parseRequest reads "<op> <root> <deadline in ms>". A request of a
// version before deadlines ("<op> <root>") reads as long expired.
func (s *Store) parseRequest(v string) (root string, op sig.Op, deadline int64, err error) {
	f := strings.Fields(v)
	if len(f) == 2 || len(f) == 3 {
		op, root = sig.Op(f[0]), f[1]
		if len(f) == 3 {
			deadline, err = strconv.ParseInt(f[2], 10, 64)
		}
		if err == nil && sig.ValidID(root) {
			return root, op, deadline, nil
		}
	}
	return "", "", 0, fmt.Errorf("storage/redis: next request: key %s holds %q: %w", s.requestsKey(), v, storage.ErrCorrupt)
}

package redis

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
)

var _ storage.Requests = (*Store)(nil)

// requestsKey is the list of lifecycle requests, oldest at the tail.
func (s *Store) requestsKey() string { return s.prefix + ":requests" }

// Request implements storage.Requests: an LPUSH of "<op> <root>".
func (s *Store) Request(ctx context.Context, root string, op sig.Op) error {
	if !sig.ValidID(root) || sig.RootOf(root) != root {
		return fmt.Errorf("storage/redis: request %s: %q is not a root id: %w", op, root, storage.ErrNotFound)
	}
	if err := s.c.LPush(ctx, s.requestsKey(), string(op)+" "+root).Err(); err != nil {
		return translate("request "+string(op)+" "+root, s.requestsKey(), err)
	}
	return nil
}

// NextRequest implements storage.Requests: a BRPOP of up to wait (at
// least a millisecond).
func (s *Store) NextRequest(ctx context.Context, wait time.Duration) (string, sig.Op, bool, error) {
	res, err := s.c.BRPop(ctx, max(wait, time.Millisecond), s.requestsKey()).Result()
	if errors.Is(err, goredis.Nil) {
		return "", "", false, nil
	}
	if err != nil {
		return "", "", false, translate("next request", s.requestsKey(), err)
	}
	op, root, ok := strings.Cut(res[1], " ")
	if !ok || !sig.ValidID(root) {
		return "", "", false, fmt.Errorf("storage/redis: next request: key %s holds %q: %w", s.requestsKey(), res[1], storage.ErrCorrupt)
	}
	return root, sig.Op(op), true, nil
}

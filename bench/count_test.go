package bench

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
	redisstore "github.com/mageflow-go/mageflow/storage/redis"
)

// countingStore is the Redis store with its operations counted, so that
// the round trips the hook sees can be divided by the transitions made.
type countingStore struct {
	*redisstore.Store
	claims, completes, fails, others atomic.Int64
}

func (s *countingStore) ops() int64 {
	return s.claims.Load() + s.completes.Load() + s.fails.Load() + s.others.Load()
}

// runs is the task runs the store saw end: each ends in one complete or
// fail.
func (s *countingStore) runs() int64 { return s.completes.Load() + s.fails.Load() }

func (s *countingStore) reset() {
	s.claims.Store(0)
	s.completes.Store(0)
	s.fails.Store(0)
	s.others.Store(0)
}

func (s *countingStore) Claim(ctx context.Context, id, runID string) (storage.Claim, error) {
	s.claims.Add(1)
	return s.Store.Claim(ctx, id, runID)
}

func (s *countingStore) Complete(ctx context.Context, id, runID string, result []byte) (storage.Effects, error) {
	s.completes.Add(1)
	return s.Store.Complete(ctx, id, runID, result)
}

func (s *countingStore) CompleteAhead(ctx context.Context, id, runID string, result []byte, next string, lease time.Duration) (storage.Effects, error) {
	s.completes.Add(1)
	return s.Store.CompleteAhead(ctx, id, runID, result, next, lease)
}

func (s *countingStore) Confirm(ctx context.Context, id, runID string) error {
	s.others.Add(1)
	return s.Store.Confirm(ctx, id, runID)
}

func (s *countingStore) Fail(ctx context.Context, id, runID string, info sig.ErrorInfo) (storage.Effects, error) {
	s.fails.Add(1)
	return s.Store.Fail(ctx, id, runID, info)
}

func (s *countingStore) CreateGraph(ctx context.Context, g storage.Graph) (storage.Effects, error) {
	s.others.Add(1)
	return s.Store.CreateGraph(ctx, g)
}

func (s *countingStore) StartGraph(ctx context.Context, root string, input []byte) (storage.Effects, error) {
	s.others.Add(1)
	return s.Store.StartGraph(ctx, root, input)
}

func (s *countingStore) Ack(ctx context.Context, id string, keys []string) error {
	s.others.Add(1)
	return s.Store.Ack(ctx, id, keys)
}

func (s *countingStore) Get(ctx context.Context, id string) (*sig.Record, error) {
	s.others.Add(1)
	return s.Store.Get(ctx, id)
}

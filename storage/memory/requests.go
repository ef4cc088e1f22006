package memory

import (
	"context"
	"fmt"
	"time"

	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
)

var _ storage.Requests = (*Store)(nil)

// request is a queued lifecycle request.
type request struct {
	root     string
	op       sig.Op
	deadline time.Time
}

// Request implements storage.Requests.
func (s *Store) Request(ctx context.Context, root string, op sig.Op, deadline time.Time) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("storage/memory: request %s %s: %w", op, root, err)
	}
	if deadline.IsZero() {
		return fmt.Errorf("storage/memory: request %s %s: no deadline: %w", op, root, storage.ErrState)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	live := s.requests[:0] // what no worker took in time is kept no longer
	for _, r := range s.requests {
		if !now.After(r.deadline) {
			live = append(live, r)
		}
	}
	s.requests = append(live, request{root, op, deadline})
	if s.requested != nil {
		close(s.requested) // wake every waiter; one takes it
		s.requested = nil
	}
	return nil
}

// NextRequest implements storage.Requests: requests whose deadline passed
// (the store's clock) are dropped.
func (s *Store) NextRequest(ctx context.Context, wait time.Duration) (string, sig.Op, bool, error) {
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		s.mu.Lock()
		now := s.now()
		for len(s.requests) > 0 {
			r := s.requests[0]
			s.requests = s.requests[1:]
			if now.After(r.deadline) {
				continue
			}
			s.mu.Unlock()
			return r.root, r.op, true, nil
		}
		if s.requested == nil {
			s.requested = make(chan struct{})
		}
		woken := s.requested
		s.mu.Unlock()
		select {
		case <-woken:
		case <-timer.C:
			return "", "", false, nil
		case <-ctx.Done():
			return "", "", false, fmt.Errorf("storage/memory: next request: %w", ctx.Err())
		}
	}
}

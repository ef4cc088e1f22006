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
	root string
	op   sig.Op
}

// Request implements storage.Requests.
func (s *Store) Request(ctx context.Context, root string, op sig.Op) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("storage/memory: request %s %s: %w", op, root, err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.requests = append(s.requests, request{root, op})
	if s.requested != nil {
		close(s.requested) // wake every waiter; one takes it
		s.requested = nil
	}
	return nil
}

// NextRequest implements storage.Requests.
func (s *Store) NextRequest(ctx context.Context, wait time.Duration) (string, sig.Op, bool, error) {
	timer := time.NewTimer(wait)
	defer timer.Stop()
	for {
		s.mu.Lock()
		if len(s.requests) > 0 {
			r := s.requests[0]
			s.requests = s.requests[1:]
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

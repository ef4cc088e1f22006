package memory_test

import (
	"context"
	"errors"
	"sync"
	"testing"
	"time"

	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
	"github.com/mageflow-go/mageflow/storage/memory"
)

// clock is a settable clock for the store.
type clock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *clock) Add(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// TestTTLsFollowTheInjectedClock runs a graph to its end and moves the
// store's clock instead of sleeping: records live their active TTL while
// the graph runs and their done TTL after it ended, and not a moment more.
func TestTTLsFollowTheInjectedClock(t *testing.T) {
	t.Parallel()
	c := &clock{now: time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)}
	s := memory.New(memory.WithClock(c.Now))
	ctx := context.Background()
	root := sig.NewRootID(c.Now())
	g := storage.Graph{
		Records:   []*sig.Record{{ID: root, Root: root, Kind: sig.KindTask, Name: "t", Role: sig.RoleRoot}},
		ActiveTTL: time.Hour,
		DoneTTL:   time.Minute,
		Start:     true,
		Input:     []byte(`1`),
	}
	if _, err := s.CreateGraph(ctx, g); err != nil {
		t.Fatal(err)
	}
	c.Add(59 * time.Minute) // still within the active TTL
	if _, err := s.Claim(ctx, root, "run"); err != nil {
		t.Fatal(err)
	}
	c.Add(59 * time.Minute) // the claim refreshed it
	if _, err := s.Complete(ctx, root, "run", []byte(`2`)); err != nil {
		t.Fatal(err)
	}
	c.Add(59 * time.Second)
	r, err := s.Get(ctx, root)
	if err != nil || r.Status != sig.Done {
		t.Fatalf("Get within the done TTL = %v, %v", r, err)
	}
	c.Add(2 * time.Second)
	if _, err := s.Get(ctx, root); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Get after the done TTL: %v, want ErrNotFound", err)
	}
}

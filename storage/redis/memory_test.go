package redis_test

import (
	"context"
	"testing"
	"time"

	"github.com/mageflow-go/mageflow/internal/redistest"
	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
	redisstore "github.com/mageflow-go/mageflow/storage/redis"
)

// maxBytesPerPendingItem bounds what a pending swarm item costs in Redis
// (BENCHMARKS.md's floor).
const maxBytesPerPendingItem = 100

// TestMemoryPerPendingSwarmItem stores swarms of plain tasks, not started,
// and measures the graph's key with MEMORY USAGE: the cost of one pending
// item is the difference between two sizes, divided by the difference in
// items.
func TestMemoryPerPendingSwarmItem(t *testing.T) {
	t.Parallel()
	c := redistest.Client(t)
	s, err := redisstore.New(c, redisstore.WithPrefix(redistest.Prefix(t, c)))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	size := func(items int) int64 {
		root := sig.NewRootID(time.Now())
		recs := []*sig.Record{{ID: root, Root: root, Kind: sig.KindSwarm, Role: sig.RoleRoot, Children: items,
			Swarm: &sig.SwarmState{Config: sig.SwarmConfig{MaxConcurrency: 100}, Closed: true}}}
		for i := 0; i < items; i++ {
			recs = append(recs, &sig.Record{ID: sig.ChildID(root, i), Root: root, Kind: sig.KindTask, Name: "resize-image", Parent: root, Role: sig.RoleChild, Index: i})
		}
		if _, err := s.CreateGraph(ctx, storage.Graph{Records: recs, ActiveTTL: time.Hour, DoneTTL: time.Minute}); err != nil {
			t.Fatal(err)
		}
		n, err := c.MemoryUsage(ctx, s.Key(root), 0).Result() // 0: count every field
		if err != nil {
			t.Fatal(err)
		}
		return n
	}
	small, large := size(1000), size(11000)
	per := float64(large-small) / 10000
	t.Logf("memory per pending swarm item (task name %q): %.1f bytes (MEMORY USAGE: %d bytes for 1,000 items, %d for 11,000)", "resize-image", per, small, large)
	if per > maxBytesPerPendingItem {
		t.Fatalf("a pending swarm item takes %.1f bytes, more than %d", per, maxBytesPerPendingItem)
	}
}

// TestMemoryPerFinishedFlow measures what a finished flow keeps in Redis
// for its done TTL: a chain of three tasks with small inputs and results,
// run to its end. README's retention figure comes from it.
func TestMemoryPerFinishedFlow(t *testing.T) {
	t.Parallel()
	c := redistest.Client(t)
	s, err := redisstore.New(c, redisstore.WithPrefix(redistest.Prefix(t, c)))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	root := sig.NewRootID(time.Now())
	recs := []*sig.Record{{ID: root, Root: root, Kind: sig.KindChain, Name: "chain", Role: sig.RoleRoot, Children: 3}}
	for i := range 3 {
		recs = append(recs, &sig.Record{ID: sig.ChildID(root, i), Root: root, Kind: sig.KindTask, Name: "resize-image", Parent: root, Role: sig.RoleChild, Index: i})
	}
	eff, err := s.CreateGraph(ctx, storage.Graph{Records: recs, ActiveTTL: time.Hour, DoneTTL: time.Hour, Start: true, Input: []byte(`{"image":"cat.png","width":640}`)})
	if err != nil {
		t.Fatal(err)
	}
	for i := range 3 {
		id := sig.ChildID(root, i)
		if _, err := s.Claim(ctx, id, "run-"+id); err != nil {
			t.Fatal(err)
		}
		if eff, err = s.Complete(ctx, id, "run-"+id, []byte(`{"image":"cat.png","width":640}`)); err != nil {
			t.Fatal(err)
		}
	}
	if r, err := s.Get(ctx, root); err != nil || !r.Finished {
		t.Fatalf("flow not finished: %v %v (%v)", r, err, eff)
	}
	n, err := c.MemoryUsage(ctx, s.Key(root), 0).Result()
	if err != nil {
		t.Fatal(err)
	}
	t.Logf("a finished chain of 3 tasks keeps %d bytes in Redis (MEMORY USAGE of its key)", n)
	if n > 2048 {
		t.Errorf("a finished chain of 3 tasks keeps %d bytes, more than 2 KiB", n)
	}
}

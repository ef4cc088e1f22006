package redis_test

import (
	"context"
	"testing"
	"time"

	"github.com/mageflow-go/mageflow/inspect"
	"github.com/mageflow-go/mageflow/internal/redistest"
	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
	redisstore "github.com/mageflow-go/mageflow/storage/redis"
)

// Listing the newest flows costs the page, not what the store holds: the
// Redis commands of a listing of the newest 20 are the same for 10 and
// for 3,000 stored flows (within 2x).
func TestListingCostsThePage(t *testing.T) {
	t.Parallel()
	c := redistest.Client(t)
	hook := &redistest.Counter{}
	c.AddHook(hook)
	s, err := redisstore.New(c, redisstore.WithPrefix(redistest.Prefix(t, c)))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	stored := 0
	create := func(n int) {
		stored += n
		for range n {
			root := sig.NewRootID(time.Now())
			g := storage.Graph{Records: []*sig.Record{{ID: root, Root: root, Kind: sig.KindTask, Name: "t", Role: sig.RoleRoot}},
				ActiveTTL: time.Hour, DoneTTL: time.Hour, Start: true, Input: []byte(`1`)}
			if _, err := s.CreateGraph(ctx, g); err != nil {
				t.Fatal(err)
			}
		}
	}
	list := func() (trips, cmds int) {
		var got []inspect.Summary
		trips, cmds, _ = hook.Measure(func() {
			if got, err = inspect.List(ctx, s, inspect.ListOptions{Limit: 20}); err != nil {
				t.Fatal(err)
			}
		})
		if want := min(20, stored); len(got) != want {
			t.Fatalf("listed %d flows, want %d", len(got), want)
		}
		return trips, cmds
	}
	create(10)
	trips10, cmds10 := list()
	create(2990)
	trips3000, cmds3000 := list()
	t.Logf("ls of the newest 20: %d commands in %d round trips with 10 flows stored, %d in %d with 3,000", cmds10, trips10, cmds3000, trips3000)
	if cmds3000 > 2*cmds10 || trips3000 > 2*trips10 {
		t.Errorf("listing 20 of 3,000 flows took %d commands (%d round trips), of 10 flows %d (%d)", cmds3000, trips3000, cmds10, trips10)
	}
}

// A tree of a swarm reads a page of its items in one call: the same
// commands for a swarm of 30 items and one of 3,000, as watch reads it
// each tick.
func TestTreeReadsAPageOfItems(t *testing.T) {
	t.Parallel()
	c := redistest.Client(t)
	hook := &redistest.Counter{}
	c.AddHook(hook)
	s, err := redisstore.New(c, redisstore.WithPrefix(redistest.Prefix(t, c)))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	tree := func(items int) (cmds int) {
		root := sig.NewRootID(time.Now())
		recs := []*sig.Record{{ID: root, Root: root, Kind: sig.KindSwarm, Name: "swarm", Role: sig.RoleRoot, Children: items,
			Swarm: &sig.SwarmState{Closed: true}}}
		for i := range items {
			recs = append(recs, &sig.Record{ID: sig.ChildID(root, i), Root: root, Kind: sig.KindTask, Name: "t", Parent: root, Role: sig.RoleChild, Index: i})
		}
		if _, err := s.CreateGraph(ctx, storage.Graph{Records: recs, ActiveTTL: time.Hour, DoneTTL: time.Hour, Start: true, Input: []byte(`1`)}); err != nil {
			t.Fatal(err)
		}
		var n *inspect.Node
		_, cmds, _ = hook.Measure(func() {
			if n, err = inspect.Tree(ctx, s, root, inspect.TreeOptions{MaxChildren: 20, SkipFailures: true}); err != nil {
				t.Fatal(err)
			}
		})
		if len(n.Children) != 20 || n.More != items-20 {
			t.Fatalf("tree of %d items: %d children, %d more", items, len(n.Children), n.More)
		}
		return cmds
	}
	small, large := tree(30), tree(3000)
	t.Logf("a tree of a swarm (a page of 20 items): %d commands for 30 items, %d for 3,000", small, large)
	if large > small {
		t.Errorf("a tree of 3,000 items took %d commands, of 30 items %d", large, small)
	}
}

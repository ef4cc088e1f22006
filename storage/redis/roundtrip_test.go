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

// TestOneRoundTripPerOperation checks that every operation of the protocol
// is one round trip of one command once the scripts are loaded.
func TestOneRoundTripPerOperation(t *testing.T) {
	t.Parallel()
	c := redistest.Client(t)
	hook := &redistest.Counter{}
	c.AddHook(hook)
	s, err := redisstore.New(c, redisstore.WithPrefix(redistest.Prefix(t, c)))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	// graph: swarm of two tasks (concurrency 1) with an error callback
	newGraph := func(open bool) (string, storage.Graph) {
		root := sig.NewRootID(time.Now())
		recs := []*sig.Record{
			{ID: root, Root: root, Kind: sig.KindSwarm, Role: sig.RoleRoot, Children: 2, OnError: 1,
				Swarm: &sig.SwarmState{Config: sig.SwarmConfig{MaxConcurrency: 1}, Closed: !open}},
			{ID: sig.ChildID(root, 0), Root: root, Kind: sig.KindTask, Name: "a", Parent: root, Role: sig.RoleChild, Index: 0},
			{ID: sig.ChildID(root, 1), Root: root, Kind: sig.KindTask, Name: "b", Parent: root, Role: sig.RoleChild, Index: 1},
			{ID: sig.ErrorID(root, 0), Root: root, Kind: sig.KindTask, Name: "eb", Parent: root, Role: sig.RoleError},
		}
		return root, storage.Graph{Records: recs, ActiveTTL: time.Hour, DoneTTL: time.Minute}
	}
	check := func(op string, fn func()) {
		t.Helper()
		want := 1
		if op == "Get" {
			want = 2 // HGET and PTTL
		}
		trips, cmds, names := hook.Measure(fn)
		if trips != 1 || cmds != want {
			t.Errorf("%s: %d round trips, %d commands %v; want 1 and %d", op, trips, cmds, names, want)
		}
	}
	must := func(err error) {
		t.Helper()
		if err != nil {
			t.Fatal(err)
		}
	}
	run := func(root string, g storage.Graph, measured bool) {
		var eff storage.Effects
		do := func(op string, fn func()) {
			if measured {
				check(op, fn)
			} else {
				fn()
			}
		}
		g.Start = false
		do("CreateGraph", func() { _, err = s.CreateGraph(ctx, g); must(err) })
		do("StartGraph", func() { eff, err = s.StartGraph(ctx, root, []byte(`1`)); must(err) })
		do("Ack", func() { must(s.Ack(ctx, root, []string{eff.Dispatches[0].Key})) })
		item0 := sig.ChildID(root, 0)
		do("Claim", func() { _, err = s.Claim(ctx, item0, "r0"); must(err) })
		do("Complete", func() { eff, err = s.Complete(ctx, item0, "r0", []byte(`2`)); must(err) })
		item1 := sig.ChildID(root, 1)
		do("Get", func() { _, err = s.Get(ctx, item1); must(err) })
		do("Apply suspend", func() { _, err = s.Apply(ctx, root, sig.OpSuspend); must(err) })
		do("Apply resume", func() { _, err = s.Apply(ctx, root, sig.OpResume); must(err) })
		_, err = s.Claim(ctx, item1, "r1")
		must(err)
		do("Fail", func() {
			_, err = s.Fail(ctx, item1, "r1", sig.ErrorInfo{Task: "b", Message: "no", Attempts: 1, Kind: sig.ErrorTask})
			must(err)
		})
		open, og := newGraph(true)
		og.Start = true
		_, err = s.CreateGraph(ctx, og)
		must(err)
		item := &sig.Record{ID: sig.ChildID(open, 2), Root: open, Kind: sig.KindTask, Name: "c", Parent: open, Role: sig.RoleChild, Index: 2}
		do("AddItems", func() { _, err = s.AddItems(ctx, open, 2, []*sig.Record{item}); must(err) })
		do("CloseSwarm", func() { _, err = s.CloseSwarm(ctx, open); must(err) })
		do("Apply cancel", func() { _, err = s.Apply(ctx, open, sig.OpCancel); must(err) })
	}
	// the first pass loads the scripts (EVALSHA, then EVAL once)
	root, g := newGraph(false)
	run(root, g, false)
	root, g = newGraph(false)
	run(root, g, true)
}

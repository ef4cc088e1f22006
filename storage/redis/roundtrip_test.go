package redis_test

import (
	"context"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/mageflow-go/mageflow/internal/redistest"
	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
	redisstore "github.com/mageflow-go/mageflow/storage/redis"
)

// counter is a go-redis hook that counts round trips and commands.
type counter struct {
	mu          sync.Mutex
	trips, cmds int
	names       []string
}

func (c *counter) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (c *counter) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		c.mu.Lock()
		c.trips++
		c.cmds++
		c.names = append(c.names, cmd.Name())
		c.mu.Unlock()
		return next(ctx, cmd)
	}
}

func (c *counter) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		c.mu.Lock()
		c.trips++
		c.cmds += len(cmds)
		for _, cmd := range cmds {
			c.names = append(c.names, cmd.Name())
		}
		c.mu.Unlock()
		return next(ctx, cmds)
	}
}

// measure returns the round trips and commands fn made.
func (c *counter) measure(fn func()) (trips, cmds int, names []string) {
	c.mu.Lock()
	c.trips, c.cmds, c.names = 0, 0, nil
	c.mu.Unlock()
	fn()
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.trips, c.cmds, c.names
}

// TestOneRoundTripPerOperation checks that every operation of the protocol
// is one round trip of one command once the scripts are loaded.
func TestOneRoundTripPerOperation(t *testing.T) {
	t.Parallel()
	c := redistest.Client(t)
	hook := &counter{}
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
		trips, cmds, names := hook.measure(fn)
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

package redis

import (
	"context"
	"errors"
	"fmt"
	"reflect"
	"sort"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/vmihailenco/msgpack/v5"
	"pgregory.net/rapid"

	"github.com/mageflow-go/mageflow/internal/redistest"
	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
)

// TestBatchAnswersAsCallsOneByOne is the batch's one rule: claims,
// completions and failures of one graph sent in one call answer each as
// it would alone, and leave the graph, its outboxes, its expiry and the
// shard's indexes as the same operations sent one by one. Each case runs
// rounds of operations drawn from what the graph's records allow (claims
// of dispatched tasks, completions and failures by their runs, a claim
// and the completion after it, duplicate and repeated claims, replays,
// and operations that raise an error, which answer with it while the
// others go again), with now and then a lifecycle operation between
// rounds, on two stores of the same server with the same clock, which
// moves between rounds: one by one on the first, as one batch on the
// second.
func TestBatchAnswersAsCallsOneByOne(t *testing.T) {
	c := redistest.Client(t)
	base := redistest.Prefix(t, c)
	ctx := context.Background()
	n := 0
	var batched int64
	rapid.Check(t, func(rt *rapid.T) {
		n++
		now := time.UnixMilli(1_800_000_000_000)
		clock := WithClock(func() time.Time { return now })
		one, err := New(c, WithPrefix(fmt.Sprintf("%s:%d:one", base, n)), clock)
		if err != nil {
			rt.Fatal(err)
		}
		many, err := New(c, WithPrefix(fmt.Sprintf("%s:%d:many", base, n)), clock)
		if err != nil {
			rt.Fatal(err)
		}
		root, ids := batchGraph(rt)
		for _, s := range []*Store{one, many} {
			startGraph(rt, s, root, ids)
		}
		for round := 0; round < 8; round++ {
			now = now.Add(time.Second) // one clock for the round's operations, as a batch has
			if rapid.IntRange(0, 4).Draw(rt, "lifecycle") == 0 {
				op := rapid.SampledFrom([]sig.Op{sig.OpSuspend, sig.OpInterrupt, sig.OpResume}).Draw(rt, "op")
				_, errOne := one.Apply(ctx, root[0].ID, op)
				_, errMany := many.Apply(ctx, root[0].ID, op)
				if (errOne == nil) != (errMany == nil) {
					rt.Fatalf("%s: %v alone, %v on the other store", op, errOne, errMany)
				}
			}
			ops := drawOps(rt, one, root, ids)
			want := make([]string, len(ops))
			for i, o := range ops {
				res, err := one.batched(ctx, o.sc, o.op, o.id, o.args...)
				want[i] = answer(one, o.sc.name, res, err)
			}
			key, keys := many.keysOf(root[0].ID)
			before := many.batch.ran.Load() - many.batch.redone.Load()
			many.send1(ctx, key, keys, ops)
			batched += many.batch.ran.Load() - many.batch.redone.Load() - before
			for i, o := range ops {
				if got := answer(many, o.sc.name, o.res, o.err); got != want[i] {
					rt.Fatalf("round %d, operation %d (%s %s %v): in a batch %s, alone %s", round, i, o.op, o.id, o.args, got, want[i])
				}
			}
			if a, b := graphState(rt, one, root), graphState(rt, many, root); !reflect.DeepEqual(a, b) {
				rt.Fatalf("round %d: the graph after the batch differs from the graph after the same operations one by one:\n batch: %v\n alone: %v", round, b, a)
			}
		}
	})
	if batched == 0 {
		t.Fatal("no batch ran as a batch: the property tested nothing")
	}
	t.Logf("%d batches ran whole", batched)
}

// batchGraph draws a swarm of tasks, some of them with callbacks, and
// returns its records' ids (the root first) in a new graph.
func batchGraph(t *rapid.T) ([]*sig.Record, []string) {
	root := sig.NewRootID(time.UnixMilli(1_800_000_000_000))
	items := rapid.IntRange(1, 8).Draw(t, "items")
	sw := &sig.SwarmState{
		Config: sig.SwarmConfig{MaxConcurrency: rapid.IntRange(1, items).Draw(t, "concurrency"), StopAfterNFailures: rapid.IntRange(0, 2).Draw(t, "stopAfter")},
		Closed: true,
	}
	recs := []*sig.Record{{ID: root, Root: root, Kind: sig.KindSwarm, Name: "batch", Role: sig.RoleRoot, Children: items, OnSuccess: 1, OnError: 1, Swarm: sw}}
	recs = append(recs,
		&sig.Record{ID: sig.SuccessID(root, 0), Root: root, Kind: sig.KindTask, Name: "done", Parent: root, Role: sig.RoleSuccess},
		&sig.Record{ID: sig.ErrorID(root, 0), Root: root, Kind: sig.KindTask, Name: "alert", Parent: root, Role: sig.RoleError})
	for i := range items {
		id := sig.ChildID(root, i)
		r := &sig.Record{ID: id, Root: root, Kind: sig.KindTask, Name: "item", Parent: root, Role: sig.RoleChild, Index: i}
		chain := rapid.IntRange(0, 3).Draw(t, "chain") == 0
		if chain {
			r.Kind, r.Name, r.Children = sig.KindChain, "steps", 2
		}
		recs = append(recs, r)
		if chain {
			for j := range 2 {
				recs = append(recs, &sig.Record{ID: sig.ChildID(id, j), Root: root, Kind: sig.KindTask, Name: "step", Parent: id, Role: sig.RoleChild, Index: j})
			}
		}
		if rapid.Bool().Draw(t, "callback") {
			r.OnSuccess = 1
			recs = append(recs, &sig.Record{ID: sig.SuccessID(id, 0), Root: root, Kind: sig.KindTask, Name: "then", Parent: id, Role: sig.RoleSuccess})
		}
		if rapid.Bool().Draw(t, "error callback") {
			r.OnError = 1
			recs = append(recs, &sig.Record{ID: sig.ErrorID(id, 0), Root: root, Kind: sig.KindTask, Name: "else", Parent: id, Role: sig.RoleError})
		}
	}
	ids := make([]string, len(recs))
	for i, r := range recs {
		ids[i] = r.ID
	}
	return recs, ids
}

// startGraph creates and starts the graph of recs in s, and acknowledges
// what the start sent.
func startGraph(t *rapid.T, s *Store, recs []*sig.Record, ids []string) {
	ctx := context.Background()
	copied := make([]*sig.Record, len(recs))
	for i, r := range recs {
		c := *r
		if r.Swarm != nil {
			sw := *r.Swarm
			c.Swarm = &sw
		}
		copied[i] = &c
	}
	eff, err := s.CreateGraph(ctx, storage.Graph{Records: copied, ActiveTTL: time.Hour, DoneTTL: time.Minute, Start: true, Input: []byte(`7`)})
	if err != nil {
		t.Fatal(err)
	}
	var keys []string
	for _, d := range eff.Dispatches {
		keys = append(keys, d.Key)
	}
	if err := s.Ack(ctx, eff.Source, keys); err != nil {
		t.Fatal(err)
	}
}

// keysOf returns the key of the graph rooted at root and the keys its
// operations take.
func (s *Store) keysOf(root string) (string, []string) {
	n := s.shard(root)
	key := s.shardBase(n) + root
	return key, []string{key, s.owedKey(n), s.flowsKey(n), s.expiries[n]}
}

// drawOps draws up to eight operations on the tasks of the graph rooted
// at recs' root, from their state in s.
func drawOps(t *rapid.T, s *Store, recs []*sig.Record, ids []string) []*batchOp {
	ctx := context.Background()
	var tasks []string
	for _, r := range recs {
		if r.Kind == sig.KindTask {
			tasks = append(tasks, r.ID)
		}
	}
	n := rapid.IntRange(1, 8).Draw(t, "ops")
	ops := make([]*batchOp, 0, n+1)
	op := func(sc *script, id string, args ...any) *batchOp {
		return &batchOp{sc: sc, op: sc.name, id: id, args: append([]any{id}, args...), done: make(chan struct{})}
	}
	for range n {
		id := rapid.SampledFrom(tasks).Draw(t, "task")
		r, err := s.Get(ctx, id)
		if err != nil {
			t.Fatal(err)
		}
		run := fmt.Sprintf("run-%s-%d", id, r.Gen)
		if r.RunID != "" {
			run = r.RunID
		}
		result := fmt.Sprintf(`{"from":%q}`, id)
		// mostly what a worker sends; now and then what raises
		kinds := []string{"claim", "claim", "claim other", "claim and complete", "claim and complete", "complete", "complete", "fail", "complete wrong"}
		switch rapid.SampledFrom(kinds).Draw(t, "kind") {
		case "claim":
			ops = append(ops, op(s.lua.claim, id, run))
		case "claim other":
			ops = append(ops, op(s.lua.claim, id, "another-run"))
		case "claim and complete":
			ops = append(ops, op(s.lua.claim, id, run), op(s.lua.complete, id, run, result))
		case "complete":
			ops = append(ops, op(s.lua.complete, id, run, result))
		case "fail":
			ops = append(ops, op(s.lua.fail, id, run, "item", "boom", 1, string(sig.ErrorTask), ""))
		case "complete wrong":
			ops = append(ops, op(s.lua.complete, id, "wrong-run", "1"))
		}
	}
	return ops
}

// answer is what an operation answered, comparable across stores: its
// error, with s's prefix taken out, or its decoded reply.
func answer(s *Store, op string, res any, err error) string {
	if err != nil {
		msg := strings.ReplaceAll(err.Error(), s.prefix, "<prefix>")
		return "error: " + strings.ReplaceAll(msg, " (in a batch)", "")
	}
	raw, _ := res.(string)
	var v any
	if err := msgpack.Unmarshal([]byte(raw), &v); err != nil {
		return fmt.Sprintf("undecodable %s reply %q: %v", op, raw, err)
	}
	return fmt.Sprintf("%v", normalize(v))
}

// graphState is the graph rooted at recs' root in s, decoded, with the
// entries of the shard's indexes for it.
func graphState(t *rapid.T, s *Store, recs []*sig.Record) map[string]any {
	ctx := context.Background()
	root := recs[0].ID
	key, keys := s.keysOf(root)
	fields, err := s.c.HGetAll(ctx, key).Result()
	if err != nil {
		t.Fatal(err)
	}
	state := map[string]any{}
	for id, raw := range fields {
		if strings.HasSuffix(id, "=") { // an item's outcome, as its swarm's result lists it
			state[id] = raw
			continue
		}
		var v any
		if err := msgpack.Unmarshal([]byte(raw), &v); err != nil {
			t.Fatalf("%s: %v", id, err)
		}
		state[id] = normalize(v)
	}
	owed, err := s.c.ZRangeWithScores(ctx, keys[1], 0, -1).Result()
	if err != nil {
		t.Fatal(err)
	}
	var entries []string
	for _, z := range owed {
		if m, _ := z.Member.(string); strings.HasPrefix(m, root) {
			entries = append(entries, fmt.Sprintf("%s@%v", m, z.Score))
		}
	}
	sort.Strings(entries)
	state["owed index"] = entries
	exp, err := s.c.ZScore(ctx, keys[3], root).Result()
	if err != nil {
		t.Fatal(err)
	}
	state["expiry"] = exp
	created, err := s.c.ZScore(ctx, keys[2], root).Result()
	if err != nil {
		t.Fatal(err)
	}
	state["flows index"] = created
	ttl, err := s.c.PTTL(ctx, key).Result()
	if err != nil {
		t.Fatal(err)
	}
	// the key's TTL, to the minute: the two stores set it moments apart
	state["ttl"] = ttl.Round(time.Minute)
	return state
}

// normalize makes decoded msgpack comparable: integers of any width as
// int64, maps printed with sorted keys by fmt.
func normalize(v any) any {
	switch x := v.(type) {
	case map[string]any:
		for k, e := range x {
			x[k] = normalize(e)
		}
		return x
	case []any:
		for i, e := range x {
			x[i] = normalize(e)
		}
		return x
	case int8, int16, int32, int64, uint8, uint16, uint32, uint64, int, uint:
		return fmt.Sprint(x)
	}
	return v
}

// TestConcurrentOperationsBatch runs the items of a wide swarm from many
// goroutines at once, as the workers of a process do, among stale
// completions (another run's, which raise) and claims whose caller gave
// up: the operations that wait for a call of their graph go in batches,
// every one answers, each its own answer, and the swarm ends done with
// every item's result. On a server with functions, on one without (each
// batch a script), and on a Redis Cluster.
func TestConcurrentOperationsBatch(t *testing.T) {
	t.Run("functions", func(t *testing.T) { concurrentBatches(t, redistest.Client(t)) })
	t.Run("scripts", func(t *testing.T) { concurrentBatches(t, redistest.Legacy(t)) })
	t.Run("cluster", func(t *testing.T) { concurrentBatches(t, redistest.Cluster(t)) })
}

func concurrentBatches(t *testing.T, c goredis.UniversalClient) {
	s, err := New(c, WithPrefix(redistest.Prefix(t, c)))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	const items = 400
	root := sig.NewRootID(time.Now())
	recs := []*sig.Record{{ID: root, Root: root, Kind: sig.KindSwarm, Role: sig.RoleRoot, Children: items,
		Swarm: &sig.SwarmState{Config: sig.SwarmConfig{MaxConcurrency: 50}, Closed: true}}}
	for i := range items {
		recs = append(recs, &sig.Record{ID: sig.ChildID(root, i), Root: root, Kind: sig.KindTask, Name: "item", Parent: root, Role: sig.RoleChild, Index: i})
	}
	eff, err := s.CreateGraph(ctx, storage.Graph{Records: recs, ActiveTTL: time.Hour, DoneTTL: time.Minute, Start: true, Input: []byte(`0`)})
	if err != nil {
		t.Fatal(err)
	}
	// Each dispatch runs in a goroutine of its own: claim, complete,
	// then the dispatches the completion decided.
	var wg sync.WaitGroup
	var run func(d sig.Dispatch)
	run = func(d sig.Dispatch) {
		defer wg.Done()
		runID := "run-" + d.Key
		wg.Add(1)
		go func() {
			// a stale completion: another run's, which raises
			defer wg.Done()
			if _, err := s.Complete(ctx, d.Target, "stale-run", []byte(`0`)); !errors.Is(err, storage.ErrNotOwner) {
				t.Errorf("stale complete %s: %v, want ErrNotOwner", d.Target, err)
			}
		}()
		cl, err := s.Claim(ctx, d.Target, runID)
		if err != nil || cl.Outcome != storage.Claimed {
			t.Errorf("claim %s: %v, %v", d.Target, cl.Outcome, err)
			return
		}
		wg.Add(1)
		go func() {
			// a claim whose caller gave up, after the run's: it is not
			// sent, or it is a duplicate, or its answer is lost to the
			// caller (before the run's claim it could take the task,
			// as a claim sent and then given up does)
			defer wg.Done()
			gone, cancel := context.WithCancel(ctx)
			cancel()
			cl, err := s.Claim(gone, d.Target, "gone-run")
			if !errors.Is(err, context.Canceled) && (err != nil || (cl.Outcome != storage.Duplicate && cl.Outcome != storage.Ended)) {
				t.Errorf("claim %s with an ended context: %v, %v", d.Target, cl.Outcome, err)
			}
		}()
		eff, err := s.Complete(ctx, d.Target, runID, []byte(`1`))
		if err != nil {
			t.Errorf("complete %s: %v", d.Target, err)
			return
		}
		for _, next := range eff.Dispatches {
			wg.Add(1)
			go run(next)
		}
	}
	for _, d := range eff.Dispatches {
		wg.Add(1)
		go run(d)
	}
	wg.Wait()
	r, err := s.Get(ctx, root)
	if err != nil {
		t.Fatal(err)
	}
	if r.Status != sig.Done || strings.Count(string(r.Result), "1") != items {
		t.Fatalf("swarm %s, result %.40s...; want done with %d results", r.Status, r.Result, items)
	}
	if s.batch.ran.Load() == 0 || s.batch.redone.Load() == 0 {
		t.Fatalf("%d batches, %d of them with an operation that raised: want some of each", s.batch.ran.Load(), s.batch.redone.Load())
	}
	t.Logf("%d operations in %d batches (%d with an operation that raised) and some alone", 4*items, s.batch.ran.Load(), s.batch.redone.Load())
}

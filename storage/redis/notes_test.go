package redis_test

import (
	"context"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/mageflow-go/mageflow/internal/redistest"
	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
	redisstore "github.com/mageflow-go/mageflow/storage/redis"
)

// TestOutcomeNotesGoWithTheirSwarm runs swarms to every end they have
// (done over several chunks of notes, failed at the failure limit, inner
// swarms failed inside an outer one that goes on, canceled, settled) and
// checks that no item's outcome note outlives its swarm, and that a swarm
// that ends done lists its items' outcomes in order.
func TestOutcomeNotesGoWithTheirSwarm(t *testing.T) {
	t.Parallel()
	c := redistest.Client(t)
	s, err := redisstore.New(c, redisstore.WithPrefix(redistest.Prefix(t, c)))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	items := func(parent, root string, n int) []*sig.Record {
		var recs []*sig.Record
		for i := range n {
			recs = append(recs, &sig.Record{ID: sig.ChildID(parent, i), Root: root, Kind: sig.KindTask, Name: "item", Parent: parent, Role: sig.RoleChild, Index: i})
		}
		return recs
	}
	swarm := func(id, root string, n int, cfg sig.SwarmConfig, settled bool) *sig.Record {
		r := &sig.Record{ID: id, Root: root, Kind: sig.KindSwarm, Children: n, Swarm: &sig.SwarmState{Config: cfg, Closed: true, Settled: settled}}
		if id == root {
			r.Role = sig.RoleRoot
		} else {
			r.Parent, r.Role, r.Index, _ = sig.Place(id)
		}
		return r
	}
	notes := func(root string) []string {
		keys, err := c.HKeys(ctx, s.Key(root)).Result()
		if err != nil {
			t.Fatal(err)
		}
		var out []string
		for _, k := range keys {
			if strings.HasSuffix(k, "=") {
				out = append(out, k)
			}
		}
		return out
	}
	// run takes every dispatch of eff and those they lead to, until none
	// is left or stop says so: a task fails when fail says so, else it
	// completes with its id as its result.
	run := func(eff storage.Effects, fail func(id string) bool, stop func(done int) bool) {
		queue := eff.Dispatches
		done := 0
		for len(queue) > 0 && (stop == nil || !stop(done)) {
			d := queue[0]
			queue = queue[1:]
			runID := "run-" + d.Key
			cl, err := s.Claim(ctx, d.Target, runID)
			if err != nil || cl.Outcome != storage.Claimed {
				continue
			}
			if fail != nil && fail(d.Target) {
				eff, err = s.Fail(ctx, d.Target, runID, sig.ErrorInfo{Task: "item", Message: "boom", Attempts: 1, Kind: sig.ErrorTask})
			} else {
				res, _ := json.Marshal(d.Target)
				eff, err = s.Complete(ctx, d.Target, runID, res)
			}
			if err != nil {
				t.Fatalf("end %s: %v", d.Target, err)
			}
			done++
			queue = append(queue, eff.Dispatches...)
		}
	}
	start := func(recs []*sig.Record) storage.Effects {
		eff, err := s.CreateGraph(ctx, storage.Graph{Records: recs, ActiveTTL: time.Hour, DoneTTL: time.Hour, Start: true, Input: []byte(`0`)})
		if err != nil {
			t.Fatal(err)
		}
		return eff
	}
	second := func(id string) bool { return index(id) == 1 || index(id) == 2 }

	t.Run("done over several chunks of notes", func(t *testing.T) {
		root := sig.NewRootID(time.Now())
		const n = 600
		run(start(append([]*sig.Record{swarm(root, root, n, sig.SwarmConfig{MaxConcurrency: 40}, false)}, items(root, root, n)...)), nil, nil)
		r, err := s.Get(ctx, root)
		if err != nil || r.Status != sig.Done {
			t.Fatalf("swarm: %v, %v", r, err)
		}
		want := make([]string, n)
		for i := range want {
			want[i] = fmt.Sprintf("%q", sig.ChildID(root, i))
		}
		if got := string(r.Result); got != "["+strings.Join(want, ",")+"]" {
			t.Errorf("result %.80s..., want the items' ids in order", got)
		}
		if left := notes(root); len(left) > 0 {
			t.Errorf("%d notes left after the swarm ended: %v", len(left), left[:min(len(left), 5)])
		}
	})
	t.Run("failed at its limit", func(t *testing.T) {
		root := sig.NewRootID(time.Now())
		run(start(append([]*sig.Record{swarm(root, root, 6, sig.SwarmConfig{MaxConcurrency: 2, StopAfterNFailures: 2}, false)}, items(root, root, 6)...)), second, nil)
		if r, err := s.Get(ctx, root); err != nil || r.Status != sig.Failed {
			t.Fatalf("swarm: %v, %v", r, err)
		}
		if left := notes(root); len(left) > 0 {
			t.Errorf("notes left after the swarm failed: %v", left)
		}
	})
	t.Run("inner swarms failed in an outer one", func(t *testing.T) {
		root := sig.NewRootID(time.Now())
		recs := []*sig.Record{swarm(root, root, 3, sig.SwarmConfig{}, false)}
		for i := range 3 {
			inner := sig.ChildID(root, i)
			recs = append(recs, swarm(inner, root, 5, sig.SwarmConfig{MaxConcurrency: 2, StopAfterNFailures: 1}, false))
			recs = append(recs, items(inner, root, 5)...)
		}
		run(start(recs), func(id string) bool { return strings.Count(id, ".") == 2 && index(id) == 1 }, nil)
		if r, err := s.Get(ctx, root); err != nil || !r.Finished {
			t.Fatalf("outer swarm: %v, %v", r, err)
		}
		if left := notes(root); len(left) > 0 {
			t.Errorf("notes left after the graph ended: %v", left)
		}
	})
	t.Run("canceled", func(t *testing.T) {
		root := sig.NewRootID(time.Now())
		run(start(append([]*sig.Record{swarm(root, root, 6, sig.SwarmConfig{MaxConcurrency: 2}, false)}, items(root, root, 6)...)), nil, func(done int) bool { return done == 3 })
		if len(notes(root)) == 0 {
			t.Fatal("no notes while the swarm runs: the case shows nothing")
		}
		if _, err := s.Apply(ctx, root, sig.OpCancel); err != nil {
			t.Fatal(err)
		}
		if left := notes(root); len(left) > 0 {
			t.Errorf("notes left after the swarm was canceled: %v", left)
		}
	})
	t.Run("settled", func(t *testing.T) {
		root := sig.NewRootID(time.Now())
		run(start(append([]*sig.Record{swarm(root, root, 4, sig.SwarmConfig{MaxConcurrency: 2}, true)}, items(root, root, 4)...)), second, nil)
		r, err := s.Get(ctx, root)
		if err != nil || r.Status != sig.Done {
			t.Fatalf("swarm: %v, %v", r, err)
		}
		var outcomes []map[string]any
		if err := json.Unmarshal(r.Result, &outcomes); err != nil || len(outcomes) != 4 || outcomes[1]["error"] == nil || outcomes[3]["result"] == nil {
			t.Errorf("result %s (%v): want every item's outcome", r.Result, err)
		}
		if left := notes(root); len(left) > 0 {
			t.Errorf("notes left after the swarm ended: %v", left)
		}
	})
}

// index is the index an item's id ends with.
func index(id string) int {
	_, _, i, _ := sig.Place(id)
	return i
}

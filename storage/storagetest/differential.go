package storagetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"pgregory.net/rapid"

	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
)

// DifferentialSteps is how many operations one case of [Differential]
// performs.
const DifferentialSteps = 40

// Differential runs random sequences of operations (claims, completions,
// failures, lifecycle operations, adds and closes, acks, spawns, Owed and
// Due) on
// random graphs in two stores, the same operations on both, and after each
// operation compares their answers (effects, outcomes and errors by
// sentinel) and every record of the graph. newStores returns the two
// stores for one case, both reading time from now, so that their
// timestamps agree; the time advances a millisecond per operation. Stores
// that implement one rule set (storage/memory in Go, storage/redis in
// Lua) must never differ.
func Differential(t *testing.T, newStores func(t *rapid.T, now func() time.Time) (a, b storage.Store)) {
	t.Helper()
	rapid.Check(t, func(rt *rapid.T) {
		clock := time.UnixMilli(1_700_000_000_000)
		now := func() time.Time { return clock }
		a, b := newStores(rt, now)
		d := &differ{t: rt, ctx: context.Background(), a: a, b: b, claims: map[string]string{}}
		n := drawDiffNode(rt, 3, new(int))
		if rapid.Bool().Draw(rt, "open") && n.kind == sig.KindSwarm {
			n.open = true
		}
		g := newGraph(sig.NewRootID(clock), n, defaultTTLs)
		if rapid.Bool().Draw(rt, "named") {
			// a name and metadata, which every transition keeps
			g.recs[0].Label = "nightly"
			g.recs[0].Metadata = map[string]string{"customer": "42", "1": "one"}
			g.recs[len(g.recs)-1].Label = "last"
		}
		d.g = g
		d.ids = g.ids()
		start := !n.open || rapid.Bool().Draw(rt, "start")
		d.do("create", func(s storage.Store) (any, error) {
			return s.CreateGraph(d.ctx, g.stored(start, []byte(`1`)))
		})
		for step := 0; step < DifferentialSteps; step++ {
			clock = clock.Add(time.Millisecond)
			d.step(step)
		}
	})
}

// differ is one case of Differential.
type differ struct {
	t      *rapid.T
	ctx    context.Context
	a, b   storage.Store
	g      *graph
	ids    []string
	claims map[string]string // task id -> the run that claimed it
	runs   int
}

// drawDiffNode draws a small graph: tasks (some failing), chains and
// swarms with random limits, and callbacks.
func drawDiffNode(t *rapid.T, depth int, count *int) *node {
	*count++
	var n *node
	kind := 0
	if depth > 0 && *count < 12 {
		kind = rapid.IntRange(0, 2).Draw(t, "kind")
	}
	switch kind {
	case 0:
		n = task(rapid.SampledFrom([]string{taskInc, taskDbl, taskEcho}).Draw(t, "task"))
	case 1:
		var steps []*node
		for range rapid.IntRange(1, 3).Draw(t, "steps") {
			steps = append(steps, drawDiffNode(t, depth-1, count))
		}
		n = chain(steps...)
	default:
		var items []*node
		for range rapid.IntRange(1, 12).Draw(t, "items") {
			items = append(items, drawDiffNode(t, depth-2, count))
		}
		n = swarm(sig.SwarmConfig{
			MaxConcurrency:     rapid.IntRange(0, 3).Draw(t, "cap"),
			StopAfterNFailures: rapid.IntRange(0, 2).Draw(t, "stop"),
		}, items...)
		n.settled = rapid.IntRange(0, 3).Draw(t, "settled") == 0
	}
	if depth > 0 && rapid.IntRange(0, 3).Draw(t, "callbacks") == 0 {
		n.success(task(taskEcho))
		n.failure(task(taskEcho))
	}
	return n
}

// step draws one operation and performs it on both stores.
func (d *differ) step(i int) {
	id := rapid.SampledFrom(d.ids).Draw(d.t, "id")
	switch op := rapid.IntRange(0, 13).Draw(d.t, "op"); op {
	case 11: // every dispatched task runs, and ends one way or the other
		d.runAll(i)
	case 0, 1, 2: // claim, by a new run or by the holder
		run := d.claims[id]
		if run == "" || rapid.IntRange(0, 3).Draw(d.t, "new run") == 0 {
			d.runs++
			run = "run-" + strconv.Itoa(d.runs)
		}
		got := d.do("claim "+id+" "+run, func(s storage.Store) (any, error) { return s.Claim(d.ctx, id, run) })
		if c, ok := got.(storage.Claim); ok && c.Outcome == storage.Claimed {
			d.claims[id] = run
		}
	case 3, 4: // complete
		run := d.holder(id)
		result := strconv.Itoa(rapid.IntRange(0, 9).Draw(d.t, "result"))
		if _, ok := d.a.(storage.Aheader); ok && rapid.Bool().Draw(d.t, "ahead") {
			// complete, and claim ahead what it dispatches alone
			d.runs++
			next := "run-" + strconv.Itoa(d.runs)
			// the clock moves a millisecond per operation: short leases
			// end within the case, so that other runs take claims over
			lease := time.Duration(rapid.SampledFrom([]int{0, 1, 3, 10, 1000}).Draw(d.t, "lease")) * time.Millisecond
			got := d.do("complete ahead "+id+" "+next, func(s storage.Store) (any, error) {
				return s.(storage.Aheader).CompleteAhead(d.ctx, id, run, []byte(result), next, lease)
			})
			if eff, ok := got.(storage.Effects); ok && eff.Claimed != "" && len(eff.Dispatches) == 1 {
				d.claims[eff.Dispatches[0].Target] = next
			}
			return
		}
		d.do("complete "+id, func(s storage.Store) (any, error) { return s.Complete(d.ctx, id, run, []byte(result)) })
	case 5: // fail
		run := d.holder(id)
		info := sig.ErrorInfo{Task: "t", Message: "boom " + strconv.Itoa(i), Attempts: 1, Kind: sig.ErrorTask}
		d.do("fail "+id, func(s storage.Store) (any, error) { return s.Fail(d.ctx, id, run, info) })
	case 6: // a lifecycle operation
		op := rapid.SampledFrom([]sig.Op{sig.OpSuspend, sig.OpInterrupt, sig.OpResume, sig.OpResume, sig.OpCancel, sig.OpRetry, sig.OpRetry}).Draw(d.t, "lifecycle")
		d.do(string(op), func(s storage.Store) (any, error) { return s.Apply(d.ctx, d.g.root, op) })
	case 7: // add an item to, or close, an open swarm
		r, err := d.a.Get(d.ctx, id)
		if err != nil || r.Kind != sig.KindSwarm {
			return
		}
		if rapid.Bool().Draw(d.t, "close") {
			d.do("close "+id, func(s storage.Store) (any, error) { return s.CloseSwarm(d.ctx, id) })
			return
		}
		base := r.Children
		items := lowerItems(d.g.root, id, base, task(taskInc))
		if d.do("add to "+id, func(s storage.Store) (any, error) {
			return s.AddItems(d.ctx, id, base, cloneRecords(items))
		}) != nil {
			d.ids = append(d.ids, items[0].ID)
		}
	case 8: // acknowledge part of an outbox
		r, err := d.a.Get(d.ctx, id)
		if err != nil || len(r.Outbox) == 0 {
			return
		}
		keys := keysOf(r.Outbox)
		keys = keys[:rapid.IntRange(1, len(keys)).Draw(d.t, "acked")]
		d.do("ack "+id, func(s storage.Store) (any, error) { return nil, s.Ack(d.ctx, id, keys) })
	case 10: // a task notes a flow it started
		n := rapid.IntRange(1, 3).Draw(d.t, "spawned")
		d.do("spawn "+id, func(s storage.Store) (any, error) { return nil, s.Spawn(d.ctx, id, n) })
	case 12: // the run of a task claimed ahead confirms its claim
		if _, ok := d.a.(storage.Aheader); !ok {
			return
		}
		run := d.holder(id)
		d.do("confirm "+id+" "+run, func(s storage.Store) (any, error) { return nil, s.(storage.Aheader).Confirm(d.ctx, id, run) })
	case 13: // another run delivers a task claimed ahead (a duplicate, or a recovery after the lease)
		var ahead []string
		for _, id := range d.ids {
			if r, err := d.a.Get(d.ctx, id); err == nil && r.ClaimedAhead() {
				ahead = append(ahead, id)
			}
		}
		if len(ahead) == 0 {
			return
		}
		id := rapid.SampledFrom(ahead).Draw(d.t, "ahead")
		d.runs++
		run := "run-" + strconv.Itoa(d.runs)
		got := d.do("claim ahead "+id+" "+run, func(s storage.Store) (any, error) { return s.Claim(d.ctx, id, run) })
		if c, ok := got.(storage.Claim); ok && c.Outcome == storage.Claimed {
			d.claims[id] = run
		}
	case 9: // what is owed, and what is due
		d.do("owed "+id, func(s storage.Store) (any, error) { return s.Owed(d.ctx, id) })
		d.do("due", func(s storage.Store) (any, error) {
			ids, err := s.Due(d.ctx, 0, 1000)
			slices.Sort(ids)
			return ids, err
		})
	}
}

// runAll claims every task waiting for its run, with a new run, and
// completes or fails it, so that graphs end and can be retried.
func (d *differ) runAll(i int) {
	for _, id := range d.ids {
		r, err := d.a.Get(d.ctx, id)
		if err != nil || r.Kind != sig.KindTask {
			continue
		}
		var run string
		switch {
		case r.Status == sig.Active && r.ClaimedAhead():
			run = r.RunID // claimed ahead: its run goes on
		case r.Status != sig.Pending || r.Gen == 0 || r.RunID != "":
			continue
		default:
			d.runs++
			run = "run-" + strconv.Itoa(d.runs)
			got := d.do("claim "+id+" "+run, func(s storage.Store) (any, error) { return s.Claim(d.ctx, id, run) })
			if c, ok := got.(storage.Claim); !ok || c.Outcome != storage.Claimed {
				continue
			}
			d.claims[id] = run
		}
		if rapid.Bool().Draw(d.t, "fails") {
			info := sig.ErrorInfo{Task: "t", Message: "boom " + strconv.Itoa(i), Attempts: 1, Kind: sig.ErrorTask}
			d.do("fail "+id, func(s storage.Store) (any, error) { return s.Fail(d.ctx, id, run, info) })
		} else {
			d.do("complete "+id, func(s storage.Store) (any, error) { return s.Complete(d.ctx, id, run, []byte(`3`)) })
		}
	}
}

// holder returns the run that claimed task id, or a stranger.
func (d *differ) holder(id string) string {
	if run := d.claims[id]; run != "" && rapid.IntRange(0, 5).Draw(d.t, "stranger") != 0 {
		return run
	}
	return "stranger"
}

// do performs op on both stores, compares their answers and then every
// record of the graph, and returns the answer (nil after an error).
func (d *differ) do(what string, op func(storage.Store) (any, error)) any {
	va, ea := op(d.a)
	vb, eb := op(d.b)
	if sa, sb := sentinel(ea), sentinel(eb); sa != sb {
		d.t.Fatalf("%s: the stores answer differently: %v / %v", what, ea, eb)
	}
	if ea == nil {
		if diff := cmp.Diff(va, vb, cmpopts.EquateEmpty(), recordOptions); diff != "" {
			d.t.Fatalf("%s: the stores answer differently (-first +second):\n%s", what, diff)
		}
	}
	for _, id := range d.ids {
		ra, ea := d.a.Get(d.ctx, id)
		rb, eb := d.b.Get(d.ctx, id)
		if sentinel(ea) != sentinel(eb) {
			d.t.Fatalf("after %s: Get(%s): %v / %v", what, id, ea, eb)
		}
		if diff := cmp.Diff(ra, rb, cmpopts.EquateEmpty(), recordOptions); diff != "" {
			d.t.Fatalf("after %s: record %s differs (-first +second):\n%s", what, id, diff)
		}
	}
	if ea != nil {
		return nil
	}
	return va
}

// recordOptions leave out what the stores may report differently: the
// expiry each reads from its own clock, and the order of the keys of JSON
// objects they assemble (an error callback's input).
var recordOptions = cmp.Options{
	cmpopts.IgnoreFields(sig.Record{}, "ExpiresAt"),
	cmp.FilterPath(func(p cmp.Path) bool {
		f, ok := p.Last().(cmp.StructField)
		return ok && (f.Name() == "Payload" || f.Name() == "Input" || f.Name() == "Result")
	}, cmp.FilterValues(func(a, b []byte) bool { return len(a) > 0 && len(b) > 0 }, cmp.Comparer(sameJSON))),
}

// sameJSON reports whether a and b are the same JSON value, or the same
// bytes when either is not JSON.
func sameJSON(a, b []byte) bool {
	var va, vb any
	if json.Unmarshal(a, &va) != nil || json.Unmarshal(b, &vb) != nil {
		return string(a) == string(b)
	}
	return cmp.Equal(va, vb)
}

// sentinel names the storage sentinel err wraps, "" for none and
// "other" for an error that wraps none.
func sentinel(err error) string {
	if err == nil {
		return ""
	}
	for _, s := range []error{storage.ErrNotFound, storage.ErrExists, storage.ErrNotOwner, storage.ErrCanceled, storage.ErrConflict, storage.ErrState, storage.ErrCorrupt} {
		if errors.Is(err, s) {
			return s.Error()
		}
	}
	return fmt.Sprintf("other (%v)", err)
}

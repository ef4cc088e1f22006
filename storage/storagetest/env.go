package storagetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
)

// caseTimeout bounds every store call of a case.
const caseTimeout = time.Minute

// maxSteps bounds how many dispatches drain runs before it gives up.
const maxSteps = 10000

// env is one case's store, context and engine: it creates graphs, plays
// the engine's part of the protocol (claim, perform, complete or fail,
// acknowledge) and records every dispatch it took, in order.
//
// Methods that stop the case on failure (claim, complete, get, ...) must be
// called from the case's goroutine; take, dispatched and count only report
// with Errorf and may be called from any goroutine.
type env struct {
	t   *testing.T
	ctx context.Context
	s   storage.Store

	runs atomic.Int64

	mu   sync.Mutex
	sent []sig.Dispatch

	// watch lists record ids whose expiry take checks after every
	// transition.
	watch []string
}

// newEnv returns the env of a case on store s.
func newEnv(t *testing.T, s storage.Store) *env {
	ctx, cancel := context.WithTimeout(t.Context(), caseTimeout)
	t.Cleanup(cancel)
	return &env{t: t, ctx: ctx, s: s}
}

// graph lowers n under a fresh root id with the default TTLs.
func (e *env) graph(n *node) *graph {
	return newGraph(sig.NewRootID(time.Now()), n, defaultTTLs)
}

// items lowers items as items of swarm id of g, numbered from base.
func (e *env) items(g *graph, id string, base int, items ...*node) []*sig.Record {
	return lowerItems(g.root, id, base, items...)
}

// create stores g without starting it.
func (e *env) create(g *graph) {
	e.t.Helper()
	eff, err := e.s.CreateGraph(e.ctx, g.stored(false, nil))
	if err != nil {
		e.t.Fatalf("CreateGraph(%s): %v", g.root, err)
	}
	if len(eff.Dispatches) != 0 {
		e.t.Fatalf("CreateGraph(%s) without Start dispatched %v", g.root, targets(eff.Dispatches))
	}
}

// start stores g and enters its root with input, returning the
// dispatches (acknowledged).
func (e *env) start(g *graph, input string) []sig.Dispatch {
	e.t.Helper()
	eff, err := e.s.CreateGraph(e.ctx, g.stored(true, []byte(input)))
	if err != nil {
		e.t.Fatalf("CreateGraph(%s, Start): %v", g.root, err)
	}
	return e.take(eff, g.root)
}

// newRun returns a run id no other run of this env has.
func (e *env) newRun() string {
	return fmt.Sprintf("run-%d", e.runs.Add(1))
}

// claim claims task id for a fresh run and requires the outcome Claimed.
func (e *env) claim(id string) string {
	e.t.Helper()
	run := e.newRun()
	c, err := e.s.Claim(e.ctx, id, run)
	if err != nil {
		e.t.Fatalf("Claim(%s, %s): %v", id, run, err)
	}
	if c.Outcome != storage.Claimed {
		e.t.Fatalf("Claim(%s, %s) = %v, want claimed", id, run, c.Outcome)
	}
	return run
}

// claimOutcome claims task id for run and requires outcome want.
func (e *env) claimOutcome(id, run string, want storage.Outcome) storage.Claim {
	e.t.Helper()
	c, err := e.s.Claim(e.ctx, id, run)
	if err != nil {
		e.t.Fatalf("Claim(%s, %s): %v", id, run, err)
	}
	if c.Outcome != want {
		e.t.Fatalf("Claim(%s, %s) = %v, want %v", id, run, c.Outcome, want)
	}
	if want != storage.Claimed && (c.Record == nil || c.Record.ID != id) {
		e.t.Fatalf("Claim(%s, %s) returned record %+v, want record %s", id, run, c.Record, id)
	}
	return c
}

// complete completes task id held by run with result and returns the
// dispatches that followed (acknowledged).
func (e *env) complete(id, run, result string) []sig.Dispatch {
	e.t.Helper()
	eff, err := e.s.Complete(e.ctx, id, run, []byte(result))
	if err != nil {
		e.t.Fatalf("Complete(%s, %s): %v", id, run, err)
	}
	return e.take(eff, id)
}

// fail fails task id held by run with info and returns the dispatches
// that followed (acknowledged).
func (e *env) fail(id, run string, info sig.ErrorInfo) []sig.Dispatch {
	e.t.Helper()
	eff, err := e.s.Fail(e.ctx, id, run, info)
	if err != nil {
		e.t.Fatalf("Fail(%s, %s): %v", id, run, err)
	}
	return e.take(eff, id)
}

// apply applies op to the graph of root and returns its effects, with the
// dispatches acknowledged.
func (e *env) apply(root string, op sig.Op) storage.Effects {
	e.t.Helper()
	eff, err := e.s.Apply(e.ctx, root, op)
	if err != nil {
		e.t.Fatalf("Apply(%s, %s): %v", root, op, err)
	}
	eff.Dispatches = e.take(eff, "")
	return eff
}

// exec plays one dispatch as a worker would: claim with a fresh run,
// perform the task, complete or fail it. It returns what followed.
func (e *env) exec(d sig.Dispatch) []sig.Dispatch {
	e.t.Helper()
	run := e.claim(d.Target)
	result, info := e.perform(d)
	if info != nil {
		return e.fail(d.Target, run, *info)
	}
	return e.complete(d.Target, run, string(result))
}

// drain execs ds and everything that follows, first in first out, until
// nothing is left to run.
func (e *env) drain(ds []sig.Dispatch) {
	e.t.Helper()
	queue := slices.Clone(ds)
	for steps := 0; len(queue) > 0; steps++ {
		if steps == maxSteps {
			e.t.Fatalf("drain: still %d dispatches after %d steps", len(queue), steps)
		}
		d := queue[0]
		queue = append(queue[1:], e.exec(d)...)
	}
}

// take checks the effects of a transition of record source (any record
// when source is empty), acknowledges their dispatches and records them.
// It checks that Source names the record whose outbox holds every
// dispatch (the target's own for a lone dispatch), that each dispatch names its task, root and key "<id>#<gen>",
// and that Ack removes them. It reports problems with Errorf, so any
// goroutine may call it.
func (e *env) take(eff storage.Effects, source string) []sig.Dispatch {
	e.t.Helper()
	defer e.checkWatch()
	if len(eff.Dispatches) == 0 {
		return nil
	}
	if len(eff.Dispatches) == 1 && len(eff.Cancels)+len(eff.Flows) == 0 {
		// a lone dispatch is owed by its target until the target's claim
		source = eff.Dispatches[0].Target
	}
	if source != "" && eff.Source != source {
		e.t.Errorf("Effects.Source = %q, want %q (dispatches %v)", eff.Source, source, targets(eff.Dispatches))
	}
	if eff.Source == "" {
		e.t.Errorf("Effects with dispatches %v have no Source", targets(eff.Dispatches))
		return slices.Clone(eff.Dispatches)
	}
	for _, d := range eff.Dispatches {
		e.checkDispatch(d)
	}
	keys := keysOf(eff.Dispatches)
	if rec, err := e.s.Get(e.ctx, eff.Source); err != nil {
		e.t.Errorf("Get(%s) (effects source): %v", eff.Source, err)
	} else if missing := without(keys, keysOf(rec.Outbox)); len(missing) > 0 {
		e.t.Errorf("outbox of %s lacks keys %v before Ack (outbox %v)", eff.Source, missing, keysOf(rec.Outbox))
	}
	if err := e.s.Ack(e.ctx, eff.Source, keys); err != nil {
		e.t.Errorf("Ack(%s, %v): %v", eff.Source, keys, err)
	}
	if rec, err := e.s.Get(e.ctx, eff.Source); err != nil {
		e.t.Errorf("Get(%s) after Ack: %v", eff.Source, err)
	} else if left := intersect(keys, keysOf(rec.Outbox)); len(left) != 0 {
		e.t.Errorf("outbox of %s still holds %v after Ack", eff.Source, left)
	}
	e.mu.Lock()
	e.sent = append(e.sent, eff.Dispatches...)
	e.mu.Unlock()
	return slices.Clone(eff.Dispatches)
}

// checkDispatch checks that d targets a dispatched task of its root and
// carries that task's name and current key.
func (e *env) checkDispatch(d sig.Dispatch) {
	e.t.Helper()
	if d.Root != sig.RootOf(d.Target) {
		e.t.Errorf("dispatch %s: Root = %q, want %q", d.Key, d.Root, sig.RootOf(d.Target))
	}
	if len(d.Payload) == 0 {
		e.t.Errorf("dispatch %s: empty payload", d.Key)
	}
	rec, err := e.s.Get(e.ctx, d.Target)
	if err != nil {
		e.t.Errorf("dispatch %s: Get(%s): %v", d.Key, d.Target, err)
		return
	}
	if rec.Kind != sig.KindTask {
		e.t.Errorf("dispatch %s targets a %s", d.Key, rec.Kind)
	}
	if d.Task != rec.Name {
		e.t.Errorf("dispatch %s: Task = %q, want the record's name %q", d.Key, d.Task, rec.Name)
	}
	if want := fmt.Sprintf("%s#%d", d.Target, rec.Gen); d.Key != want {
		e.t.Errorf("dispatch to %s: Key = %q, want %q (Gen %d)", d.Target, d.Key, want, rec.Gen)
	}
	if !rec.Entered {
		e.t.Errorf("dispatch %s: target not Entered", d.Key)
	}
}

// checkWatch checks that every watched record has an expiry within its
// active TTL from now.
func (e *env) checkWatch() {
	e.t.Helper()
	for _, id := range e.watch {
		rec, err := e.s.Get(e.ctx, id)
		if err != nil {
			e.t.Errorf("Get(%s) (watched): %v", id, err)
			continue
		}
		now := time.Now()
		active := e.get(sig.RootOf(id)).ActiveTTL
		switch {
		case rec.ExpiresAt.IsZero():
			e.t.Errorf("record %s (%s) has no ExpiresAt", id, rec.Status)
		case !rec.ExpiresAt.After(now.Add(-slack)):
			e.t.Errorf("record %s (%s) expires at %v, in the past", id, rec.Status, rec.ExpiresAt)
		case rec.ExpiresAt.After(now.Add(active + slack)):
			e.t.Errorf("record %s (%s) expires at %v, beyond its graph's ActiveTTL %v", id, rec.Status, rec.ExpiresAt, active)
		}
	}
}

// dispatched returns the dispatches take recorded for target, in order.
func (e *env) dispatched(target string) []sig.Dispatch {
	e.mu.Lock()
	defer e.mu.Unlock()
	var out []sig.Dispatch
	for _, d := range e.sent {
		if d.Target == target {
			out = append(out, d)
		}
	}
	return out
}

// count returns how many dispatches to target take recorded.
func (e *env) count(target string) int { return len(e.dispatched(target)) }

// once requires exactly one recorded dispatch to target and returns it.
func (e *env) once(target string) sig.Dispatch {
	e.t.Helper()
	ds := e.dispatched(target)
	if len(ds) != 1 {
		e.t.Fatalf("%s dispatched %d times (%v), want once", target, len(ds), keysOf(ds))
	}
	return ds[0]
}

// never requires that nothing was dispatched to any of targets.
func (e *env) never(targets ...string) {
	e.t.Helper()
	for _, id := range targets {
		if n := e.count(id); n != 0 {
			e.t.Errorf("%s dispatched %d times, want never", id, n)
		}
	}
}

// get returns record id, requiring that it exists.
func (e *env) get(id string) *sig.Record {
	e.t.Helper()
	rec, err := e.s.Get(e.ctx, id)
	if err != nil {
		e.t.Fatalf("Get(%s): %v", id, err)
	}
	if rec.ID != id {
		e.t.Fatalf("Get(%s) returned record %q", id, rec.ID)
	}
	return rec
}

// status requires record id to have status want and returns it.
func (e *env) status(id string, want sig.Status) *sig.Record {
	e.t.Helper()
	rec := e.get(id)
	if rec.Status != want {
		e.t.Fatalf("%s: Status = %s, want %s", id, rec.Status, want)
	}
	return rec
}

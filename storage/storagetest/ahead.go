package storagetest

import (
	"errors"
	"testing"
	"time"

	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
)

// aheadCases check storage.Aheader: the claim made, in the operation that
// completes a task, of the task that completion dispatches alone.
func aheadCases() []testCase {
	return []testCase{
		{
			Name: "CompleteAheadClaimsTheNextStep",
			Rule: "CompleteAhead of a chain step claims the next step for the run named: Claimed names it, the step is Active for it with the claim's lease set and Attempts 1, and its dispatch, which names the run, stays owed in its outbox until the step ends.",
			Test: testCompleteAheadClaimsNextStep,
		},
		{
			Name: "CompleteAheadReplay",
			Rule: "CompleteAhead repeated after it applied returns the same dispatch and Claimed again while the claim's lease lasts, and claims nothing twice; after the lease, the repeat reports no claim (the run must claim for itself).",
			Test: testCompleteAheadReplay,
		},
		{
			Name: "ConfirmTakesTheClaim",
			Rule: "Confirm by the run a task was claimed ahead for clears Ahead and takes the dispatch out of the outbox, the attempts unchanged; Confirm by another run, or again, changes nothing.",
			Test: testConfirmTakesClaim,
		},
		{
			Name: "ClaimOfATaskClaimedAhead",
			Rule: "A claim of a task claimed ahead is, by its run (a retry, or a delivery again), Claimed, and confirms the claim: Ahead cleared, the dispatch owed no more, one attempt more; by another run it is Duplicate.",
			Test: testClaimOfTaskClaimedAhead,
		},
		{
			Name: "CompleteAheadOnlyALoneDispatch",
			Rule: "CompleteAhead claims nothing when the completion dispatches several tasks, or none: Claimed is empty and the dispatches wait for their claims.",
			Test: testCompleteAheadOnlyLone,
		},
		{
			Name: "CompleteAheadNextSwarmItem",
			Rule: "CompleteAhead of a swarm item that frees a slot claims the next item for the run named.",
			Test: testCompleteAheadNextSwarmItem,
		},
		{
			Name: "AheadClaimTakenOverAfterItsLease",
			Rule: "Once the lease of a claim made ahead is over, a claim by another run (a delivery of the dispatch by a worker that recovered it) takes the claim over: Claimed, RunID that run, the dispatch owed no more, the attempt already counted.",
			Test: testAheadClaimTakenOver,
		},
		{
			Name: "AckKeepsTheStartOfATaskClaimedAhead",
			Rule: "Ack leaves the dispatch of a task claimed ahead in its outbox, still owed, until its run confirms the claim or another takes it over.",
			Test: testAckKeepsAheadStart,
		},
		{
			Name: "SuspendedAheadClaimHeldAfterItsLease",
			Rule: "A task claimed ahead whose graph is suspended keeps its dispatch owed; once the lease is over, a delivery of it is Held, and resume dispatches the task again.",
			Test: testSuspendedAheadClaimHeld,
		},
		{
			Name: "RedeliveryResendsTheClaimedAheadDispatch",
			Rule: "A claim of the completed task (a redelivery) is Ended and resends the dispatch of the task claimed ahead, naming its run, until that run confirms its claim.",
			Test: testRedeliveryResendsAhead,
		},
	}
}

// aheader returns e's store as a storage.Aheader, or skips the case.
func (e *env) aheader() storage.Aheader {
	e.t.Helper()
	a, ok := e.s.(storage.Aheader)
	if !ok {
		e.t.Skip("the store does not implement storage.Aheader")
	}
	return a
}

// aheadLease is the lease of the claims the cases make ahead: longer than
// any case.
const aheadLease = time.Hour

// completeAhead completes task id held by run with result, claiming
// ahead for next with aheadLease, and returns the effects.
func (e *env) completeAhead(id, run, result, next string) storage.Effects {
	e.t.Helper()
	return e.completeAheadFor(id, run, result, next, aheadLease)
}

// completeAheadFor is completeAhead with a lease of lease.
func (e *env) completeAheadFor(id, run, result, next string, lease time.Duration) storage.Effects {
	e.t.Helper()
	eff, err := e.aheader().CompleteAhead(e.ctx, id, run, []byte(result), next, lease)
	if err != nil {
		e.t.Fatalf("CompleteAhead(%s, %s, next %s): %v", id, run, next, err)
	}
	return eff
}

// claimedAhead checks that eff claimed target ahead for run, and that the
// target's record says so, with its dispatch owed; it returns the record.
func (e *env) claimedAhead(eff storage.Effects, target, run string) *sig.Record {
	e.t.Helper()
	if eff.Claimed != run {
		e.t.Fatalf("Effects.Claimed = %q, want %q", eff.Claimed, run)
	}
	if len(eff.Dispatches) != 1 || eff.Dispatches[0].Target != target || eff.Dispatches[0].Run != run {
		e.t.Fatalf("dispatches %+v, want one to %s naming run %s", eff.Dispatches, target, run)
	}
	e.checkDispatch(eff.Dispatches[0])
	rec := e.status(target, sig.Active)
	if rec.RunID != run || !rec.ClaimedAhead() || rec.Attempts != 1 {
		e.t.Fatalf("%s: RunID %q Ahead %v Attempts %d, want %s, true, 1", target, rec.RunID, rec.ClaimedAhead(), rec.Attempts, run)
	}
	if keys := keysOf(rec.Outbox); len(keys) != 1 || keys[0] != eff.Dispatches[0].Key {
		e.t.Fatalf("%s: outbox %v, want its dispatch %s owed", target, keys, eff.Dispatches[0].Key)
	}
	return rec
}

func testCompleteAheadClaimsNextStep(t *testing.T, e *env) {
	g := e.graph(chain(task(taskInc), task(taskDbl)))
	e.start(g, `1`)
	s0, s1 := sig.ChildID(g.root, 0), sig.ChildID(g.root, 1)
	run := e.claim(s0)
	eff := e.completeAhead(s0, run, `2`, "run-next")
	e.claimedAhead(eff, s1, "run-next")
	owed, err := e.s.Owed(e.ctx, s1)
	if err != nil {
		t.Fatalf("Owed(%s): %v", s1, err)
	}
	if len(owed.Dispatches) != 1 || owed.Dispatches[0].Run != "run-next" {
		t.Fatalf("Owed(%s) = %+v, want its dispatch naming run-next", s1, owed.Dispatches)
	}
	e.complete(s1, "run-next", `4`)
	rec := e.status(s1, sig.Done)
	if rec.ClaimedAhead() || len(rec.Outbox) != 0 {
		t.Errorf("%s done: Ahead %v outbox %v, want neither", s1, rec.ClaimedAhead(), keysOf(rec.Outbox))
	}
	expectJSON(t, "chain result", e.status(g.root, sig.Done).Result, `4`)
}

func testCompleteAheadReplay(t *testing.T, e *env) {
	g := e.graph(chain(task(taskInc), task(taskDbl)))
	e.start(g, `1`)
	s0, s1 := sig.ChildID(g.root, 0), sig.ChildID(g.root, 1)
	run := e.claim(s0)
	first := e.completeAhead(s0, run, `2`, "run-next")
	again := e.completeAhead(s0, run, `2`, "run-next")
	e.claimedAhead(again, s1, "run-next")
	if first.Dispatches[0].Key != again.Dispatches[0].Key {
		t.Errorf("replay dispatch key %s, want %s", again.Dispatches[0].Key, first.Dispatches[0].Key)
	}
	// a replay naming another run claims nothing
	if other := e.completeAhead(s0, run, `2`, "run-other"); other.Claimed != "" {
		t.Errorf("replay naming another run: Claimed %q, want none", other.Claimed)
	}
	e.claimedAhead(again, s1, "run-next")

	late := e.graph(chain(task(taskInc), task(taskDbl)))
	e.start(late, `1`)
	l0 := sig.ChildID(late.root, 0)
	lrun := e.claim(l0)
	if eff := e.completeAheadFor(l0, lrun, `2`, "run-late", 0); eff.Claimed != "run-late" {
		t.Fatalf("Claimed = %q, want run-late", eff.Claimed)
	}
	if eff := e.completeAheadFor(l0, lrun, `2`, "run-late", 0); eff.Claimed != "" || len(eff.Dispatches) != 1 {
		t.Fatalf("replay after the lease: Claimed %q, %d dispatches; want no claim and the dispatch", eff.Claimed, len(eff.Dispatches))
	}
}

func testConfirmTakesClaim(t *testing.T, e *env) {
	g := e.graph(chain(task(taskInc), task(taskDbl)))
	e.start(g, `1`)
	s0, s1 := sig.ChildID(g.root, 0), sig.ChildID(g.root, 1)
	e.claimedAhead(e.completeAhead(s0, e.claim(s0), `2`, "run-next"), s1, "run-next")
	a := e.aheader()
	if err := a.Confirm(e.ctx, s1, "run-other"); err != nil {
		t.Fatalf("Confirm by another run: %v", err)
	}
	if rec := e.get(s1); !rec.ClaimedAhead() || len(rec.Outbox) != 1 {
		t.Fatalf("after Confirm by another run: Ahead %v outbox %v, want unchanged", rec.ClaimedAhead(), keysOf(rec.Outbox))
	}
	for range 2 {
		if err := a.Confirm(e.ctx, s1, "run-next"); err != nil {
			t.Fatalf("Confirm: %v", err)
		}
		rec := e.status(s1, sig.Active)
		if rec.ClaimedAhead() || len(rec.Outbox) != 0 || rec.RunID != "run-next" || rec.Attempts != 1 {
			t.Fatalf("after Confirm: Ahead %v outbox %v RunID %q Attempts %d, want false, empty, run-next, 1", rec.ClaimedAhead(), keysOf(rec.Outbox), rec.RunID, rec.Attempts)
		}
	}
	if owed, err := e.s.Owed(e.ctx, s1); err != nil || len(owed.Dispatches) != 0 {
		t.Fatalf("Owed(%s) after Confirm = %+v, %v; want nothing", s1, owed.Dispatches, err)
	}
	if err := a.Confirm(e.ctx, g.root, "run-next"); err == nil {
		t.Errorf("Confirm of a chain: no error")
	}
	e.complete(s1, "run-next", `4`)
	e.status(g.root, sig.Done)
}

func testClaimOfTaskClaimedAhead(t *testing.T, e *env) {
	g := e.graph(chain(task(taskInc), task(taskDbl)))
	e.start(g, `1`)
	s0, s1 := sig.ChildID(g.root, 0), sig.ChildID(g.root, 1)
	e.claimedAhead(e.completeAhead(s0, e.claim(s0), `2`, "run-next"), s1, "run-next")
	e.claimOutcome(s1, "run-other", storage.Duplicate)
	e.claimOutcome(s1, "run-next", storage.Claimed)
	rec := e.status(s1, sig.Active)
	if rec.ClaimedAhead() || len(rec.Outbox) != 0 || rec.Attempts != 2 || rec.RunID != "run-next" {
		t.Fatalf("after the run's claim: Ahead %v outbox %v Attempts %d RunID %q, want false, empty, 2, run-next", rec.ClaimedAhead(), keysOf(rec.Outbox), rec.Attempts, rec.RunID)
	}
	e.claimOutcome(s1, "run-other", storage.Duplicate)
}

func testCompleteAheadOnlyLone(t *testing.T, e *env) {
	g := e.graph(task(taskInc).success(task(taskEcho), task(taskEcho)))
	e.start(g, `1`)
	eff := e.completeAhead(g.root, e.claim(g.root), `2`, "run-next")
	if eff.Claimed != "" || len(eff.Dispatches) != 2 {
		t.Fatalf("two callbacks: Claimed %q, %d dispatches; want none claimed, 2", eff.Claimed, len(eff.Dispatches))
	}
	for _, d := range e.take(eff, g.root) {
		if d.Run != "" {
			t.Errorf("dispatch %s names run %q, want none", d.Key, d.Run)
		}
		if rec := e.status(d.Target, sig.Pending); rec.ClaimedAhead() || rec.RunID != "" {
			t.Errorf("%s: Ahead %v RunID %q, want unclaimed", d.Target, rec.ClaimedAhead(), rec.RunID)
		}
		e.claim(d.Target)
	}
	// a completion that dispatches nothing claims nothing
	last := e.graph(task(taskInc))
	e.start(last, `1`)
	if eff := e.completeAhead(last.root, e.claim(last.root), `2`, "run-last"); eff.Claimed != "" || len(eff.Dispatches) != 0 {
		t.Fatalf("a lone task: Claimed %q, %d dispatches; want none", eff.Claimed, len(eff.Dispatches))
	}
	e.status(last.root, sig.Done)
}

func testCompleteAheadNextSwarmItem(t *testing.T, e *env) {
	g := e.graph(swarm(sig.SwarmConfig{MaxConcurrency: 1}, task(taskInc), task(taskInc)))
	ds := e.start(g, `1`)
	if len(ds) != 1 {
		t.Fatalf("swarm of 1 at once dispatched %d", len(ds))
	}
	i0, i1 := sig.ChildID(g.root, 0), sig.ChildID(g.root, 1)
	e.claimedAhead(e.completeAhead(i0, e.claim(i0), `2`, "run-next"), i1, "run-next")
	e.complete(i1, "run-next", `3`)
	expectJSON(t, "swarm result", e.status(g.root, sig.Done).Result, `[2,3]`)
}

func testRedeliveryResendsAhead(t *testing.T, e *env) {
	g := e.graph(chain(task(taskInc), task(taskDbl)))
	e.start(g, `1`)
	s0, s1 := sig.ChildID(g.root, 0), sig.ChildID(g.root, 1)
	run := e.claim(s0)
	e.claimedAhead(e.completeAhead(s0, run, `2`, "run-next"), s1, "run-next")
	c := e.claimOutcome(s0, run, storage.Ended)
	if len(c.Record.Outbox) != 1 || c.Record.Outbox[0].Target != s1 || c.Record.Outbox[0].Run != "run-next" {
		t.Fatalf("Ended claim resends %+v, want the dispatch of %s naming run-next", c.Record.Outbox, s1)
	}
	if err := e.aheader().Confirm(e.ctx, s1, "run-next"); err != nil {
		t.Fatalf("Confirm: %v", err)
	}
	if c := e.claimOutcome(s0, run, storage.Ended); len(c.Record.Outbox) != 0 {
		t.Fatalf("Ended claim after Confirm resends %+v, want nothing", c.Record.Outbox)
	}
}

func testAheadClaimTakenOver(t *testing.T, e *env) {
	g := e.graph(chain(task(taskInc), task(taskDbl)))
	e.start(g, `1`)
	s0, s1 := sig.ChildID(g.root, 0), sig.ChildID(g.root, 1)
	eff := e.completeAheadFor(s0, e.claim(s0), `2`, "run-dead", 0)
	if eff.Claimed != "run-dead" {
		t.Fatalf("Claimed = %q, want run-dead", eff.Claimed)
	}
	owed, err := e.s.Owed(e.ctx, s1)
	if err != nil || len(owed.Dispatches) != 1 {
		t.Fatalf("Owed(%s) = %+v, %v; want its dispatch", s1, owed.Dispatches, err)
	}
	e.claimOutcome(s1, "run-recovered", storage.Claimed)
	rec := e.status(s1, sig.Active)
	if rec.RunID != "run-recovered" || rec.ClaimedAhead() || len(rec.Outbox) != 0 || rec.Attempts != 1 {
		t.Fatalf("taken over: RunID %q ahead %v outbox %v Attempts %d, want run-recovered, false, empty, 1", rec.RunID, rec.ClaimedAhead(), keysOf(rec.Outbox), rec.Attempts)
	}
	if _, err := e.s.Complete(e.ctx, s1, "run-dead", []byte(`4`)); !errors.Is(err, storage.ErrNotOwner) {
		t.Fatalf("Complete by the run taken over: %v, want ErrNotOwner", err)
	}
	e.complete(s1, "run-recovered", `4`)
	expectJSON(t, "chain result", e.status(g.root, sig.Done).Result, `4`)
}

func testAckKeepsAheadStart(t *testing.T, e *env) {
	g := e.graph(chain(task(taskInc), task(taskDbl)))
	e.start(g, `1`)
	s0, s1 := sig.ChildID(g.root, 0), sig.ChildID(g.root, 1)
	eff := e.completeAhead(s0, e.claim(s0), `2`, "run-next")
	e.claimedAhead(eff, s1, "run-next")
	if err := e.s.Ack(e.ctx, s1, keysOf(eff.Dispatches)); err != nil {
		t.Fatalf("Ack: %v", err)
	}
	e.claimedAhead(eff, s1, "run-next") // still owed
	e.claimOutcome(s1, "run-early", storage.Duplicate)
	if err := e.aheader().Confirm(e.ctx, s1, "run-next"); err != nil {
		t.Fatalf("Confirm: %v", err)
	}
	if rec := e.get(s1); len(rec.Outbox) != 0 {
		t.Fatalf("after Confirm: outbox %v, want empty", keysOf(rec.Outbox))
	}
}

func testSuspendedAheadClaimHeld(t *testing.T, e *env) {
	g := e.graph(chain(task(taskInc), task(taskDbl)))
	e.start(g, `1`)
	s0, s1 := sig.ChildID(g.root, 0), sig.ChildID(g.root, 1)
	e.completeAheadFor(s0, e.claim(s0), `2`, "run-dead", 0)
	e.apply(g.root, sig.OpSuspend)
	owed, err := e.s.Owed(e.ctx, s1)
	if err != nil || len(owed.Dispatches) != 1 {
		t.Fatalf("Owed(%s) while suspended = %+v, %v; want its dispatch", s1, owed.Dispatches, err)
	}
	e.claimOutcome(s1, "run-recovered", storage.Held)
	eff := e.apply(g.root, sig.OpResume)
	if len(eff.Dispatches) != 1 || eff.Dispatches[0].Target != s1 {
		t.Fatalf("resume dispatched %v, want %s again", targets(eff.Dispatches), s1)
	}
	e.complete(s1, e.claim(s1), `4`)
	expectJSON(t, "chain result", e.status(g.root, sig.Done).Result, `4`)
}

package storagetest

import (
	"testing"

	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
)

// claimCases check Claim and its outcomes.
func claimCases() []testCase {
	return []testCase{
		{
			Name: "ClaimDispatchedTask",
			Rule: "Claiming a dispatched Pending task gives Claimed (without the record: the run has what it needs) and makes it Active with the run's id and Attempts 1.",
			Test: testClaimDispatchedTask,
		},
		{
			Name: "ClaimRetrySameRun",
			Rule: "The run that holds a task may claim it again (a retry): Claimed, same RunID, Attempts 2.",
			Test: testClaimRetrySameRun,
		},
		{
			Name: "ClaimOtherRunDuplicate",
			Rule: "A claim by another run of a task that a run holds is Duplicate and leaves the holder in place.",
			Test: testClaimOtherRunDuplicate,
		},
		{
			Name: "ClaimEndedTask",
			Rule: "A claim of a Done or Failed task is Ended and returns the record with the dispatches its outbox still owes.",
			Test: testClaimEndedTask,
		},
		{
			Name: "ClaimEndedOwesOnlyUndelivered",
			Rule: "An Ended claim (and a replayed Complete) returns only the outbox dispatches whose target still waits for them: once the target was claimed or held, the sender owes it no more, without an Ack; an unclaimed dispatch stays owed until acknowledged.",
			Test: testClaimEndedOwesOnlyUndelivered,
		},
		{
			Name: "ClaimCanceledDropped",
			Rule: "A claim of a canceled task is Dropped and leaves it Canceled.",
			Test: testClaimCanceledDropped,
		},
		{
			Name: "ClaimNeverDispatchedDropped",
			Rule: "A claim of a task that was never dispatched (a later chain step), even while its graph is suspended, is Dropped, leaves it unclaimed, and makes resume dispatch nothing for it.",
			Test: testClaimNeverDispatchedDropped,
		},
	}
}

func testClaimDispatchedTask(t *testing.T, e *env) {
	g := e.graph(task(taskInc))
	e.start(g, `1`)
	if c := e.claimOutcome(g.root, "run-a", storage.Claimed); c.Record != nil {
		t.Errorf("Claimed returned a record: %+v, want none", c.Record)
	}
	rec := e.status(g.root, sig.Active)
	if rec.RunID != "run-a" || rec.Attempts != 1 {
		t.Errorf("stored record: RunID %q Attempts %d, want run-a 1", rec.RunID, rec.Attempts)
	}
	expectJSON(t, "Input", rec.Input, `1`)
}

func testClaimRetrySameRun(t *testing.T, e *env) {
	g := e.graph(task(taskInc))
	e.start(g, `1`)
	e.claimOutcome(g.root, "run-a", storage.Claimed)
	e.claimOutcome(g.root, "run-a", storage.Claimed)
	if rec := e.status(g.root, sig.Active); rec.RunID != "run-a" || rec.Attempts != 2 {
		t.Errorf("after a retry claim: RunID %q Attempts %d, want run-a 2", rec.RunID, rec.Attempts)
	}
	e.complete(g.root, "run-a", `2`)
	e.status(g.root, sig.Done)
}

func testClaimOtherRunDuplicate(t *testing.T, e *env) {
	g := e.graph(task(taskInc))
	e.start(g, `1`)
	e.claimOutcome(g.root, "run-a", storage.Claimed)
	e.claimOutcome(g.root, "run-b", storage.Duplicate)
	rec := e.status(g.root, sig.Active)
	if rec.RunID != "run-a" || rec.Attempts != 1 {
		t.Errorf("after a duplicate claim: RunID %q Attempts %d, want run-a 1", rec.RunID, rec.Attempts)
	}
	e.complete(g.root, "run-a", `2`)
}

func testClaimEndedTask(t *testing.T, e *env) {
	g := e.graph(task(taskInc).success(task(taskEcho)))
	e.start(g, `1`)
	run := e.claim(g.root)
	eff, err := e.s.Complete(e.ctx, g.root, run, []byte(`2`))
	if err != nil {
		t.Fatalf("Complete: %v", err)
	}
	cb := sig.SuccessID(g.root, 0)
	only(t, "Complete", eff.Dispatches, cb, 1)

	c := e.claimOutcome(g.root, e.newRun(), storage.Ended)
	if c.Record.Status != sig.Done {
		t.Errorf("ended claim: record Status %s, want done", c.Record.Status)
	}
	expectJSON(t, "ended claim: record Result", c.Record.Result, `2`)
	if !sameSet(keysOf(c.Record.Outbox), []string{key(cb, 1)}) {
		t.Errorf("ended claim before Ack: Outbox %v, want [%s]", keysOf(c.Record.Outbox), key(cb, 1))
	}
	if err := e.s.Ack(e.ctx, eff.Source, keysOf(eff.Dispatches)); err != nil {
		t.Fatalf("Ack: %v", err)
	}
	c = e.claimOutcome(g.root, run, storage.Ended)
	if len(c.Record.Outbox) != 0 {
		t.Errorf("ended claim after Ack: Outbox %v, want empty", keysOf(c.Record.Outbox))
	}

	f := e.graph(task(taskFail))
	e.drain(e.start(f, `1`))
	c = e.claimOutcome(f.root, e.newRun(), storage.Ended)
	if c.Record.Status != sig.Failed {
		t.Errorf("ended claim of a failed task: Status %s, want failed", c.Record.Status)
	}
}

func testClaimEndedOwesOnlyUndelivered(t *testing.T, e *env) {
	g := e.graph(chain(task(taskInc), task(taskInc), task(taskInc)))
	step0, step1, step2 := sig.ChildID(g.root, 0), sig.ChildID(g.root, 1), sig.ChildID(g.root, 2)
	e.start(g, `1`)
	owes := func(id string) []string {
		t.Helper()
		return keysOf(e.claimOutcome(id, e.newRun(), storage.Ended).Record.Outbox)
	}
	run := e.claim(step0)
	eff, err := e.s.Complete(e.ctx, step0, run, []byte(`2`))
	if err != nil {
		t.Fatalf("Complete: %v", err)
	}
	only(t, "complete", eff.Dispatches, step1, 1)
	// Not acknowledged, not claimed: owed.
	if got := owes(step0); !sameSet(got, []string{key(step1, 1)}) {
		t.Errorf("ended claim of step 0 before step 1 was claimed: outbox %v, want [%s]", got, key(step1, 1))
	}
	// A replayed Complete owes the same.
	replayed, err := e.s.Complete(e.ctx, step0, run, []byte(`2`))
	if err != nil {
		t.Fatalf("replayed Complete: %v", err)
	}
	if got := keysOf(replayed.Dispatches); !sameSet(got, []string{key(step1, 1)}) {
		t.Errorf("replayed Complete before step 1 was claimed: %v, want [%s]", got, key(step1, 1))
	}
	run1 := e.claim(step1)
	if got := owes(step0); len(got) != 0 {
		t.Errorf("ended claim of step 0 after step 1 was claimed: outbox %v, want empty", got)
	}
	if replayed, _ := e.s.Complete(e.ctx, step0, run, []byte(`2`)); len(replayed.Dispatches) != 0 {
		t.Errorf("replayed Complete after step 1 was claimed: %v, want nothing", keysOf(replayed.Dispatches))
	}
	// A claim while the graph is suspended holds the task: delivered too.
	eff, err = e.s.Complete(e.ctx, step1, run1, []byte(`3`))
	if err != nil {
		t.Fatalf("Complete: %v", err)
	}
	only(t, "complete", eff.Dispatches, step2, 1)
	e.apply(g.root, sig.OpSuspend)
	if got := owes(step1); !sameSet(got, []string{key(step2, 1)}) {
		t.Errorf("ended claim of step 1 while step 2 waits, suspended: outbox %v, want [%s]", got, key(step2, 1))
	}
	e.claimOutcome(step2, e.newRun(), storage.Held)
	if got := owes(step1); len(got) != 0 {
		t.Errorf("ended claim of step 1 after step 2 was held: outbox %v, want empty", got)
	}
	e.drain(e.apply(g.root, sig.OpResume).Dispatches)
	expectJSON(t, "chain Result", e.status(g.root, sig.Done).Result, `4`)
}

func testClaimCanceledDropped(t *testing.T, e *env) {
	g := e.graph(chain(task(taskInc), task(taskInc)))
	e.start(g, `1`)
	e.apply(g.root, sig.OpCancel)
	step0 := sig.ChildID(g.root, 0)
	e.claimOutcome(step0, e.newRun(), storage.Dropped)
	if rec := e.status(step0, sig.Canceled); rec.RunID != "" {
		t.Errorf("canceled step after a claim: RunID %q, want none", rec.RunID)
	}
}

func testClaimNeverDispatchedDropped(t *testing.T, e *env) {
	g := e.graph(chain(task(taskInc), task(taskInc)))
	e.start(g, `1`)
	step0, step1 := sig.ChildID(g.root, 0), sig.ChildID(g.root, 1)
	e.claimOutcome(step1, e.newRun(), storage.Dropped)
	rec := e.status(step1, sig.Pending)
	if rec.RunID != "" || rec.Attempts != 0 || rec.Entered {
		t.Errorf("step 1 after a claim: RunID %q Attempts %d Entered %v, want untouched", rec.RunID, rec.Attempts, rec.Entered)
	}
	e.drain(e.dispatched(step0))
	expectJSON(t, "chain Result", e.status(g.root, sig.Done).Result, `3`)

	// While suspended: the stray claim must not make resume start step 1
	// before step 0 ended, nor twice after.
	g = e.graph(chain(task(taskInc), task(taskDbl)))
	e.start(g, `1`)
	step0, step1 = sig.ChildID(g.root, 0), sig.ChildID(g.root, 1)
	run := e.claim(step0)
	e.apply(g.root, sig.OpSuspend)
	c, err := e.s.Claim(e.ctx, step1, e.newRun())
	if err != nil {
		t.Fatalf("Claim of a never dispatched suspended step: %v", err)
	}
	if c.Outcome != storage.Dropped {
		t.Errorf("Claim of a never dispatched suspended step = %v, want dropped", c.Outcome)
	}
	if rec := e.status(step1, sig.Suspended); rec.RunID != "" || rec.Entered {
		t.Errorf("suspended step 1 after a claim: RunID %q Entered %v, want untouched", rec.RunID, rec.Entered)
	}
	none(t, "resume while step 0 runs", e.apply(g.root, sig.OpResume).Dispatches)
	d := only(t, "step 0", e.complete(step0, run, `2`), step1, 1)
	expectJSON(t, "step 1 payload", d.Payload, `2`)
	e.drain([]sig.Dispatch{d})
	expectJSON(t, "chain Result", e.status(g.root, sig.Done).Result, `4`)
	e.once(step1)
}

package storagetest

import (
	"testing"
	"time"

	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
)

// lifecycleCases check Apply: suspend, interrupt, resume and cancel.
func lifecycleCases() []testCase {
	return []testCase{
		{
			Name: "GraphEndedWhilePausedLeavesNothingPaused",
			Rule: "A graph whose last running task ends while it is paused finishes, and its records never entered go back to Pending: a finished graph holds no paused record.",
			Test: testGraphEndedWhilePausedLeavesNothingPaused,
		},
		{
			Name: "SuspendHoldsDispatchedTask",
			Rule: "Suspend turns Pending and Active records Suspended, keeping their LastStatus; a claim of a suspended dispatched task is Held; resume dispatches it again as <id>#2 and the graph finishes.",
			Test: testSuspendHoldsDispatchedTask,
		},
		{
			Name: "SuspendChainStepRunning",
			Rule: "A step running while its chain is suspended completes, but the chain does not advance until resume, which enters the next step exactly once.",
			Test: testSuspendChainStepRunning,
		},
		{
			Name: "SuspendChainStepFails",
			Rule: "A step failing while its chain is suspended fails, and resume fails the chain with the step's error and fires the chain's error callbacks once.",
			Test: testSuspendChainStepFails,
		},
		{
			Name: "SuspendSwarmCountsResumeFills",
			Rule: "A suspended swarm counts items that end but starts none; resume fills its free slots without re-dispatching items that still run.",
			Test: testSuspendSwarmCountsResumeFills,
		},
		{
			Name: "StartWhileSuspended",
			Rule: "Entering a suspended graph is held (input kept, LastStatus Pending, nothing dispatched); resume enters it.",
			Test: testStartWhileSuspended,
		},
		{
			Name: "InterruptResume",
			Rule: "Interrupt turns the graph Interrupted and returns the run ids of running tasks in Cancels; resume dispatches those tasks again with a new Gen and the graph finishes.",
			Test: testInterruptResume,
		},
		{
			Name: "CancelGraph",
			Rule: "Cancel turns every non-terminal record Canceled, returns running tasks' run ids in Cancels, fires no callback, makes a later Complete return ErrCanceled and a claim Dropped, and ends the graph with its DoneTTL.",
			Test: testCancelGraph,
		},
		{
			Name: "ApplyEndedGraph",
			Rule: "Apply on a graph that ended (done or canceled) returns ErrState.",
			Test: testApplyEndedGraph,
		},
		{
			Name: "ResumeRunningGraph",
			Rule: "Resume on a graph that is not paused returns ErrState.",
			Test: testResumeRunningGraph,
		},
	}
}

func testSuspendHoldsDispatchedTask(t *testing.T, e *env) {
	g := e.graph(chain(task(taskInc), task(taskDbl)))
	step0, step1 := sig.ChildID(g.root, 0), sig.ChildID(g.root, 1)
	e.start(g, `1`)
	eff := e.apply(g.root, sig.OpSuspend)
	none(t, "suspend", eff.Dispatches)
	if len(eff.Cancels) != 0 {
		t.Errorf("suspend Cancels = %v, want none", eff.Cancels)
	}
	for id, last := range map[string]sig.Status{g.root: sig.Active, step0: sig.Pending, step1: sig.Pending} {
		if rec := e.status(id, sig.Suspended); rec.LastStatus != last {
			t.Errorf("%s: LastStatus = %s, want %s", id, rec.LastStatus, last)
		}
	}
	c := e.claimOutcome(step0, e.newRun(), storage.Held)
	if c.Record.Status != sig.Suspended {
		t.Errorf("held claim: record Status %s, want suspended", c.Record.Status)
	}
	e.status(step0, sig.Suspended)

	d := only(t, "resume", e.apply(g.root, sig.OpResume).Dispatches, step0, 2)
	expectJSON(t, "re-dispatched payload", d.Payload, `1`)
	e.status(g.root, sig.Active)
	e.status(step0, sig.Pending)
	e.status(step1, sig.Pending)
	e.drain([]sig.Dispatch{d})
	expectJSON(t, "chain Result", e.status(g.root, sig.Done).Result, `4`)
}

func testSuspendChainStepRunning(t *testing.T, e *env) {
	g := e.graph(chain(task(taskInc), task(taskDbl), task(taskInc)))
	step0, step1 := sig.ChildID(g.root, 0), sig.ChildID(g.root, 1)
	e.start(g, `1`)
	run := e.claim(step0)
	none(t, "suspend", e.apply(g.root, sig.OpSuspend).Dispatches)
	if rec := e.status(step0, sig.Suspended); rec.LastStatus != sig.Active {
		t.Errorf("running step: LastStatus = %s, want active", rec.LastStatus)
	}

	none(t, "completing a step of a suspended chain", e.complete(step0, run, `2`))
	expectJSON(t, "step 0 Result", e.status(step0, sig.Done).Result, `2`)
	e.status(g.root, sig.Suspended)
	if rec := e.status(step1, sig.Suspended); rec.Entered || rec.Gen != 0 {
		t.Errorf("step 1: Entered %v Gen %d before resume, want not entered", rec.Entered, rec.Gen)
	}

	d := only(t, "resume", e.apply(g.root, sig.OpResume).Dispatches, step1, 1)
	expectJSON(t, "step 1 payload", d.Payload, `2`)
	e.status(g.root, sig.Active)
	e.drain([]sig.Dispatch{d})
	expectJSON(t, "chain Result", e.status(g.root, sig.Done).Result, `5`)
	e.once(step1)
	e.once(sig.ChildID(g.root, 2))
}

func testSuspendChainStepFails(t *testing.T, e *env) {
	g := e.graph(chain(task(taskFail), task(taskInc)).failure(task(taskEcho)))
	step0, step1, eb := sig.ChildID(g.root, 0), sig.ChildID(g.root, 1), sig.ErrorID(g.root, 0)
	e.start(g, `1`)
	run := e.claim(step0)
	e.apply(g.root, sig.OpSuspend)
	none(t, "failing a step of a suspended chain", e.fail(step0, run, boom(taskFail)))
	e.status(step0, sig.Failed)
	e.status(g.root, sig.Suspended)
	e.never(eb)

	d := only(t, "resume", e.apply(g.root, sig.OpResume).Dispatches, eb, 1)
	want := boom(taskFail)
	if rec := e.status(g.root, sig.Failed); rec.Error == nil || *rec.Error != want {
		t.Errorf("chain Error = %+v, want %+v", rec.Error, want)
	}
	expectFailure(t, "chain error callback", d.Payload, `1`, want)
	e.drain([]sig.Dispatch{d})
	e.once(eb)
	e.never(step1)
}

func testSuspendSwarmCountsResumeFills(t *testing.T, e *env) {
	g := e.graph(swarm(sig.SwarmConfig{MaxConcurrency: 2}, rets(4)...).success(task(taskEcho)))
	item := func(i int) string { return sig.ChildID(g.root, i) }
	e.start(g, `1`)
	run0, run1 := e.claim(item(0)), e.claim(item(1))
	e.apply(g.root, sig.OpSuspend)

	none(t, "an item ending in a suspended swarm", e.complete(item(0), run0, `0`))
	rec := e.status(g.root, sig.Suspended)
	if rec.Swarm.Done != 1 || rec.Swarm.Running != 1 {
		t.Errorf("suspended swarm accounting %+v, want Done 1 Running 1", *rec.Swarm)
	}
	e.never(item(2))

	d := only(t, "resume", e.apply(g.root, sig.OpResume).Dispatches, item(2), 1)
	expectJSON(t, "item 2 payload", d.Payload, `1`)
	if rec := e.status(item(1), sig.Active); rec.RunID != run1 {
		t.Errorf("running item after resume: RunID %q, want %s", rec.RunID, run1)
	}
	next := only(t, "item 1", e.complete(item(1), run1, `10`), item(3), 1)
	e.drain([]sig.Dispatch{d, next})
	expectJSON(t, "swarm Result", e.status(g.root, sig.Done).Result, retsResult(4))
	for i := range 4 {
		e.once(item(i))
	}
	e.once(sig.SuccessID(g.root, 0))
}

func testStartWhileSuspended(t *testing.T, e *env) {
	g := e.graph(chain(task(taskInc), task(taskDbl)))
	step0 := sig.ChildID(g.root, 0)
	e.create(g)
	e.apply(g.root, sig.OpSuspend)
	e.status(g.root, sig.Suspended)

	eff, err := e.s.StartGraph(e.ctx, g.root, []byte(`3`))
	if err != nil {
		t.Fatalf("StartGraph of a suspended graph: %v", err)
	}
	none(t, "StartGraph of a suspended graph", e.take(eff, g.root))
	rec := e.status(g.root, sig.Suspended)
	if !rec.Entered || rec.LastStatus != sig.Pending {
		t.Errorf("held chain: Entered %v LastStatus %s, want entered, pending", rec.Entered, rec.LastStatus)
	}
	expectJSON(t, "held chain Input", rec.Input, `3`)
	_, err = e.s.StartGraph(e.ctx, g.root, []byte(`3`))
	expectErr(t, "StartGraph of a held graph", err, storage.ErrState)

	d := only(t, "resume", e.apply(g.root, sig.OpResume).Dispatches, step0, 1)
	expectJSON(t, "step 0 payload", d.Payload, `3`)
	e.drain([]sig.Dispatch{d})
	expectJSON(t, "chain Result", e.status(g.root, sig.Done).Result, `8`)
}

func testInterruptResume(t *testing.T, e *env) {
	g := e.graph(swarm(sig.SwarmConfig{}, task(taskInc), task(taskDbl)))
	item0, item1 := sig.ChildID(g.root, 0), sig.ChildID(g.root, 1)
	e.start(g, `5`)
	run0, run1 := e.claim(item0), e.claim(item1)

	eff := e.apply(g.root, sig.OpInterrupt)
	none(t, "interrupt", eff.Dispatches)
	if !sameSet(eff.Cancels, []string{run0, run1}) {
		t.Errorf("interrupt Cancels = %v, want [%s %s]", eff.Cancels, run0, run1)
	}
	for _, id := range []string{g.root, item0, item1} {
		e.status(id, sig.Interrupted)
	}

	ds := e.apply(g.root, sig.OpResume).Dispatches
	if !sameSet(keysOf(ds), []string{key(item0, 2), key(item1, 2)}) {
		t.Fatalf("resume dispatched %v, want %s and %s", keysOf(ds), key(item0, 2), key(item1, 2))
	}
	for _, d := range ds {
		expectJSON(t, d.Target+" payload", d.Payload, `5`)
	}
	e.status(g.root, sig.Active)
	e.drain(ds)
	expectJSON(t, "swarm Result", e.status(g.root, sig.Done).Result, `[6,10]`)
}

func testCancelGraph(t *testing.T, e *env) {
	g := e.graph(chain(
		task(taskInc),
		task(taskInc).failure(task(taskEcho)),
		task(taskInc),
	).success(task(taskEcho)).failure(task(taskEcho)))
	step0, step1, step2 := sig.ChildID(g.root, 0), sig.ChildID(g.root, 1), sig.ChildID(g.root, 2)
	ds := e.start(g, `1`)
	only(t, "step 0", e.exec(ds[0]), step1, 1)
	run := e.claim(step1)

	before := time.Now()
	eff := e.apply(g.root, sig.OpCancel)
	after := time.Now()
	none(t, "cancel", eff.Dispatches)
	if !sameSet(eff.Cancels, []string{run}) {
		t.Errorf("cancel Cancels = %v, want [%s]", eff.Cancels, run)
	}
	for _, id := range g.ids() {
		rec := e.get(id)
		want := sig.Canceled
		if id == step0 {
			want = sig.Done
		}
		if rec.Status != want {
			t.Errorf("%s: Status = %s, want %s", id, rec.Status, want)
		}
		expectExpiry(t, rec, defaultDoneTTL, before, after)
	}

	_, err := e.s.Complete(e.ctx, step1, run, []byte(`3`))
	expectErr(t, "Complete of a canceled task", err, storage.ErrCanceled)
	_, err = e.s.Fail(e.ctx, step1, run, boom(taskInc))
	expectErr(t, "Fail of a canceled task", err, storage.ErrCanceled)
	e.claimOutcome(step1, run, storage.Dropped)
	e.claimOutcome(step2, e.newRun(), storage.Dropped)
	e.status(step1, sig.Canceled)
	e.never(step2, sig.ErrorID(step1, 0), sig.ErrorID(g.root, 0), sig.SuccessID(g.root, 0))
}

func testApplyEndedGraph(t *testing.T, e *env) {
	done := e.graph(task(taskInc))
	e.drain(e.start(done, `1`))
	e.status(done.root, sig.Done)
	for _, op := range []sig.Op{sig.OpSuspend, sig.OpInterrupt, sig.OpResume, sig.OpCancel} {
		_, err := e.s.Apply(e.ctx, done.root, op)
		expectErr(t, "Apply "+string(op)+" on a done graph", err, storage.ErrState)
	}
	e.status(done.root, sig.Done)

	canceled := e.graph(chain(task(taskInc), task(taskInc)))
	e.start(canceled, `1`)
	e.apply(canceled.root, sig.OpCancel)
	for _, op := range []sig.Op{sig.OpSuspend, sig.OpInterrupt, sig.OpResume, sig.OpCancel} {
		_, err := e.s.Apply(e.ctx, canceled.root, op)
		expectErr(t, "Apply "+string(op)+" on a canceled graph", err, storage.ErrState)
	}
	e.status(canceled.root, sig.Canceled)
}

func testResumeRunningGraph(t *testing.T, e *env) {
	g := e.graph(chain(task(taskInc), task(taskInc)))
	ds := e.start(g, `1`)
	_, err := e.s.Apply(e.ctx, g.root, sig.OpResume)
	expectErr(t, "resume of a running graph", err, storage.ErrState)
	e.status(g.root, sig.Active)
	e.drain(ds)
	e.status(g.root, sig.Done)
}

func testGraphEndedWhilePausedLeavesNothingPaused(t *testing.T, e *env) {
	for _, op := range []sig.Op{sig.OpSuspend, sig.OpInterrupt} {
		// the body done, its success callback running, its error
		// callback never entered: the pause finds the callback running,
		// and the callback ends the graph
		g := e.graph(chain(task(taskInc), task(taskDbl)).success(task(taskEcho)).failure(task(taskEcho)))
		ok, bad := sig.SuccessID(g.root, 0), sig.ErrorID(g.root, 0)
		ds := e.start(g, `1`)
		ds = e.exec(only(t, "start", ds, sig.ChildID(g.root, 0), 1))
		cb := only(t, "the chain's end", e.exec(only(t, "step 0", ds, sig.ChildID(g.root, 1), 1)), ok, 1)
		run := e.claim(cb.Target)
		e.apply(g.root, op)
		if st := e.get(bad).Status; !st.Paused() {
			t.Fatalf("%s: a record never entered is %s, want paused", op, st)
		}
		e.raw(e.s.Complete(e.ctx, ok, run, []byte(`4`)))
		if !e.status(g.root, sig.Done).Finished {
			t.Fatalf("%s: graph not finished after its last running task ended", op)
		}
		e.status(bad, sig.Pending)
	}
}

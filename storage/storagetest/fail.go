package storagetest

import (
	"testing"

	"github.com/mageflow-go/mageflow/sig"
)

// failCases check Fail.
func failCases() []testCase {
	return []testCase{
		{
			Name: "FailStopsChain",
			Rule: `A failing step stops its chain: later steps are never entered, the chain Fails with the step's ErrorInfo, and the step's and the chain's error callbacks are each dispatched once with {"input": <that node's input>, "error": <ErrorInfo>}.`,
			Test: testFailStopsChain,
		},
		{
			Name: "FailCallbackGetsNodeInput",
			Rule: `The error callbacks of a failed task with bound args get the task's input, not its args, in {"input","error"}; every error callback fires and no success callback does.`,
			Test: testFailCallbackGetsNodeInput,
		},
		{
			Name: "FailReplay",
			Rule: "Fail replayed by the same run on a Failed task returns the dispatches its outbox still owes and fails nothing twice; after Ack it returns none.",
			Test: testFailReplay,
		},
		{
			Name: "FailInterruptedIgnored",
			Rule: "Fail on an interrupted task is ignored (no error, no dispatch, no status change) and the task runs again on resume.",
			Test: testFailInterruptedIgnored,
		},
	}
}

func testFailStopsChain(t *testing.T, e *env) {
	g := e.graph(chain(
		task(taskInc).failure(task(taskEcho)),
		task(taskFail).failure(task(taskEcho)),
		task(taskInc),
	).success(task(taskEcho)).failure(task(taskEcho)))
	e.drain(e.start(g, `1`))
	step0, step1, step2 := sig.ChildID(g.root, 0), sig.ChildID(g.root, 1), sig.ChildID(g.root, 2)
	want := boom(taskFail)

	expectJSON(t, "step 0 Result", e.status(step0, sig.Done).Result, `2`)
	if rec := e.status(step1, sig.Failed); rec.Error == nil || *rec.Error != want {
		t.Errorf("step 1 Error = %+v, want %+v", rec.Error, want)
	}
	if rec := e.status(step2, sig.Pending); rec.Entered || rec.Gen != 0 {
		t.Errorf("step 2: Entered %v Gen %d, want never entered", rec.Entered, rec.Gen)
	}
	if rec := e.status(g.root, sig.Failed); rec.Error == nil || *rec.Error != want {
		t.Errorf("chain Error = %+v, want %+v", rec.Error, want)
	}
	expectFailure(t, "step 1 error callback", e.once(sig.ErrorID(step1, 0)).Payload, `2`, want)
	expectFailure(t, "chain error callback", e.once(sig.ErrorID(g.root, 0)).Payload, `1`, want)
	e.never(step2, sig.ErrorID(step0, 0), sig.SuccessID(g.root, 0))
}

func testFailCallbackGetsNodeInput(t *testing.T, e *env) {
	g := e.graph(task(taskFail).withArgs(`{"a":1}`).success(task(taskEcho)).failure(task(taskEcho), task(taskEcho)))
	e.drain(e.start(g, `{"n":5}`))
	want := boom(taskFail)
	if rec := e.status(g.root, sig.Failed); rec.Error == nil || *rec.Error != want {
		t.Errorf("Error = %+v, want %+v", rec.Error, want)
	}
	for i := range 2 {
		cb := sig.ErrorID(g.root, i)
		expectFailure(t, cb, e.once(cb).Payload, `{"n":5}`, want)
		e.status(cb, sig.Done)
	}
	e.never(sig.SuccessID(g.root, 0))
}

func testFailReplay(t *testing.T, e *env) {
	g := e.graph(task(taskFail).failure(task(taskEcho)))
	e.start(g, `1`)
	run := e.claim(g.root)
	eb := sig.ErrorID(g.root, 0)
	first, err := e.s.Fail(e.ctx, g.root, run, boom(taskFail))
	if err != nil {
		t.Fatalf("Fail: %v", err)
	}
	if first.Source != eb {
		t.Errorf("Effects.Source = %q, want the error callback %q, which owes its lone dispatch", first.Source, eb)
	}
	only(t, "Fail", first.Dispatches, eb, 1)
	replay, err := e.s.Fail(e.ctx, g.root, run, boom(taskFail))
	if err != nil {
		t.Fatalf("Fail replayed: %v", err)
	}
	only(t, "Fail replayed before Ack", replay.Dispatches, eb, 1)
	if rec := e.status(eb, sig.Pending); rec.Gen != 1 {
		t.Errorf("error callback Gen = %d after a replay, want 1", rec.Gen)
	}
	if err := e.s.Ack(e.ctx, first.Source, keysOf(first.Dispatches)); err != nil {
		t.Fatalf("Ack: %v", err)
	}
	replay, err = e.s.Fail(e.ctx, g.root, run, boom(taskFail))
	if err != nil {
		t.Fatalf("Fail replayed after Ack: %v", err)
	}
	none(t, "Fail replayed after Ack", replay.Dispatches)
	e.status(g.root, sig.Failed)
}

func testFailInterruptedIgnored(t *testing.T, e *env) {
	g := e.graph(chain(task(taskInc), task(taskDbl)).failure(task(taskEcho)))
	e.start(g, `1`)
	step0 := sig.ChildID(g.root, 0)
	run := e.claim(step0)
	eff := e.apply(g.root, sig.OpInterrupt)
	if !sameSet(eff.Cancels, []string{run}) {
		t.Errorf("interrupt Cancels = %v, want [%s]", eff.Cancels, run)
	}
	none(t, "interrupt", eff.Dispatches)

	eff, err := e.s.Fail(e.ctx, step0, run, boom(taskInc))
	if err != nil {
		t.Fatalf("Fail of an interrupted task: %v", err)
	}
	none(t, "Fail of an interrupted task", e.take(eff, step0))
	if rec := e.status(step0, sig.Interrupted); rec.Error != nil {
		t.Errorf("interrupted task after Fail: Error %+v, want none", rec.Error)
	}
	e.status(g.root, sig.Interrupted)

	d := only(t, "resume", e.apply(g.root, sig.OpResume).Dispatches, step0, 2)
	expectJSON(t, "re-dispatched payload", d.Payload, `1`)
	e.drain([]sig.Dispatch{d})
	expectJSON(t, "chain Result", e.status(g.root, sig.Done).Result, `4`)
	e.never(sig.ErrorID(g.root, 0))
}

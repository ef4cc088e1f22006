package storagetest

import (
	"testing"

	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
)

// completeCases check Complete and Ack.
func completeCases() []testCase {
	return []testCase{
		{
			Name: "ChainPassesResults",
			Rule: "Each chain step is entered with the previous step's result, one at a time; after the last step the chain is Done with its result.",
			Test: testChainPassesResults,
		},
		{
			Name: "SuccessCallbacks",
			Rule: "Completing a node enters each of its success callbacks once with its result: a step's callbacks with the step's result, the chain's with the chain's.",
			Test: testSuccessCallbacks,
		},
		{
			Name: "CallbackChain",
			Rule: "A chain as a success callback is entered with the result and runs its steps in order.",
			Test: testCallbackChain,
		},
		{
			Name: "CompleteNotOwner",
			Rule: "Complete or Fail by a run that does not hold the task returns ErrNotOwner and changes nothing.",
			Test: testCompleteNotOwner,
		},
		{
			Name: "CompleteReplay",
			Rule: "Complete replayed by the same run on a Done task returns the dispatches its outbox still owes and decides nothing new; after Ack it returns none.",
			Test: testCompleteReplay,
		},
		{
			Name: "AckRemovesGivenKeys",
			Rule: "Ack removes exactly the given keys from the outbox, and acknowledging a key twice is harmless.",
			Test: testAckRemovesGivenKeys,
		},
	}
}

func testChainPassesResults(t *testing.T, e *env) {
	g := e.graph(chain(task(taskInc), task(taskDbl), task(taskInc)))
	ds := e.start(g, `1`)
	for i, want := range []struct{ payload, result string }{{`1`, `2`}, {`2`, `4`}, {`4`, `5`}} {
		step := sig.ChildID(g.root, i)
		d := only(t, "entering the step", ds, step, 1)
		expectJSON(t, step+" payload", d.Payload, want.payload)
		if i < 2 {
			if rec := e.status(sig.ChildID(g.root, i+1), sig.Pending); rec.Entered {
				t.Errorf("step %d entered before step %d ended", i+1, i)
			}
		}
		ds = e.exec(d)
		expectJSON(t, step+" Result", e.status(step, sig.Done).Result, want.result)
		if i < 2 {
			if c := e.get(g.root).Cursor; c != i+1 {
				t.Errorf("chain Cursor = %d after step %d, want %d", c, i, i+1)
			}
		}
	}
	none(t, "the last step", ds)
	expectJSON(t, "chain Result", e.status(g.root, sig.Done).Result, `5`)
}

func testSuccessCallbacks(t *testing.T, e *env) {
	g := e.graph(chain(
		task(taskInc).success(task(taskEcho)),
		task(taskDbl),
	).success(task(taskEcho), task(taskEcho)).failure(task(taskEcho)))
	e.drain(e.start(g, `1`))
	expectJSON(t, "chain Result", e.status(g.root, sig.Done).Result, `4`)
	expectJSON(t, "step 0 callback payload", e.once(sig.SuccessID(sig.ChildID(g.root, 0), 0)).Payload, `2`)
	for i := range 2 {
		cb := sig.SuccessID(g.root, i)
		expectJSON(t, cb+" payload", e.once(cb).Payload, `4`)
		e.status(cb, sig.Done)
	}
	e.never(sig.ErrorID(g.root, 0))
}

func testCallbackChain(t *testing.T, e *env) {
	g := e.graph(task(taskInc).success(chain(task(taskDbl), task(taskInc))))
	e.drain(e.start(g, `1`))
	cb := sig.SuccessID(g.root, 0)
	expectJSON(t, "callback chain Input", e.status(cb, sig.Done).Input, `2`)
	expectJSON(t, "callback chain Result", e.get(cb).Result, `5`)
	expectJSON(t, "callback step 0 payload", e.once(sig.ChildID(cb, 0)).Payload, `2`)
	expectJSON(t, "callback step 1 payload", e.once(sig.ChildID(cb, 1)).Payload, `4`)
}

func testCompleteNotOwner(t *testing.T, e *env) {
	g := e.graph(task(taskInc).success(task(taskEcho)).failure(task(taskEcho)))
	e.start(g, `1`)
	run := e.claim(g.root)
	_, err := e.s.Complete(e.ctx, g.root, "intruder", []byte(`99`))
	expectErr(t, "Complete by another run", err, storage.ErrNotOwner)
	_, err = e.s.Fail(e.ctx, g.root, "intruder", boom("x"))
	expectErr(t, "Fail by another run", err, storage.ErrNotOwner)
	rec := e.status(g.root, sig.Active)
	if rec.RunID != run || rec.Result != nil || rec.Error != nil || len(rec.Outbox) != 0 {
		t.Errorf("after refused calls: RunID %q Result %s Error %v Outbox %v, want untouched", rec.RunID, rec.Result, rec.Error, keysOf(rec.Outbox))
	}
	e.status(sig.SuccessID(g.root, 0), sig.Pending)
	e.status(sig.ErrorID(g.root, 0), sig.Pending)

	only(t, "Complete by the owner", e.complete(g.root, run, `2`), sig.SuccessID(g.root, 0), 1)
	_, err = e.s.Complete(e.ctx, g.root, "intruder", []byte(`99`))
	expectErr(t, "Complete of a done task by another run", err, storage.ErrNotOwner)
	expectJSON(t, "Result", e.status(g.root, sig.Done).Result, `2`)
}

func testCompleteReplay(t *testing.T, e *env) {
	g := e.graph(chain(task(taskInc), task(taskDbl)))
	e.start(g, `1`)
	step0, step1 := sig.ChildID(g.root, 0), sig.ChildID(g.root, 1)
	run := e.claim(step0)
	first, err := e.s.Complete(e.ctx, step0, run, []byte(`2`))
	if err != nil {
		t.Fatalf("Complete: %v", err)
	}
	if first.Source != step1 {
		t.Errorf("Effects.Source = %q, want step 1 %q, which owes its lone dispatch", first.Source, step1)
	}
	only(t, "Complete", first.Dispatches, step1, 1)
	replay, err := e.s.Complete(e.ctx, step0, run, []byte(`2`))
	if err != nil {
		t.Fatalf("Complete replayed: %v", err)
	}
	d := only(t, "Complete replayed before Ack", replay.Dispatches, step1, 1)
	expectJSON(t, "replayed dispatch payload", d.Payload, `2`)
	if replay.Source != step1 {
		t.Errorf("replay Effects.Source = %q, want %q", replay.Source, step1)
	}
	if rec := e.status(step1, sig.Pending); rec.Gen != 1 {
		t.Errorf("step 1 Gen = %d after a replay, want 1", rec.Gen)
	}
	if err := e.s.Ack(e.ctx, replay.Source, keysOf(replay.Dispatches)); err != nil {
		t.Fatalf("Ack: %v", err)
	}
	replay, err = e.s.Complete(e.ctx, step0, run, []byte(`2`))
	if err != nil {
		t.Fatalf("Complete replayed after Ack: %v", err)
	}
	none(t, "Complete replayed after Ack", replay.Dispatches)
	expectJSON(t, "step 0 Result", e.status(step0, sig.Done).Result, `2`)
	if rec := e.status(g.root, sig.Active); rec.Cursor != 1 {
		t.Errorf("chain Cursor = %d after replays, want 1", rec.Cursor)
	}
	e.drain(first.Dispatches)
	expectJSON(t, "chain Result", e.status(g.root, sig.Done).Result, `4`)
	if rec := e.get(step1); rec.Gen != 1 {
		t.Errorf("step 1 Gen = %d at the end, want 1", rec.Gen)
	}
}

func testAckRemovesGivenKeys(t *testing.T, e *env) {
	g := e.graph(task(taskInc).success(task(taskEcho), task(taskEcho), task(taskEcho)))
	e.start(g, `1`)
	run := e.claim(g.root)
	eff, err := e.s.Complete(e.ctx, g.root, run, []byte(`2`))
	if err != nil {
		t.Fatalf("Complete: %v", err)
	}
	k := []string{key(sig.SuccessID(g.root, 0), 1), key(sig.SuccessID(g.root, 1), 1), key(sig.SuccessID(g.root, 2), 1)}
	if !sameSet(keysOf(eff.Dispatches), k) {
		t.Fatalf("Complete dispatched %v, want %v", keysOf(eff.Dispatches), k)
	}
	outbox := func(want ...string) {
		t.Helper()
		if got := keysOf(e.get(g.root).Outbox); !sameSet(got, want) {
			t.Errorf("outbox = %v, want %v", got, want)
		}
	}
	outbox(k...)
	ack := func(keys ...string) {
		t.Helper()
		if err := e.s.Ack(e.ctx, g.root, keys); err != nil {
			t.Fatalf("Ack(%v): %v", keys, err)
		}
	}
	ack(k[0])
	outbox(k[1], k[2])
	ack(k[0])
	outbox(k[1], k[2])
	ack(k[2])
	outbox(k[1])
	replay, err := e.s.Complete(e.ctx, g.root, run, []byte(`2`))
	if err != nil {
		t.Fatalf("Complete replayed: %v", err)
	}
	if !sameSet(keysOf(replay.Dispatches), k[1:2]) {
		t.Errorf("Complete replayed dispatched %v, want %v", keysOf(replay.Dispatches), k[1:2])
	}
	ack(k[1])
	outbox()
}

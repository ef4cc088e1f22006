package storagetest

import (
	"testing"
	"time"

	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
)

// createCases check CreateGraph, StartGraph, Get and the entry of a graph.
func createCases() []testCase {
	return []testCase{
		{
			Name: "CreateStoresPendingRecords",
			Rule: "CreateGraph without Start writes every record of the graph with Status Pending, the shape the caller set, timestamps, and ExpiresAt about ActiveTTL ahead.",
			Test: testCreateStoresPendingRecords,
		},
		{
			Name: "CreateExistingRoot",
			Rule: "CreateGraph with a root id that exists returns ErrExists and writes nothing.",
			Test: testCreateExistingRoot,
		},
		{
			Name: "UnknownIDNotFound",
			Rule: "Every operation on an id that was never created returns ErrNotFound.",
			Test: testUnknownIDNotFound,
		},
		{
			Name: "CreateStartDispatchesTask",
			Rule: "CreateGraph with Start enters the root: a task root is dispatched once with key <id>#1, its task name and the input as payload, from the root's outbox (Effects.Source is the root), and stays Pending until claimed.",
			Test: testCreateStartDispatchesTask,
		},
		{
			Name: "BoundArgsPayload",
			Rule: `A task with bound args A entered with v is dispatched with payload {"args":A,"in":v} and keeps v as its Input.`,
			Test: testBoundArgsPayload,
		},
		{
			Name: "NothingDispatchedBeforeStart",
			Rule: "A graph created without Start dispatches nothing and its tasks cannot be claimed; StartGraph enters it later; StartGraph on a started graph returns ErrState.",
			Test: testNothingDispatchedBeforeStart,
		},
		{
			Name: "StartChainEntersFirstStep",
			Rule: "Entering a chain makes it Active with Cursor 0 and dispatches only step 0, with the chain's input.",
			Test: testStartChainEntersFirstStep,
		},
	}
}

func testCreateStoresPendingRecords(t *testing.T, e *env) {
	g := e.graph(chain(
		task(taskInc).withArgs(`{"k":1,"tags":["a","b"]}`).success(task(taskEcho)),
		swarm(sig.SwarmConfig{MaxConcurrency: 2, StopAfterNFailures: 1, MaxItems: 5}, task("a"), task("b")).opened(),
	).success(task(taskEcho)).failure(task(taskEcho)))
	before := time.Now()
	e.create(g)
	after := time.Now()
	for _, want := range g.recs {
		got := e.get(want.ID)
		expectShape(t, got, want)
		if got.Status != sig.Pending {
			t.Errorf("%s: Status = %s, want pending", want.ID, got.Status)
		}
		if got.Entered || got.Gen != 0 || got.RunID != "" || got.Attempts != 0 || len(got.Outbox) != 0 {
			t.Errorf("%s: Entered %v Gen %d RunID %q Attempts %d Outbox %v, want a record not yet entered",
				want.ID, got.Entered, got.Gen, got.RunID, got.Attempts, keysOf(got.Outbox))
		}
		if got.CreatedAt.IsZero() {
			t.Errorf("%s: CreatedAt not set", want.ID)
		}
		expectExpiry(t, got, defaultActiveTTL, before, after)
	}
}

func testCreateExistingRoot(t *testing.T, e *env) {
	g := e.graph(task("first"))
	e.create(g)
	other := newGraph(g.root, task("second").success(task(taskEcho)), defaultTTLs)
	_, err := e.s.CreateGraph(e.ctx, other.stored(true, []byte(`1`)))
	expectErr(t, "CreateGraph of an existing root", err, storage.ErrExists)
	rec := e.status(g.root, sig.Pending)
	if rec.Name != "first" || rec.Entered || rec.Gen != 0 || rec.OnSuccess != 0 {
		t.Errorf("root after a refused CreateGraph: Name %q Entered %v Gen %d OnSuccess %d, want the first graph untouched",
			rec.Name, rec.Entered, rec.Gen, rec.OnSuccess)
	}
	_, err = e.s.Get(e.ctx, sig.SuccessID(g.root, 0))
	expectErr(t, "Get of a record of the refused graph", err, storage.ErrNotFound)

	_, err = e.s.CreateGraph(e.ctx, g.stored(false, nil))
	expectErr(t, "CreateGraph of the same graph again", err, storage.ErrExists)
}

func testUnknownIDNotFound(t *testing.T, e *env) {
	root := sig.NewRootID(time.Now())
	_, err := e.s.Get(e.ctx, root)
	expectErr(t, "Get", err, storage.ErrNotFound)
	_, err = e.s.Claim(e.ctx, root, "run")
	expectErr(t, "Claim", err, storage.ErrNotFound)
	_, err = e.s.Complete(e.ctx, root, "run", []byte(`1`))
	expectErr(t, "Complete", err, storage.ErrNotFound)
	_, err = e.s.Fail(e.ctx, root, "run", boom("x"))
	expectErr(t, "Fail", err, storage.ErrNotFound)
	_, err = e.s.StartGraph(e.ctx, root, []byte(`1`))
	expectErr(t, "StartGraph", err, storage.ErrNotFound)
	_, err = e.s.Apply(e.ctx, root, sig.OpSuspend)
	expectErr(t, "Apply", err, storage.ErrNotFound)
	_, err = e.s.CloseSwarm(e.ctx, root)
	expectErr(t, "CloseSwarm", err, storage.ErrNotFound)
	_, err = e.s.AddItems(e.ctx, root, 0, lowerItems(root, root, 0, task("a")))
	expectErr(t, "AddItems", err, storage.ErrNotFound)

	g := e.graph(chain(task("a"), task("b")))
	e.create(g)
	for _, id := range []string{sig.ChildID(g.root, 2), sig.SuccessID(g.root, 0), sig.ChildID(sig.ChildID(g.root, 0), 0)} {
		_, err = e.s.Get(e.ctx, id)
		expectErr(t, "Get of an unknown id under a known root", err, storage.ErrNotFound)
		_, err = e.s.Claim(e.ctx, id, "run")
		expectErr(t, "Claim of an unknown id under a known root", err, storage.ErrNotFound)
	}
}

func testCreateStartDispatchesTask(t *testing.T, e *env) {
	g := e.graph(task(taskInc))
	eff, err := e.s.CreateGraph(e.ctx, g.stored(true, []byte(`41`)))
	if err != nil {
		t.Fatalf("CreateGraph: %v", err)
	}
	if eff.Source != g.root {
		t.Errorf("Effects.Source = %q, want the root %q", eff.Source, g.root)
	}
	if len(eff.Cancels) != 0 {
		t.Errorf("Effects.Cancels = %v, want none", eff.Cancels)
	}
	rec := e.status(g.root, sig.Pending)
	if len(rec.Outbox) != 1 || rec.Outbox[0].Key != key(g.root, 1) {
		t.Errorf("root outbox before Ack = %v, want [%s]", keysOf(rec.Outbox), key(g.root, 1))
	}
	d := only(t, "CreateGraph", e.take(eff, g.root), g.root, 1)
	if d.Task != taskInc || d.Root != g.root {
		t.Errorf("dispatch = %+v, want task %q root %q", d, taskInc, g.root)
	}
	expectJSON(t, "payload", d.Payload, `41`)
	rec = e.status(g.root, sig.Pending)
	if !rec.Entered || rec.Gen != 1 {
		t.Errorf("root: Entered %v Gen %d, want entered, Gen 1", rec.Entered, rec.Gen)
	}
	expectJSON(t, "root Input", rec.Input, `41`)
}

func testBoundArgsPayload(t *testing.T, e *env) {
	g := e.graph(task(taskEcho).withArgs(`{"factor":3,"tag":"x"}`))
	d := only(t, "CreateGraph", e.start(g, `{"n":7}`), g.root, 1)
	expectJSON(t, "payload of a root with args", d.Payload, `{"args":{"factor":3,"tag":"x"},"in":{"n":7}}`)
	expectJSON(t, "Input of a root with args", e.get(g.root).Input, `{"n":7}`)

	g = e.graph(chain(task(taskInc), task(taskEcho).withArgs(`[1,"two"]`)))
	e.drain(e.start(g, `1`))
	step := sig.ChildID(g.root, 1)
	expectJSON(t, "payload of a step with args", e.once(step).Payload, `{"args":[1,"two"],"in":2}`)
	expectJSON(t, "Input of a step with args", e.get(step).Input, `2`)
}

func testNothingDispatchedBeforeStart(t *testing.T, e *env) {
	g := e.graph(chain(task(taskInc), task(taskInc)))
	e.create(g)
	step0 := sig.ChildID(g.root, 0)
	e.claimOutcome(step0, e.newRun(), storage.Dropped)
	if rec := e.status(step0, sig.Pending); rec.RunID != "" || rec.Attempts != 0 {
		t.Errorf("step 0 after a claim before start: RunID %q Attempts %d, want unclaimed", rec.RunID, rec.Attempts)
	}
	e.status(g.root, sig.Pending)

	eff, err := e.s.StartGraph(e.ctx, g.root, []byte(`1`))
	if err != nil {
		t.Fatalf("StartGraph: %v", err)
	}
	d := only(t, "StartGraph", e.take(eff, g.root), step0, 1)
	expectJSON(t, "step 0 payload", d.Payload, `1`)
	e.status(g.root, sig.Active)

	_, err = e.s.StartGraph(e.ctx, g.root, []byte(`1`))
	expectErr(t, "StartGraph twice", err, storage.ErrState)
	if n := e.get(step0).Gen; n != 1 {
		t.Errorf("step 0 Gen = %d after a refused StartGraph, want 1", n)
	}

	started := e.graph(task(taskInc))
	e.start(started, `1`)
	_, err = e.s.StartGraph(e.ctx, started.root, []byte(`1`))
	expectErr(t, "StartGraph of a graph created with Start", err, storage.ErrState)
}

func testStartChainEntersFirstStep(t *testing.T, e *env) {
	g := e.graph(chain(task(taskInc), task(taskDbl), task(taskInc)))
	only(t, "CreateGraph", e.start(g, `5`), sig.ChildID(g.root, 0), 1)
	expectJSON(t, "step 0 payload", e.once(sig.ChildID(g.root, 0)).Payload, `5`)
	rec := e.status(g.root, sig.Active)
	if !rec.Entered || rec.Cursor != 0 {
		t.Errorf("chain: Entered %v Cursor %d, want entered at 0", rec.Entered, rec.Cursor)
	}
	expectJSON(t, "chain Input", rec.Input, `5`)
	for i := 1; i < 3; i++ {
		if rec := e.status(sig.ChildID(g.root, i), sig.Pending); rec.Entered || rec.Gen != 0 {
			t.Errorf("step %d: Entered %v Gen %d, want not entered", i, rec.Entered, rec.Gen)
		}
	}
}

package storagetest

import (
	"errors"
	"fmt"
	"slices"
	"testing"
	"time"

	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
)

// owedCases check that every effect a transition decides is kept until it
// is delivered, and that owed effects are found without a scan.
func owedCases() []testCase {
	return []testCase{
		{
			Name: "ClaimTakesItsDispatch",
			Rule: "A lone dispatch is owed by its target, in the target's own outbox (its source's Lone names the target), until the target's claim takes it out: no outbox keeps what was delivered.",
			Test: testClaimTakesItsDispatch,
		},
		{
			Name: "FedSwarmOutboxStaysEmpty",
			Rule: "A swarm fed one item at a time, each item claimed, keeps no dispatch in its outbox (it does not grow with the swarm).",
			Test: testFedSwarmOutboxStaysEmpty,
		},
		{
			Name: "DueNamesWhatIsOwed",
			Rule: "Due names a record whose outbox holds effects for at least the age asked, then not again for that age; Owed returns its effects; once they are acknowledged Due names it no more.",
			Test: testDueNamesWhatIsOwed,
		},
		{
			Name: "OwedDropsWhatIsMoot",
			Rule: "A dispatch whose target was canceled before it was delivered is owed no more: the cancel takes it out of the outbox, and Due does not name its record.",
			Test: testOwedDropsWhatIsMoot,
		},
		{
			Name: "CancelsAreOwedUntilAcked",
			Rule: "An interrupt's and a swarm's failure limit's cancels of running tasks are in the outbox of the record that decided them (key \"cancel <run>\"), returned by Owed and named by Due until acknowledged.",
			Test: testCancelsAreOwedUntilAcked,
		},
		{
			Name: "CancelOwesTheFlowsTasksStarted",
			Rule: "Spawn raises a task's Spawned count (never lowers it) and is refused with ErrCanceled on a canceled task; cancel owes, for every task that started flows, an entry (key \"flows <task>\", Spawned) in Effects.Flows and the root's outbox, until acknowledged.",
			Test: testCancelOwesTheFlowsTasksStarted,
		},
		{
			Name: "TaskRootEndedWhilePausedKeepsCallbacks",
			Rule: "A task root that completes while its graph is suspended holds its callbacks: resume dispatches them and the graph then finishes; cancel instead drops them and finishes it.",
			Test: testTaskRootEndedWhilePausedKeepsCallbacks,
		},
		{
			Name: "ResumeAfterInterruptDispatchesOwedStep",
			Rule: "A dispatched task that was not claimed when its graph was interrupted (its dispatch may never have been sent) is dispatched again on resume.",
			Test: testResumeAfterInterruptDispatchesOwedStep,
		},
		{
			Name: "ResumeVisitsRecordsInPlaceOrder",
			Rule: "Resume dispatches the items of an interrupted swarm in item order (2 before 10), on every store.",
			Test: testResumeVisitsRecordsInPlaceOrder,
		},
	}
}

// raw performs a transition without acknowledging its effects, as a
// process that died right after it would.
func (e *env) raw(eff storage.Effects, err error) storage.Effects {
	e.t.Helper()
	if err != nil {
		e.t.Fatalf("transition: %v", err)
	}
	return eff
}

// outbox returns the keys in record id's outbox.
func (e *env) outbox(id string) []string {
	e.t.Helper()
	return keysOf(e.get(id).Outbox)
}

// due returns the ids Due(age) names.
func (e *env) due(age time.Duration) []string {
	e.t.Helper()
	ids, err := e.s.Due(e.ctx, age, 1000)
	if err != nil {
		e.t.Fatalf("Due(%v): %v", age, err)
	}
	return ids
}

func testClaimTakesItsDispatch(t *testing.T, e *env) {
	g := e.graph(chain(task(taskInc), task(taskDbl)))
	step0, step1 := sig.ChildID(g.root, 0), sig.ChildID(g.root, 1)
	e.raw(e.s.CreateGraph(e.ctx, g.stored(true, []byte(`1`))))
	if got := e.outbox(g.root); len(got) != 0 {
		t.Fatalf("root outbox after the start = %v, want empty: a lone dispatch is its target's", got)
	}
	if got := e.outbox(step0); !slices.Equal(got, []string{step0 + "#1"}) {
		t.Fatalf("step 0 outbox after the start = %v, want [%s#1]", got, step0)
	}
	if lone := e.get(g.root).Lone; lone != step0 {
		t.Errorf("root Lone = %q, want %q", lone, step0)
	}
	// who sends what the root owes (a Start repeated after a lost reply)
	// sends the lone dispatch too
	if owed, err := e.s.Owed(e.ctx, g.root); err != nil || !slices.Equal(keysOf(owed.Dispatches), []string{step0 + "#1"}) {
		t.Errorf("Owed(root) after the start = %v, %v; want [%s#1]", keysOf(owed.Dispatches), err, step0)
	}
	run := e.claim(step0)
	if got := e.outbox(step0); len(got) != 0 {
		t.Errorf("step 0 outbox after it was claimed = %v, want empty", got)
	}
	e.raw(e.s.Complete(e.ctx, step0, run, []byte(`2`)))
	if got := e.outbox(step1); !slices.Equal(got, []string{step1 + "#1"}) {
		t.Fatalf("step 1 outbox = %v, want [%s#1]", got, step1)
	}
	if got := e.outbox(step0); len(got) != 0 {
		t.Fatalf("step 0 outbox = %v, want empty", got)
	}
	run = e.claim(step1)
	if got := e.outbox(step1); len(got) != 0 {
		t.Errorf("step 1 outbox after it was claimed = %v, want empty", got)
	}
	e.raw(e.s.Complete(e.ctx, step1, run, []byte(`4`)))
	for _, id := range g.ids() {
		if got := e.outbox(id); len(got) != 0 {
			t.Errorf("outbox of %s after the graph ended = %v, want empty", id, got)
		}
	}
}

func testFedSwarmOutboxStaysEmpty(t *testing.T, e *env) {
	g := e.graph(swarm(sig.SwarmConfig{MaxConcurrency: 100}).opened())
	e.create(g)
	e.raw(e.s.StartGraph(e.ctx, g.root, []byte(`1`)))
	const n = 40
	for i := 0; i < n; i++ {
		eff := e.raw(e.s.AddItems(e.ctx, g.root, i, e.items(g, g.root, i, task(taskInc))))
		item := sig.ChildID(g.root, i)
		only(t, fmt.Sprintf("add item %d", i), eff.Dispatches, item, 1)
		e.claim(item)
	}
	if got := e.outbox(g.root); len(got) != 0 {
		t.Errorf("swarm outbox after %d items were added and claimed holds %d dispatches, want none", n, len(got))
	}
}

func testDueNamesWhatIsOwed(t *testing.T, e *env) {
	g := e.graph(swarm(sig.SwarmConfig{}, task(taskInc), task(taskDbl)))
	eff := e.raw(e.s.CreateGraph(e.ctx, g.stored(true, []byte(`1`))))
	if len(eff.Dispatches) != 2 {
		t.Fatalf("start dispatched %v, want both items", targets(eff.Dispatches))
	}
	if ids := e.due(time.Hour); slices.Contains(ids, g.root) {
		t.Errorf("Due(1h) right after the start names %s", g.root)
	}
	if ids := e.due(0); !slices.Contains(ids, g.root) {
		t.Fatalf("Due(0) = %v, want it to name %s, whose outbox owes two dispatches", ids, g.root)
	}
	if ids := e.due(time.Hour); slices.Contains(ids, g.root) {
		t.Errorf("Due(1h) right after Due(0) named %s again", g.root)
	}
	owed, err := e.s.Owed(e.ctx, g.root)
	if err != nil {
		t.Fatalf("Owed(%s): %v", g.root, err)
	}
	if !slices.Equal(keysOf(owed.Dispatches), keysOf(eff.Dispatches)) || owed.Source != g.root || len(owed.Cancels) != 0 {
		t.Errorf("Owed(%s) = %v from %q, cancels %v; want %v from the root", g.root, keysOf(owed.Dispatches), owed.Source, owed.Cancels, keysOf(eff.Dispatches))
	}
	// one item delivered (claimed), the other acknowledged
	e.claim(eff.Dispatches[0].Target)
	if owed, err = e.s.Owed(e.ctx, g.root); err != nil || !slices.Equal(keysOf(owed.Dispatches), keysOf(eff.Dispatches[1:])) {
		t.Errorf("Owed(%s) after one item was claimed = %v, %v; want %v", g.root, keysOf(owed.Dispatches), err, keysOf(eff.Dispatches[1:]))
	}
	if err := e.s.Ack(e.ctx, g.root, keysOf(eff.Dispatches[1:])); err != nil {
		t.Fatal(err)
	}
	if ids := e.due(0); slices.Contains(ids, g.root) {
		t.Errorf("Due(0) after every effect was delivered names %s (outbox %v)", g.root, e.outbox(g.root))
	}
	if owed, err = e.s.Owed(e.ctx, g.root); err != nil || len(owed.Dispatches)+len(owed.Cancels) != 0 {
		t.Errorf("Owed(%s) after every effect was delivered = %v, %v; want nothing", g.root, owed, err)
	}
	if _, err := e.s.Owed(e.ctx, sig.NewRootID(time.Now())); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Owed of a missing record = %v, want ErrNotFound", err)
	}
}

func testOwedDropsWhatIsMoot(t *testing.T, e *env) {
	g := e.graph(chain(task(taskInc), task(taskDbl)))
	step0 := sig.ChildID(g.root, 0)
	e.raw(e.s.CreateGraph(e.ctx, g.stored(true, []byte(`1`))))
	e.apply(g.root, sig.OpCancel)
	if got := e.outbox(g.root); len(got) != 0 {
		t.Errorf("root outbox after a cancel = %v, want the dispatch of %s gone", got, step0)
	}
	if ids := e.due(0); slices.Contains(ids, g.root) {
		t.Errorf("Due(0) after the cancel names %s", g.root)
	}
	e.claimOutcome(step0, e.newRun(), storage.Dropped)
}

func testCancelsAreOwedUntilAcked(t *testing.T, e *env) {
	g := e.graph(chain(task(taskInc), task(taskDbl)))
	step0 := sig.ChildID(g.root, 0)
	e.start(g, `1`)
	run := e.claim(step0)
	eff := e.raw(e.s.Apply(e.ctx, g.root, sig.OpInterrupt))
	if !slices.Equal(eff.Cancels, []string{run}) {
		t.Fatalf("interrupt Cancels = %v, want [%s]", eff.Cancels, run)
	}
	key := "cancel " + run
	if got := e.get(g.root).Outbox; len(got) != 1 || got[0].Key != key || got[0].Cancel != run || got[0].Target != step0 {
		t.Fatalf("root outbox after the interrupt = %+v, want one cancel of %s keyed %q", got, run, key)
	}
	owed, err := e.s.Owed(e.ctx, g.root)
	if err != nil || !slices.Equal(owed.Cancels, []string{run}) || len(owed.Dispatches) != 0 {
		t.Fatalf("Owed(%s) = %+v, %v; want the cancel of %s", g.root, owed, err, run)
	}
	if ids := e.due(0); !slices.Contains(ids, g.root) {
		t.Errorf("Due(0) = %v, want %s, which owes a cancel", ids, g.root)
	}
	if err := e.s.Ack(e.ctx, g.root, []string{key}); err != nil {
		t.Fatal(err)
	}
	if owed, err := e.s.Owed(e.ctx, g.root); err != nil || len(owed.Cancels) != 0 {
		t.Errorf("Owed(%s) after the ack = %+v, %v; want nothing", g.root, owed, err)
	}

	// a swarm stopping at its failure limit
	g = e.graph(swarm(sig.SwarmConfig{StopAfterNFailures: 1}, task(taskFail), task(taskInc)))
	item0, item1 := sig.ChildID(g.root, 0), sig.ChildID(g.root, 1)
	e.start(g, `1`)
	run0, run1 := e.claim(item0), e.claim(item1)
	eff = e.raw(e.s.Fail(e.ctx, item0, run0, sig.ErrorInfo{Task: taskFail, Message: "boom", Attempts: 1, Kind: sig.ErrorTask}))
	if !slices.Equal(eff.Cancels, []string{run1}) || eff.Source != item0 {
		t.Fatalf("failure limit Cancels = %v from %q, want [%s] from %s", eff.Cancels, eff.Source, run1, item0)
	}
	if owed, err := e.s.Owed(e.ctx, item0); err != nil || !slices.Equal(owed.Cancels, []string{run1}) {
		t.Errorf("Owed(%s) = %+v, %v; want the cancel of %s", item0, owed, err, run1)
	}
}

func testTaskRootEndedWhilePausedKeepsCallbacks(t *testing.T, e *env) {
	for _, resume := range []bool{true, false} {
		g := e.graph(task(taskInc).success(task(taskEcho)))
		cb := sig.SuccessID(g.root, 0)
		e.start(g, `1`)
		run := e.claim(g.root)
		e.apply(g.root, sig.OpSuspend)
		none(t, "completing a suspended task root", e.complete(g.root, run, `2`))
		e.status(g.root, sig.Done)
		if rec := e.status(cb, sig.Suspended); !rec.Held {
			t.Fatalf("success callback of a root that completed while suspended: Held false, want held")
		}
		if e.get(g.root).Finished {
			t.Fatalf("graph finished while its callback is held")
		}
		if !resume {
			eff := e.apply(g.root, sig.OpCancel)
			none(t, "cancel", eff.Dispatches)
			e.status(cb, sig.Canceled)
			if !e.get(g.root).Finished {
				t.Errorf("graph not finished after its held callback was canceled")
			}
			continue
		}
		d := only(t, "resume", e.apply(g.root, sig.OpResume).Dispatches, cb, 1)
		expectJSON(t, "callback payload", d.Payload, `2`)
		e.drain([]sig.Dispatch{d})
		e.status(cb, sig.Done)
		if !e.get(g.root).Finished {
			t.Errorf("graph not finished after its callback ran")
		}
	}
}

func testResumeAfterInterruptDispatchesOwedStep(t *testing.T, e *env) {
	g := e.graph(chain(task(taskInc), task(taskDbl)))
	step0, step1 := sig.ChildID(g.root, 0), sig.ChildID(g.root, 1)
	e.start(g, `1`)
	run := e.claim(step0)
	// step 0's result is stored; its process dies before sending step 1
	e.raw(e.s.Complete(e.ctx, step0, run, []byte(`2`)))
	e.apply(g.root, sig.OpInterrupt)
	d := only(t, "resume", e.apply(g.root, sig.OpResume).Dispatches, step1, 2)
	expectJSON(t, "step 1 payload", d.Payload, `2`)
	e.drain([]sig.Dispatch{d})
	expectJSON(t, "chain Result", e.status(g.root, sig.Done).Result, `4`)
}

func testResumeVisitsRecordsInPlaceOrder(t *testing.T, e *env) {
	const n = 12
	items := make([]*node, n)
	for i := range items {
		items[i] = task(taskInc)
	}
	g := e.graph(swarm(sig.SwarmConfig{MaxConcurrency: n}, items...))
	ds := e.start(g, `1`)
	for _, d := range ds {
		e.claim(d.Target)
	}
	e.apply(g.root, sig.OpInterrupt)
	got := targets(e.apply(g.root, sig.OpResume).Dispatches)
	want := make([]string, n)
	for i := range want {
		want[i] = sig.ChildID(g.root, i)
	}
	if !slices.Equal(got, want) {
		t.Errorf("resume dispatched %v, want item order %v", got, want)
	}
}

func testCancelOwesTheFlowsTasksStarted(t *testing.T, e *env) {
	g := e.graph(chain(task(taskInc), task(taskDbl)))
	step0, step1 := sig.ChildID(g.root, 0), sig.ChildID(g.root, 1)
	e.start(g, `1`)
	run := e.claim(step0)
	for _, n := range []int{1, 3, 2} {
		if err := e.s.Spawn(e.ctx, step0, n); err != nil {
			t.Fatalf("Spawn(%s, %d): %v", step0, n, err)
		}
	}
	if got := e.get(step0).Spawned; got != 3 {
		t.Errorf("Spawned = %d after Spawn 1, 3, 2; want 3", got)
	}
	if err := e.s.Spawn(e.ctx, g.root, 1); !errors.Is(err, storage.ErrState) {
		t.Errorf("Spawn on a chain = %v, want ErrState", err)
	}
	e.take(e.raw(e.s.Complete(e.ctx, step0, run, []byte(`2`))), step0)
	run = e.claim(step1)
	if err := e.s.Spawn(e.ctx, step1, 1); err != nil {
		t.Fatal(err)
	}
	eff := e.raw(e.s.Apply(e.ctx, g.root, sig.OpCancel))
	if len(eff.Flows) != 2 || eff.Flows[0].Target != step0 || eff.Flows[0].Spawned != 3 || eff.Flows[1].Target != step1 || eff.Flows[1].Spawned != 1 {
		t.Fatalf("cancel Flows = %+v, want %s's 3 flows, then %s's 1", eff.Flows, step0, step1)
	}
	if !slices.Equal(eff.Cancels, []string{run}) {
		t.Errorf("cancel Cancels = %v, want [%s]", eff.Cancels, run)
	}
	keys := e.outbox(g.root)
	for _, want := range []string{"flows " + step0, "flows " + step1, "cancel " + run} {
		if !slices.Contains(keys, want) {
			t.Errorf("root outbox %v lacks %q", keys, want)
		}
	}
	owed, err := e.s.Owed(e.ctx, g.root)
	if err != nil || len(owed.Flows) != 2 {
		t.Fatalf("Owed(%s) = %+v, %v; want both flows entries", g.root, owed, err)
	}
	if err := e.s.Spawn(e.ctx, step1, 2); !errors.Is(err, storage.ErrCanceled) {
		t.Errorf("Spawn on a canceled task = %v, want ErrCanceled", err)
	}
	if err := e.s.Ack(e.ctx, g.root, keys); err != nil {
		t.Fatal(err)
	}
	if owed, err := e.s.Owed(e.ctx, g.root); err != nil || len(owed.Flows)+len(owed.Cancels) != 0 {
		t.Errorf("Owed(%s) after the ack = %+v, %v; want nothing", g.root, owed, err)
	}
}

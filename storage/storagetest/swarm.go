package storagetest

import (
	"fmt"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
)

// swarmCases check swarms: concurrency, results, failures, growth,
// closing and nesting.
func swarmCases() []testCase {
	return []testCase{
		{
			Name: "SettledSwarmListsOutcomes",
			Rule: `A settled swarm completes with every item's outcome in item order: {"index": i, "result": R} for a done item, {"index": i, "error": <ErrorInfo>} for a failed one; its success callbacks get that list.`,
			Test: testSettledSwarmListsOutcomes,
		},
		{
			Name: "SwarmConcurrencyLimit",
			Rule: "A swarm runs at most MaxConcurrency items at once, starts them in item order, each with the swarm's input, and each ending item frees one slot for the next.",
			Test: testSwarmConcurrencyLimit,
		},
		{
			Name: "SwarmDefaultConcurrency",
			Rule: "A swarm whose MaxConcurrency is zero runs DefaultMaxConcurrency items at once.",
			Test: testSwarmDefaultConcurrency,
		},
		{
			Name: "SwarmResultInItemOrder",
			Rule: "A swarm's result is the JSON array of its items' results in item order, whatever order they completed in, and its success callbacks get it.",
			Test: testSwarmResultInItemOrder,
		},
		{
			Name: "SwarmToleratesFailures",
			Rule: "Without StopAfterNFailures a swarm tolerates failed items: it completes with the results of its Done items only, in item order, and its error callbacks never fire.",
			Test: testSwarmToleratesFailures,
		},
		{
			Name: "SwarmAllItemsFailed",
			Rule: "A tolerant swarm whose every item failed completes with the empty JSON array [].",
			Test: testSwarmAllItemsFailed,
		},
		{
			Name: "SwarmStopAfterNFailures",
			Rule: "A swarm fails once, with Kind swarm, when StopAfterNFailures items failed: its error callbacks fire once, items not started never start, items started and not ended are stopped (Canceled, their running tasks' runs in Cancels, their late results refused with ErrCanceled), and the graph ends only when its error callback ended.",
			Test: testSwarmStopAfterNFailures,
		},
		{
			Name: "SwarmStopCancelsNestedItems",
			Rule: "A swarm stopped at its failure limit stops the whole subtree of each unfinished item: a chain item's running step is canceled (its run in Cancels), its later steps and its callbacks never run.",
			Test: testSwarmStopCancelsNestedItems,
		},
		{
			Name: "SwarmOpenWaitsForClose",
			Rule: "An open swarm does not complete while items may still come; CloseSwarm completes it once every item ended, from the swarm's outbox.",
			Test: testSwarmOpenWaitsForClose,
		},
		{
			Name: "CloseSwarmRules",
			Rule: "CloseSwarm of a swarm with no items completes it with an empty result (at once, or when it starts); on a swarm that failed, or on a task, it returns ErrState; closing a closed swarm that runs is a no-op.",
			Test: testCloseSwarmRules,
		},
		{
			Name: "AddItems",
			Rule: "AddItems appends items from base and starts them when slots are free; a base that is not the item count is ErrConflict; passing MaxItems is ErrState and writes nothing; reaching MaxItems closes the swarm.",
			Test: testAddItems,
		},
		{
			Name: "AddItemsBeforeStart",
			Rule: "Items added to a swarm that was not started are stored and start with it.",
			Test: testAddItemsBeforeStart,
		},
		{
			Name: "SwarmStartsNamed",
			Rule: "An operation that starts a swarm's items (entering it, resuming it, held or suspended while it ran, retrying it, adding items to it while it runs) names the swarm in its effects' Swarms, with the name the tools show (its label, else its name), once per operation; an operation that starts none has no Swarms.",
			Test: testSwarmStartsNamed,
		},
		{
			Name: "SwarmChainItem",
			Rule: "A chain as a swarm item gets the swarm's input, runs its steps, and its result takes its place in the swarm's result.",
			Test: testSwarmChainItem,
		},
		{
			Name: "ChainSwarmStep",
			Rule: "A swarm as a chain step gets the previous step's result as every item's input, and the next step gets the swarm's result array.",
			Test: testChainSwarmStep,
		},
	}
}

// rets returns n tasks; item i returns i*10.
func rets(n int) []*node {
	items := make([]*node, n)
	for i := range items {
		items[i] = task(fmt.Sprintf("%s%d", taskRet, i*10))
	}
	return items
}

// retsResult is the JSON result of a swarm of rets(n) whose items were all
// Done, skipping the indexes in failed.
func retsResult(n int, failed ...int) string {
	var parts []string
	for i := range n {
		skip := false
		for _, f := range failed {
			skip = skip || f == i
		}
		if !skip {
			parts = append(parts, strconv.Itoa(i*10))
		}
	}
	return "[" + strings.Join(parts, ",") + "]"
}

// itemIndex returns the item index of id under swarm, or -1.
func itemIndex(swarm, id string) int {
	rest, ok := strings.CutPrefix(id, swarm+".")
	if !ok {
		return -1
	}
	i, err := strconv.Atoi(rest)
	if err != nil {
		return -1
	}
	return i
}

func testSwarmConcurrencyLimit(t *testing.T, e *env) {
	const n, limit = 10, 3
	g := e.graph(swarm(sig.SwarmConfig{MaxConcurrency: limit}, rets(n)...).success(task(taskEcho)))
	cb := sig.SuccessID(g.root, 0)
	running := map[string]sig.Dispatch{}
	var order []int
	admit := func(ds []sig.Dispatch) {
		t.Helper()
		ds = slices.Clone(ds)
		slices.SortFunc(ds, func(a, b sig.Dispatch) int {
			return itemIndex(g.root, a.Target) - itemIndex(g.root, b.Target)
		})
		for _, d := range ds {
			if d.Target == cb {
				continue
			}
			i := itemIndex(g.root, d.Target)
			if i < 0 {
				t.Fatalf("unexpected dispatch %s", d.Key)
			}
			expectJSON(t, d.Target+" payload", d.Payload, `7`)
			running[d.Target] = d
			order = append(order, i)
		}
		if len(running) > limit {
			t.Fatalf("%d items dispatched and not ended, want at most %d", len(running), limit)
		}
	}
	admit(e.start(g, `7`))
	if len(running) != limit {
		t.Fatalf("start dispatched %d items, want %d", len(running), limit)
	}
	if rec := e.status(g.root, sig.Active); rec.Swarm.Running != limit || rec.Swarm.Next != limit {
		t.Errorf("swarm after start: Running %d Next %d, want %d %d", rec.Swarm.Running, rec.Swarm.Next, limit, limit)
	}
	for len(running) > 0 {
		// End the highest running item: later items overtake earlier ones.
		var last string
		for id := range running {
			if last == "" || itemIndex(g.root, id) > itemIndex(g.root, last) {
				last = id
			}
		}
		d := running[last]
		delete(running, last)
		started := len(order)
		ds := e.exec(d)
		admit(ds)
		if want := min(1, n-started); len(order)-started != want {
			t.Fatalf("ending %s started %d items, want %d", d.Target, len(order)-started, want)
		}
	}
	for i, got := range order {
		if got != i {
			t.Fatalf("items started in order %v, want 0..%d", order, n-1)
		}
	}
	rec := e.status(g.root, sig.Done)
	expectJSON(t, "swarm Result", rec.Result, retsResult(n))
	if rec.Swarm.Running != 0 || rec.Swarm.Done != n || rec.Swarm.Next != n {
		t.Errorf("swarm accounting %+v, want Running 0 Done %d Next %d", *rec.Swarm, n, n)
	}
	expectJSON(t, "callback payload", e.once(cb).Payload, retsResult(n))
}

func testSwarmDefaultConcurrency(t *testing.T, e *env) {
	n := sig.DefaultMaxConcurrency + 5
	g := e.graph(swarm(sig.SwarmConfig{}, rets(n)...))
	ds := e.start(g, `{"x":1}`)
	if len(ds) != sig.DefaultMaxConcurrency {
		t.Fatalf("start dispatched %d items, want %d", len(ds), sig.DefaultMaxConcurrency)
	}
	for i := range sig.DefaultMaxConcurrency {
		expectJSON(t, "item payload", e.once(sig.ChildID(g.root, i)).Payload, `{"x":1}`)
	}
	e.drain(ds)
	expectJSON(t, "swarm Result", e.status(g.root, sig.Done).Result, retsResult(n))
}

func testSwarmResultInItemOrder(t *testing.T, e *env) {
	const n = 5
	g := e.graph(swarm(sig.SwarmConfig{}, rets(n)...).success(task(taskEcho)))
	ds := e.start(g, `0`)
	if len(ds) != n {
		t.Fatalf("start dispatched %d items, want %d", len(ds), n)
	}
	cb := sig.SuccessID(g.root, 0)
	for i := n - 1; i >= 0; i-- {
		next := e.exec(e.once(sig.ChildID(g.root, i)))
		if i > 0 {
			none(t, "an item that is not the last", next)
			e.status(g.root, sig.Active)
		} else {
			only(t, "the last item", next, cb, 1)
		}
	}
	expectJSON(t, "swarm Result", e.status(g.root, sig.Done).Result, retsResult(n))
	expectJSON(t, "callback payload", e.once(cb).Payload, retsResult(n))
}

func testSwarmToleratesFailures(t *testing.T, e *env) {
	items := rets(5)
	items[1], items[3] = task(taskFail), task(taskFail)
	g := e.graph(swarm(sig.SwarmConfig{}, items...).success(task(taskEcho)).failure(task(taskEcho)))
	e.drain(e.start(g, `1`))
	rec := e.status(g.root, sig.Done)
	expectJSON(t, "swarm Result", rec.Result, retsResult(5, 1, 3))
	if rec.Swarm.Done != 3 || rec.Swarm.Failed != 2 || rec.Swarm.Running != 0 {
		t.Errorf("swarm accounting %+v, want Done 3 Failed 2 Running 0", *rec.Swarm)
	}
	e.status(sig.ChildID(g.root, 1), sig.Failed)
	expectJSON(t, "callback payload", e.once(sig.SuccessID(g.root, 0)).Payload, retsResult(5, 1, 3))
	e.never(sig.ErrorID(g.root, 0))
}

func testSwarmAllItemsFailed(t *testing.T, e *env) {
	g := e.graph(swarm(sig.SwarmConfig{}, task(taskFail), task(taskFail)).success(task(taskEcho)))
	e.drain(e.start(g, `1`))
	expectJSON(t, "swarm Result", e.status(g.root, sig.Done).Result, `[]`)
	expectJSON(t, "callback payload", e.once(sig.SuccessID(g.root, 0)).Payload, `[]`)
}

func testSwarmStopAfterNFailures(t *testing.T, e *env) {
	items := rets(6)
	items[0], items[1], items[3] = task(taskFail), task(taskFail), task(taskFail)
	g := e.graph(swarm(sig.SwarmConfig{MaxConcurrency: 3, StopAfterNFailures: 2}, items...).
		success(task(taskEcho)).failure(task(taskEcho)))
	item := func(i int) string { return sig.ChildID(g.root, i) }
	eb := sig.ErrorID(g.root, 0)

	started := time.Now()
	ds := e.start(g, `1`)
	if !sameSet(targets(ds), []string{item(0), item(1), item(2)}) {
		t.Fatalf("start dispatched %v, want items 0-2", targets(ds))
	}
	run2 := e.claim(item(2)) // item 2 runs while the swarm fails
	only(t, "the first failure", e.exec(e.once(item(0))), item(3), 1)
	e.status(g.root, sig.Active)

	run1 := e.claim(item(1))
	eff, err := e.s.Fail(e.ctx, item(1), run1, sig.ErrorInfo{Task: taskFail, Message: "boom", Attempts: 1, Kind: sig.ErrorTask})
	if err != nil {
		t.Fatalf("Fail of the second item: %v", err)
	}
	if !sameSet(eff.Cancels, []string{run2}) {
		t.Errorf("Cancels of the failure that stops the swarm = %v, want the running item's run [%s]", eff.Cancels, run2)
	}
	d := only(t, "the second failure", e.take(eff, item(1)), eb, 1)

	rec := e.status(g.root, sig.Failed)
	if rec.Error == nil || rec.Error.Kind != sig.ErrorSwarm || rec.Error.Message == "" {
		t.Errorf("swarm Error = %+v, want Kind swarm with a message", rec.Error)
	}
	if rec.Error != nil {
		expectFailure(t, "error callback", d.Payload, `1`, *rec.Error)
	}
	// Item 2 was running and item 3 dispatched: both are stopped.
	e.status(item(2), sig.Canceled)
	e.status(item(3), sig.Canceled)
	_, err = e.s.Complete(e.ctx, item(2), run2, []byte(`1`))
	expectErr(t, "Complete of an item stopped with its swarm", err, storage.ErrCanceled)
	e.claimOutcome(item(3), e.newRun(), storage.Dropped)
	rec = e.status(g.root, sig.Failed)
	if rec.Swarm.Done != 0 || rec.Swarm.Failed != 2 || rec.Swarm.Running != 0 {
		t.Errorf("swarm accounting %+v, want Done 0 Failed 2 Running 0", *rec.Swarm)
	}
	for _, i := range []int{4, 5} {
		if r := e.status(item(i), sig.Pending); r.Entered || r.Gen != 0 {
			t.Errorf("item %d: Entered %v Gen %d, want never started", i, r.Entered, r.Gen)
		}
	}
	e.never(item(4), item(5), sig.SuccessID(g.root, 0))
	e.once(eb)
	// The error callback still runs: the graph has not ended.
	for _, id := range g.ids() {
		rec := e.get(id)
		expectExpiry(t, rec, defaultActiveTTL, started, time.Now())
	}
	before := time.Now()
	e.drain([]sig.Dispatch{d})
	after := time.Now()
	e.once(eb)
	for _, id := range g.ids() {
		rec := e.get(id)
		expectExpiry(t, rec, defaultDoneTTL, before, after)
	}
	if root := e.get(g.root); !root.Finished || root.Live != 0 {
		t.Errorf("root Finished %v Live %d, want finished with nothing live", root.Finished, root.Live)
	}
}

func testSwarmStopCancelsNestedItems(t *testing.T, e *env) {
	inner := chain(task(taskInc), task(taskInc)).success(task(taskEcho)).failure(task(taskEcho))
	g := e.graph(swarm(sig.SwarmConfig{StopAfterNFailures: 1}, task(taskFail), inner).failure(task(taskEcho)))
	item1 := sig.ChildID(g.root, 1)
	step0, step1 := sig.ChildID(item1, 0), sig.ChildID(item1, 1)

	e.start(g, `1`)
	run := e.claim(step0)
	run0 := e.claim(sig.ChildID(g.root, 0))
	eff, err := e.s.Fail(e.ctx, sig.ChildID(g.root, 0), run0, sig.ErrorInfo{Task: taskFail, Message: "boom", Attempts: 1, Kind: sig.ErrorTask})
	if err != nil {
		t.Fatalf("Fail: %v", err)
	}
	if !sameSet(eff.Cancels, []string{run}) {
		t.Errorf("Cancels = %v, want the running step's run [%s]", eff.Cancels, run)
	}
	cb := only(t, "the failure", e.take(eff, sig.ChildID(g.root, 0)), sig.ErrorID(g.root, 0), 1)
	e.status(g.root, sig.Failed)
	for _, id := range []string{item1, step0, step1, sig.SuccessID(item1, 0), sig.ErrorID(item1, 0)} {
		e.status(id, sig.Canceled)
	}
	_, err = e.s.Complete(e.ctx, step0, run, []byte(`2`))
	expectErr(t, "Complete of a step stopped with its swarm", err, storage.ErrCanceled)
	e.drain([]sig.Dispatch{cb})
	e.never(step1, sig.SuccessID(item1, 0), sig.ErrorID(item1, 0))
	if root := e.get(g.root); !root.Finished || root.Live != 0 {
		t.Errorf("root Finished %v Live %d, want finished with nothing live", root.Finished, root.Live)
	}
}

func testSwarmOpenWaitsForClose(t *testing.T, e *env) {
	g := e.graph(swarm(sig.SwarmConfig{}, rets(2)...).opened().success(task(taskEcho)))
	cb := sig.SuccessID(g.root, 0)
	e.drain(e.start(g, `1`))
	rec := e.status(g.root, sig.Active)
	if rec.Swarm.Closed || rec.Swarm.Done != 2 || rec.Swarm.Running != 0 {
		t.Errorf("open swarm after its items: %+v, want open with Done 2 Running 0", *rec.Swarm)
	}
	e.never(cb)

	eff, err := e.s.CloseSwarm(e.ctx, g.root)
	if err != nil {
		t.Fatalf("CloseSwarm: %v", err)
	}
	d := only(t, "CloseSwarm", e.take(eff, g.root), cb, 1)
	expectJSON(t, "callback payload", d.Payload, retsResult(2))
	rec = e.status(g.root, sig.Done)
	expectJSON(t, "swarm Result", rec.Result, retsResult(2))
	if !rec.Swarm.Closed {
		t.Errorf("swarm not Closed after CloseSwarm")
	}
	e.drain([]sig.Dispatch{d})
	e.once(cb)
}

func testCloseSwarmRules(t *testing.T, e *env) {
	empty := e.graph(swarm(sig.SwarmConfig{}).opened().success(task(taskEcho)))
	none(t, "starting an empty open swarm", e.start(empty, `1`))
	e.status(empty.root, sig.Active)
	eff, err := e.s.CloseSwarm(e.ctx, empty.root)
	if err != nil {
		t.Fatalf("CloseSwarm of an empty running swarm: %v", err)
	}
	d := only(t, "CloseSwarm of an empty swarm", e.take(eff, empty.root), sig.SuccessID(empty.root, 0), 1)
	expectJSON(t, "callback payload", d.Payload, `[]`)
	expectJSON(t, "empty swarm Result", e.status(empty.root, sig.Done).Result, `[]`)

	// signed, closed empty, then started: it completes on entry
	later := e.graph(swarm(sig.SwarmConfig{}).opened())
	e.create(later)
	if eff, err := e.s.CloseSwarm(e.ctx, later.root); err != nil {
		t.Fatalf("CloseSwarm of an empty swarm not started: %v", err)
	} else {
		none(t, "CloseSwarm of an empty swarm not started", e.take(eff, later.root))
	}
	e.status(later.root, sig.Pending)
	if eff, err := e.s.StartGraph(e.ctx, later.root, []byte(`1`)); err != nil {
		t.Fatalf("StartGraph of a closed empty swarm: %v", err)
	} else {
		none(t, "starting a closed empty swarm", e.take(eff, later.root))
	}
	expectJSON(t, "closed empty swarm Result", e.status(later.root, sig.Done).Result, `[]`)

	g := e.graph(swarm(sig.SwarmConfig{}, rets(2)...).opened().success(task(taskEcho)))
	ds := e.start(g, `1`)
	for range 2 {
		eff, err = e.s.CloseSwarm(e.ctx, g.root)
		if err != nil {
			t.Fatalf("CloseSwarm of a running swarm: %v", err)
		}
		none(t, "CloseSwarm of a running swarm", e.take(eff, g.root))
		if rec := e.status(g.root, sig.Active); !rec.Swarm.Closed {
			t.Errorf("swarm not Closed after CloseSwarm")
		}
	}
	e.drain(ds)
	e.status(g.root, sig.Done)
	e.once(sig.SuccessID(g.root, 0))

	failed := e.graph(swarm(sig.SwarmConfig{StopAfterNFailures: 1}, task(taskFail), task(taskInc)).opened())
	e.start(failed, `1`)
	e.exec(e.once(sig.ChildID(failed.root, 0)))
	e.status(failed.root, sig.Failed)
	_, err = e.s.CloseSwarm(e.ctx, failed.root)
	expectErr(t, "CloseSwarm of a failed swarm", err, storage.ErrState)
	// The item dispatched before the failure was stopped with the swarm.
	e.once(sig.ChildID(failed.root, 1))
	e.claimOutcome(sig.ChildID(failed.root, 1), e.newRun(), storage.Dropped)

	tk := e.graph(task(taskInc))
	e.start(tk, `1`)
	_, err = e.s.CloseSwarm(e.ctx, tk.root)
	expectErr(t, "CloseSwarm of a task", err, storage.ErrState)
	_, err = e.s.AddItems(e.ctx, tk.root, 0, e.items(tk, tk.root, 0, task(taskInc)))
	expectErr(t, "AddItems to a task", err, storage.ErrState)
}

func testAddItems(t *testing.T, e *env) {
	g := e.graph(swarm(sig.SwarmConfig{MaxConcurrency: 2, MaxItems: 4}, task(taskRet+"0")).opened().success(task(taskEcho)))
	item := func(i int) string { return sig.ChildID(g.root, i) }
	ds := e.start(g, `1`)
	only(t, "start", ds, item(0), 1)

	eff, err := e.s.AddItems(e.ctx, g.root, 1, e.items(g, g.root, 1, task(taskRet+"10")))
	if err != nil {
		t.Fatalf("AddItems(base 1): %v", err)
	}
	d := only(t, "AddItems with a free slot", e.take(eff, g.root), item(1), 1)
	expectJSON(t, "added item payload", d.Payload, `1`)
	ds = append(ds, d)
	if rec := e.status(g.root, sig.Active); rec.Children != 2 || rec.Swarm.Closed {
		t.Errorf("swarm after AddItems: Children %d Closed %v, want 2 open", rec.Children, rec.Swarm.Closed)
	}
	expectShape(t, e.get(item(1)), e.items(g, g.root, 1, task(taskRet+"10"))[0])

	_, err = e.s.AddItems(e.ctx, g.root, 1, e.items(g, g.root, 1, task(taskRet+"99")))
	expectErr(t, "AddItems with a stale base", err, storage.ErrConflict)
	_, err = e.s.AddItems(e.ctx, g.root, 3, e.items(g, g.root, 3, task(taskRet+"99")))
	expectErr(t, "AddItems with a base past the end", err, storage.ErrConflict)
	_, err = e.s.AddItems(e.ctx, g.root, 2, e.items(g, g.root, 2, task(taskRet+"20"), task(taskRet+"30"), task(taskRet+"40")))
	expectErr(t, "AddItems past MaxItems", err, storage.ErrState)
	if rec := e.get(g.root); rec.Children != 2 {
		t.Errorf("Children = %d after refused AddItems, want 2", rec.Children)
	}
	if rec := e.get(item(1)); rec.Name != taskRet+"10" {
		t.Errorf("item 1 Name = %q after a refused AddItems, want %q", rec.Name, taskRet+"10")
	}
	_, err = e.s.Get(e.ctx, item(2))
	expectErr(t, "Get of an item of a refused AddItems", err, storage.ErrNotFound)

	added := e.items(g, g.root, 2, chain(task(taskInc), task(taskDbl)), task(taskRet+"30"))
	eff, err = e.s.AddItems(e.ctx, g.root, 2, added)
	if err != nil {
		t.Fatalf("AddItems(base 2) up to MaxItems: %v", err)
	}
	none(t, "AddItems without a free slot", e.take(eff, g.root))
	if rec := e.status(g.root, sig.Active); rec.Children != 4 || !rec.Swarm.Closed {
		t.Errorf("swarm at MaxItems: Children %d Closed %v, want 4 closed", rec.Children, rec.Swarm.Closed)
	}
	for _, want := range added {
		expectShape(t, e.get(want.ID), want)
	}
	_, err = e.s.AddItems(e.ctx, g.root, 4, e.items(g, g.root, 4, task(taskInc)))
	expectErr(t, "AddItems to a swarm closed at MaxItems", err, storage.ErrState)

	e.drain(ds)
	expectJSON(t, "swarm Result", e.status(g.root, sig.Done).Result, `[0,10,4,30]`)
	expectJSON(t, "callback payload", e.once(sig.SuccessID(g.root, 0)).Payload, `[0,10,4,30]`)
}

func testAddItemsBeforeStart(t *testing.T, e *env) {
	g := e.graph(swarm(sig.SwarmConfig{}, task(taskRet+"0")).opened())
	e.create(g)
	eff, err := e.s.AddItems(e.ctx, g.root, 1, e.items(g, g.root, 1, task(taskRet+"10")))
	if err != nil {
		t.Fatalf("AddItems before start: %v", err)
	}
	none(t, "AddItems before start", e.take(eff, g.root))
	e.status(sig.ChildID(g.root, 1), sig.Pending)

	eff, err = e.s.StartGraph(e.ctx, g.root, []byte(`1`))
	if err != nil {
		t.Fatalf("StartGraph: %v", err)
	}
	ds := e.take(eff, g.root)
	if !sameSet(targets(ds), []string{sig.ChildID(g.root, 0), sig.ChildID(g.root, 1)}) {
		t.Fatalf("StartGraph dispatched %v, want both items", targets(ds))
	}
	eff, err = e.s.CloseSwarm(e.ctx, g.root)
	if err != nil {
		t.Fatalf("CloseSwarm: %v", err)
	}
	none(t, "CloseSwarm with running items", e.take(eff, g.root))
	e.drain(ds)
	expectJSON(t, "swarm Result", e.status(g.root, sig.Done).Result, `[0,10]`)
}

func testSwarmChainItem(t *testing.T, e *env) {
	g := e.graph(swarm(sig.SwarmConfig{}, chain(task(taskInc), task(taskDbl)), task(taskRet+"5")))
	ds := e.start(g, `3`)
	item0 := sig.ChildID(g.root, 0)
	if !sameSet(targets(ds), []string{sig.ChildID(item0, 0), sig.ChildID(g.root, 1)}) {
		t.Fatalf("start dispatched %v, want the chain's first step and item 1", targets(ds))
	}
	e.drain(ds)
	expectJSON(t, "chain item Input", e.status(item0, sig.Done).Input, `3`)
	expectJSON(t, "chain item Result", e.get(item0).Result, `8`)
	expectJSON(t, "swarm Result", e.status(g.root, sig.Done).Result, `[8,5]`)
}

func testChainSwarmStep(t *testing.T, e *env) {
	g := e.graph(chain(
		task(taskInc),
		swarm(sig.SwarmConfig{}, task(taskDbl), task(taskInc)).success(task(taskEcho)),
		task(taskSum),
	))
	e.drain(e.start(g, `1`))
	sw := sig.ChildID(g.root, 1)
	for i := range 2 {
		expectJSON(t, "swarm item payload", e.once(sig.ChildID(sw, i)).Payload, `2`)
	}
	expectJSON(t, "swarm Result", e.status(sw, sig.Done).Result, `[4,3]`)
	expectJSON(t, "swarm callback payload", e.once(sig.SuccessID(sw, 0)).Payload, `[4,3]`)
	expectJSON(t, "next step payload", e.once(sig.ChildID(g.root, 2)).Payload, `[4,3]`)
	expectJSON(t, "chain Result", e.status(g.root, sig.Done).Result, `7`)
}

func testSettledSwarmListsOutcomes(t *testing.T, e *env) {
	g := e.graph(swarm(sig.SwarmConfig{}, task(taskInc), task(taskFail), task("ret7")).settle().success(task(taskEcho)))
	e.drain(e.start(g, `1`))
	info := string(marshal(t, boom(taskFail)))
	want := `[{"index":0,"result":2},{"index":1,"error":` + info + `},{"index":2,"result":7}]`
	expectJSON(t, "settled swarm Result", e.status(g.root, sig.Done).Result, want)
	expectJSON(t, "callback payload", e.once(sig.SuccessID(g.root, 0)).Payload, want)
}

func testSwarmStartsNamed(t *testing.T, e *env) {
	want := func(what string, eff storage.Effects, ids ...string) {
		t.Helper()
		var got, exp []string
		for _, s := range eff.Swarms {
			got = append(got, s.ID+"="+s.Name)
		}
		for _, id := range ids {
			r := e.get(id)
			name := r.Label
			if name == "" {
				name = r.Name
			}
			exp = append(exp, id+"="+name)
		}
		if !slices.Equal(got, exp) {
			t.Fatalf("%s: Swarms %v, want %v", what, got, exp)
		}
	}
	// a swarm as a chain's second step starts when the first step ends
	g := e.graph(chain(task(taskInc), swarm(sig.SwarmConfig{MaxConcurrency: 1}, rets(3)...)))
	eff, err := e.s.CreateGraph(e.ctx, g.stored(true, []byte(`1`)))
	if err != nil {
		t.Fatal(err)
	}
	want("start", eff)
	e.take(eff, g.root)
	first := sig.ChildID(g.root, 0)
	sw := sig.ChildID(g.root, 1)
	eff, err = e.s.Complete(e.ctx, first, e.claim(first), []byte(`2`))
	if err != nil {
		t.Fatal(err)
	}
	want("complete of the step before the swarm", eff, sw)
	e.take(eff, first)
	// an item's end starts the next item, not the swarm
	item := sig.ChildID(sw, 0)
	eff, err = e.s.Complete(e.ctx, item, e.claim(item), []byte(`0`))
	if err != nil {
		t.Fatal(err)
	}
	want("complete of an item", eff)

	// a flow that is a swarm, started held and resumed
	h := e.graph(swarm(sig.SwarmConfig{}, rets(2)...))
	h.recs[0].Label = "nightly"
	e.create(h)
	if _, err := e.s.Apply(e.ctx, h.root, sig.OpSuspend); err != nil {
		t.Fatal(err)
	}
	eff, err = e.s.StartGraph(e.ctx, h.root, []byte(`1`))
	if err != nil {
		t.Fatal(err)
	}
	want("start while suspended", eff)
	eff, err = e.s.Apply(e.ctx, h.root, sig.OpResume)
	if err != nil {
		t.Fatal(err)
	}
	want("resume", eff, h.root)

	// a swarm suspended while it ran, resumed; then failed and retried
	r := e.graph(swarm(sig.SwarmConfig{MaxConcurrency: 1, StopAfterNFailures: 1}, rets(2)...))
	eff, err = e.s.CreateGraph(e.ctx, r.stored(true, []byte(`1`)))
	if err != nil {
		t.Fatal(err)
	}
	want("start of a swarm", eff, r.root)
	e.take(eff, r.root)
	if _, err := e.s.Apply(e.ctx, r.root, sig.OpSuspend); err != nil {
		t.Fatal(err)
	}
	eff, err = e.s.Apply(e.ctx, r.root, sig.OpResume)
	if err != nil {
		t.Fatal(err)
	}
	want("resume of a swarm suspended while it ran", eff, r.root)
	e.take(eff, r.root)
	first = sig.ChildID(r.root, 0)
	eff, err = e.s.Fail(e.ctx, first, e.claim(first), sig.ErrorInfo{Task: taskRet + "0", Message: "boom", Attempts: 1, Kind: sig.ErrorTask})
	if err != nil {
		t.Fatal(err)
	}
	want("the failure that stops the swarm", eff)
	e.take(eff, first)
	e.status(r.root, sig.Failed)
	eff, err = e.s.Apply(e.ctx, r.root, sig.OpRetry)
	if err != nil {
		t.Fatal(err)
	}
	want("retry", eff, r.root)

	// items added to a running open swarm
	o := e.graph(swarm(sig.SwarmConfig{}, task(taskRet+"0")).opened())
	e.take(func() storage.Effects {
		eff, err := e.s.CreateGraph(e.ctx, o.stored(true, []byte(`1`)))
		if err != nil {
			t.Fatal(err)
		}
		return eff
	}(), o.root)
	eff, err = e.s.AddItems(e.ctx, o.root, 1, e.items(o, o.root, 1, task(taskRet+"1")))
	if err != nil {
		t.Fatal(err)
	}
	want("items added", eff, o.root)
	eff, err = e.s.CloseSwarm(e.ctx, o.root)
	if err != nil {
		t.Fatal(err)
	}
	want("close", eff)
}

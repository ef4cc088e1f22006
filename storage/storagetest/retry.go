package storagetest

import (
	"testing"
	"time"

	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
)

// retryCases check Apply with sig.OpRetry.
func retryCases() []testCase {
	return []testCase{
		{
			Name: "RetryTask",
			Rule: "Retry of a graph whose root task failed dispatches the task again (a new Gen) with its stored input and a fresh count of attempts; the graph runs again with its active TTL, and ends done when the task completes.",
			Test: testRetryTask,
		},
		{
			Name: "RetryChainAtEachStep",
			Rule: "Retry of a chain that failed at step k dispatches step k again with the input it had (the result of step k-1); the steps before it are not dispatched again, and the chain completes with the last step's result.",
			Test: testRetryChainAtEachStep,
		},
		{
			Name: "RetrySwarmAtItsLimit",
			Rule: "Retry of a swarm that failed at its failure limit runs its failed items, the items the limit stopped and those it kept from starting, within MaxConcurrency and with its failure count from zero; its done items are kept, and it completes with every item's result in item order.",
			Test: testRetrySwarmAtItsLimit,
		},
		{
			Name: "RetryNested",
			Rule: "Retry of a chain whose swarm step failed at a failed step of one of its chain items dispatches only that step again; the swarm, then the chain, continue from there.",
			Test: testRetryNested,
		},
		{
			Name: "RetryCallbacks",
			Rule: "Retry runs a failed callback again with its stored input while the node it belongs to keeps its end; error callbacks that fired for a failed root are reset and fire once more only if the root fails again.",
			Test: testRetryCallbacks,
		},
		{
			Name: "RetryRefused",
			Rule: "Retry returns ErrState, changing nothing, for a graph that runs, one that was canceled, and one in which nothing failed (a swarm that tolerated its failed items did not fail); a repeated Retry of a retried graph is refused while it runs.",
			Test: testRetryRefused,
		},
		{
			Name: "RetryTwiceAndLateRuns",
			Rule: "A graph that fails again after a Retry can be retried again; the run of the failed attempt that is delivered late may claim the task dispatched again (it runs once), but a run of a stopped item cannot complete it.",
			Test: testRetryTwiceAndLateRuns,
		},
	}
}

// succeed claims the task of d with a fresh run and completes it with
// result, returning what followed.
func (e *env) succeed(d sig.Dispatch, result string) []sig.Dispatch {
	e.t.Helper()
	return e.complete(d.Target, e.claim(d.Target), result)
}

// retry applies a retry to root and returns its dispatches.
func (e *env) retry(root string) []sig.Dispatch {
	e.t.Helper()
	return e.apply(root, sig.OpRetry).Dispatches
}

func testRetryTask(t *testing.T, e *env) {
	g := e.graph(task(taskFail))
	e.drain(e.start(g, `7`))
	rec := e.status(g.root, sig.Failed)
	if !rec.Finished || rec.Attempts != 1 {
		t.Fatalf("failed task: Finished %v Attempts %d", rec.Finished, rec.Attempts)
	}
	before := time.Now()
	d := only(t, "retry", e.retry(g.root), g.root, 2)
	expectJSON(t, "payload of the retried task", d.Payload, `7`)
	if d.Attempts != 0 {
		t.Errorf("retried dispatch carries Attempts %d, want 0 (a fresh count)", d.Attempts)
	}
	rec = e.status(g.root, sig.Pending)
	if rec.Finished || rec.Error != nil || rec.Attempts != 0 || !rec.Entered {
		t.Errorf("retried task: Finished %v Error %v Attempts %d Entered %v", rec.Finished, rec.Error, rec.Attempts, rec.Entered)
	}
	expectExpiry(t, rec, rec.ActiveTTL, before, time.Now())
	none(t, "completing the retried task", e.succeed(d, `8`))
	rec = e.status(g.root, sig.Done)
	expectJSON(t, "result", rec.Result, `8`)
	if !rec.Finished || rec.Attempts != 1 {
		t.Errorf("done task: Finished %v Attempts %d", rec.Finished, rec.Attempts)
	}
}

func testRetryChainAtEachStep(t *testing.T, e *env) {
	for k := range 3 {
		steps := []*node{task(taskInc), task(taskInc), task(taskInc)}
		steps[k] = task(taskFail)
		g := e.graph(chain(steps...))
		e.drain(e.start(g, `1`))
		e.status(g.root, sig.Failed)
		step := sig.ChildID(g.root, k)
		d := only(t, "retry", e.retry(g.root), step, 2)
		expectJSON(t, "payload of the retried step", d.Payload, marshalInt(t, 1+k))
		e.status(g.root, sig.Active)
		e.drain(e.succeed(d, marshalInt(t, 1+k+1)))
		expectJSON(t, "chain result", e.status(g.root, sig.Done).Result, `4`)
		for i := range 3 {
			if n := e.count(sig.ChildID(g.root, i)); i != k && n != 1 {
				t.Errorf("failing step %d: step %d dispatched %d times, want once", k, i, n)
			}
		}
	}
}

func testRetrySwarmAtItsLimit(t *testing.T, e *env) {
	g := e.graph(swarm(sig.SwarmConfig{MaxConcurrency: 2, StopAfterNFailures: 1},
		task("ret10"), task(taskFail), task("ret12"), task("ret13"), task("ret14")))
	item := func(i int) string { return sig.ChildID(g.root, i) }
	ds := e.start(g, `1`)
	if len(ds) != 2 {
		t.Fatalf("swarm started %d items, want 2", len(ds))
	}
	e.exec(ds[0])           // item 0 done, item 2 dispatched
	e.exec(e.once(item(1))) // item 1 fails: the swarm fails, item 2 is stopped
	rec := e.status(g.root, sig.Failed)
	if rec.Swarm.Failed != 1 || rec.Swarm.Next != 3 {
		t.Fatalf("failed swarm: %+v", *rec.Swarm)
	}
	e.status(item(2), sig.Canceled)

	ds = e.retry(g.root)
	if got := targets(ds); !sameSet(got, []string{item(1), item(2)}) {
		t.Fatalf("retry dispatched %v, want items 1 and 2 (MaxConcurrency 2)", got)
	}
	rec = e.status(g.root, sig.Active)
	if st := rec.Swarm; st.Failed != 0 || st.Done != 1 || st.Running != 2 || st.Next != 3 {
		t.Errorf("retried swarm: %+v, want Done 1 Running 2 Next 3 Failed 0", *st)
	}
	e.status(item(0), sig.Done)
	for _, d := range ds {
		e.drain(e.succeed(d, marshalInt(t, 10+indexOf(d.Target))))
	}
	rec = e.status(g.root, sig.Done)
	expectJSON(t, "swarm result", rec.Result, `[10,11,12,13,14]`)
	if n := e.count(item(0)); n != 1 {
		t.Errorf("the done item was dispatched %d times, want once", n)
	}
}

func testRetryNested(t *testing.T, e *env) {
	inner := chain(task(taskInc), task(taskFail))
	g := e.graph(chain(task(taskInc), swarm(sig.SwarmConfig{StopAfterNFailures: 1}, inner, task(taskInc)), task(taskSum)))
	e.drain(e.start(g, `1`))
	e.status(g.root, sig.Failed)
	sw := sig.ChildID(g.root, 1)
	failed := sig.ChildID(sig.ChildID(sw, 0), 1)
	d := only(t, "retry", e.retry(g.root), failed, 2)
	expectJSON(t, "payload of the retried step", d.Payload, `3`)
	e.drain(e.succeed(d, `30`))
	expectJSON(t, "chain result", e.status(g.root, sig.Done).Result, `33`)
	for _, id := range []string{sig.ChildID(g.root, 0), sig.ChildID(sig.ChildID(sw, 0), 0), sig.ChildID(sw, 1)} {
		if n := e.count(id); n != 1 {
			t.Errorf("%s dispatched %d times, want once", id, n)
		}
	}
}

func testRetryCallbacks(t *testing.T, e *env) {
	// a failed success callback of a done root
	g := e.graph(task(taskInc).success(task(taskFail), task(taskEcho)))
	e.drain(e.start(g, `1`))
	cb := sig.SuccessID(g.root, 0)
	e.status(cb, sig.Failed)
	if !e.get(g.root).Finished {
		t.Fatal("graph not finished")
	}
	d := only(t, "retry", e.retry(g.root), cb, 2)
	expectJSON(t, "payload of the retried callback", d.Payload, `2`)
	rec := e.status(g.root, sig.Done)
	if rec.Finished {
		t.Error("graph finished while its callback runs again")
	}
	none(t, "completing the callback", e.succeed(d, `0`))
	if !e.status(g.root, sig.Done).Finished {
		t.Error("graph not finished after its callback ended")
	}
	if n := e.count(sig.SuccessID(g.root, 1)); n != 1 {
		t.Errorf("the done callback was dispatched %d times, want once", n)
	}

	// the error callbacks of a failed root fire once per end
	f := e.graph(task(taskFail).failure(task(taskEcho)))
	e.drain(e.start(f, `5`))
	ecb := sig.ErrorID(f.root, 0)
	e.status(ecb, sig.Done)
	d = only(t, "retry", e.retry(f.root), f.root, 2)
	if rec := e.status(ecb, sig.Pending); rec.Entered || rec.Result != nil {
		t.Errorf("error callback after retry: Entered %v Result %s, want reset", rec.Entered, rec.Result)
	}
	// a late delivery of the reset callback's earlier dispatch does not
	// run it, nor does an interrupt and resume of the retried flow
	e.claimOutcome(ecb, e.newRun(), storage.Dropped)
	e.apply(f.root, sig.OpInterrupt)
	if ds := e.apply(f.root, sig.OpResume).Dispatches; len(ds) != 1 || ds[0].Target != f.root {
		t.Fatalf("resume of the retried flow dispatched %v, want only the root", targets(ds))
	}
	d = e.dispatched(f.root)[2]
	info := boom(taskFail)
	info.Message = "boom again"
	ds := e.fail(f.root, e.claim(f.root), info)
	_ = d
	d = only(t, "second failure", ds, ecb, 2)
	expectFailure(t, "error callback of the second failure", d.Payload, `5`, info)
	e.drain(ds)
	if !e.status(f.root, sig.Failed).Finished {
		t.Error("graph not finished after its second failure")
	}
}

func testRetryRefused(t *testing.T, e *env) {
	refused := func(what, root string) {
		t.Helper()
		before := e.get(root)
		_, err := e.s.Apply(e.ctx, root, sig.OpRetry)
		expectErr(t, what, err, storage.ErrState)
		after := e.get(root)
		if after.Status != before.Status || after.Finished != before.Finished || after.Gen != before.Gen {
			t.Errorf("%s changed the root: %s/%v -> %s/%v", what, before.Status, before.Finished, after.Status, after.Finished)
		}
	}
	running := e.graph(chain(task(taskInc), task(taskInc)))
	e.start(running, `1`)
	refused("Retry of a running graph", running.root)

	canceled := e.graph(task(taskFail))
	e.start(canceled, `1`)
	e.apply(canceled.root, sig.OpCancel)
	refused("Retry of a canceled graph", canceled.root)

	done := e.graph(task(taskInc))
	e.drain(e.start(done, `1`))
	refused("Retry of a done graph", done.root)

	tolerated := e.graph(swarm(sig.SwarmConfig{}, task(taskInc), task(taskFail)))
	e.drain(e.start(tolerated, `1`))
	e.status(tolerated.root, sig.Done)
	refused("Retry of a swarm that tolerated a failed item", tolerated.root)

	failed := e.graph(task(taskFail))
	e.drain(e.start(failed, `1`))
	only(t, "retry", e.retry(failed.root), failed.root, 2)
	refused("a repeated Retry", failed.root)
	if n := e.count(failed.root); n != 2 {
		t.Errorf("task dispatched %d times, want twice", n)
	}
}

func testRetryTwiceAndLateRuns(t *testing.T, e *env) {
	g := e.graph(task(taskFail))
	e.start(g, `1`)
	first := e.claim(g.root)
	e.fail(g.root, first, boom(taskFail))
	only(t, "retry", e.retry(g.root), g.root, 2)
	// the failed attempt's run, delivered late, takes the new dispatch
	e.claimOutcome(g.root, first, storage.Claimed)
	e.claimOutcome(g.root, e.newRun(), storage.Duplicate)
	e.fail(g.root, first, boom(taskFail))
	e.status(g.root, sig.Failed)
	d := only(t, "second retry", e.retry(g.root), g.root, 3)
	none(t, "completing after the second retry", e.succeed(d, `2`))
	expectJSON(t, "result", e.status(g.root, sig.Done).Result, `2`)

	// a stopped item's run does not complete the item a retry revived
	s := e.graph(swarm(sig.SwarmConfig{StopAfterNFailures: 1}, task(taskFail), task(taskInc)))
	e.start(s, `1`)
	slow := sig.ChildID(s.root, 1)
	run := e.claim(slow)
	e.exec(e.once(sig.ChildID(s.root, 0)))
	e.status(slow, sig.Canceled)
	e.retry(s.root)
	if _, err := e.s.Complete(e.ctx, slow, run, []byte(`2`)); err == nil {
		t.Error("the stopped run completed the item a retry dispatched again")
	}
	e.status(slow, sig.Pending)
}

// marshalInt is n as JSON.
func marshalInt(t *testing.T, n int) string { return string(marshal(t, n)) }

// indexOf returns the index in its container of a child's id.
func indexOf(id string) int {
	n, i := 0, len(id)-1
	for mul := 1; i >= 0 && id[i] >= '0' && id[i] <= '9'; i-- {
		n += int(id[i]-'0') * mul
		mul *= 10
	}
	return n
}

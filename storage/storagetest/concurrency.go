package storagetest

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"testing"

	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
)

// concurrencyCases check that transitions racing on one graph take effect
// exactly once.
func concurrencyCases() []testCase {
	return []testCase{
		{
			Name: "ConcurrentClaimsOneWinner",
			Rule: "Of many runs claiming one dispatched task at once, exactly one gets Claimed and every other Duplicate.",
			Test: testConcurrentClaimsOneWinner,
		},
		{
			Name: "ConcurrentSwarmCompletions",
			Rule: "When every item of a swarm completes at once, each result lands at its item's index and the swarm completes exactly once: one dispatch of its success callback and of the next chain step among all effects.",
			Test: testConcurrentSwarmCompletions,
		},
		{
			Name: "ConcurrentSwarmFailures",
			Rule: "When items of a swarm fail at once past StopAfterNFailures, the swarm fails exactly once: one dispatch of its error callback, none of its success callback; the failures up to the limit are counted, and the other items, stopped with the swarm, refuse their late results with ErrCanceled.",
			Test: testConcurrentSwarmFailures,
		},
		{
			Name: "ConcurrentAddItems",
			Rule: "Of several AddItems racing with the same base, exactly one succeeds and the others return ErrConflict.",
			Test: testConcurrentAddItems,
		},
	}
}

// parallel runs f(0) .. f(n-1) on n goroutines released together, and
// waits for them all.
func parallel(n int, f func(i int)) {
	var wg sync.WaitGroup
	gate := make(chan struct{})
	for i := range n {
		wg.Go(func() {
			<-gate
			f(i)
		})
	}
	close(gate)
	wg.Wait()
}

func testConcurrentClaimsOneWinner(t *testing.T, e *env) {
	const n = 32
	g := e.graph(task(taskInc))
	e.start(g, `1`)
	outcomes := make([]storage.Outcome, n)
	parallel(n, func(i int) {
		c, err := e.s.Claim(e.ctx, g.root, fmt.Sprintf("racer-%d", i))
		if err != nil {
			t.Errorf("Claim racer-%d: %v", i, err)
			return
		}
		outcomes[i] = c.Outcome
	})
	winner := ""
	for i, o := range outcomes {
		switch o {
		case storage.Claimed:
			if winner != "" {
				t.Errorf("racer-%d and %s both claimed the task", i, winner)
			}
			winner = fmt.Sprintf("racer-%d", i)
		case storage.Duplicate:
		default:
			t.Errorf("racer-%d: outcome %v, want claimed or duplicate", i, o)
		}
	}
	if winner == "" {
		t.Fatalf("no racer claimed the task: %v", outcomes)
	}
	if rec := e.status(g.root, sig.Active); rec.RunID != winner || rec.Attempts != 1 {
		t.Errorf("task: RunID %q Attempts %d, want %s 1", rec.RunID, rec.Attempts, winner)
	}
}

func testConcurrentSwarmCompletions(t *testing.T, e *env) {
	const n = 200
	items := make([]*node, n)
	for i := range items {
		items[i] = task(fmt.Sprintf("%s%d", taskRet, i))
	}
	g := e.graph(chain(
		swarm(sig.SwarmConfig{MaxConcurrency: n}, items...).success(task(taskEcho)),
		task(taskSum),
	))
	sw := sig.ChildID(g.root, 0)
	cb, next := sig.SuccessID(sw, 0), sig.ChildID(g.root, 1)
	ds := e.start(g, `0`)
	if len(ds) != n {
		t.Fatalf("start dispatched %d items, want %d", len(ds), n)
	}
	var mu sync.Mutex
	var followed []sig.Dispatch
	parallel(n, func(i int) {
		d := ds[i]
		run := "run-" + d.Target
		c, err := e.s.Claim(e.ctx, d.Target, run)
		if err != nil || c.Outcome != storage.Claimed {
			t.Errorf("Claim(%s): %v %v, want claimed", d.Target, c.Outcome, err)
			return
		}
		result := strconv.Itoa(itemIndex(sw, d.Target))
		eff, err := e.s.Complete(e.ctx, d.Target, run, []byte(result))
		if err != nil {
			t.Errorf("Complete(%s): %v", d.Target, err)
			return
		}
		got := e.take(eff, d.Target)
		mu.Lock()
		followed = append(followed, got...)
		mu.Unlock()
	})
	if t.Failed() {
		t.FailNow()
	}
	if !sameSet(targets(followed), []string{cb, next}) {
		t.Fatalf("completions dispatched %v, want exactly one %s and one %s", keysOf(followed), cb, next)
	}
	want := make([]string, n)
	for i := range want {
		want[i] = strconv.Itoa(i)
	}
	result := "[" + strings.Join(want, ",") + "]"
	rec := e.status(sw, sig.Done)
	expectJSON(t, "swarm Result", rec.Result, result)
	if rec.Swarm.Done != n || rec.Swarm.Running != 0 || rec.Swarm.Failed != 0 {
		t.Errorf("swarm accounting %+v, want Done %d Running 0 Failed 0", *rec.Swarm, n)
	}
	expectJSON(t, "callback payload", e.once(cb).Payload, result)
	expectJSON(t, "next step payload", e.once(next).Payload, result)
	e.drain(followed)
	expectJSON(t, "chain Result", e.status(g.root, sig.Done).Result, strconv.Itoa(n*(n-1)/2))
}

func testConcurrentSwarmFailures(t *testing.T, e *env) {
	const n, limit = 200, 3
	items := make([]*node, n)
	for i := range items {
		items[i] = task(taskFail)
	}
	g := e.graph(swarm(sig.SwarmConfig{MaxConcurrency: n, StopAfterNFailures: limit}, items...).
		success(task(taskEcho)).failure(task(taskEcho)))
	eb := sig.ErrorID(g.root, 0)
	ds := e.start(g, `1`)
	if len(ds) != n {
		t.Fatalf("start dispatched %d items, want %d", len(ds), n)
	}
	runs := make([]string, n)
	for i, d := range ds {
		runs[i] = e.claim(d.Target)
	}
	var mu sync.Mutex
	var followed []sig.Dispatch
	var failed, refused int
	var cancels []string
	parallel(n, func(i int) {
		d := ds[i]
		eff, err := e.s.Fail(e.ctx, d.Target, runs[i], boom(taskFail))
		if errors.Is(err, storage.ErrCanceled) {
			mu.Lock()
			refused++
			mu.Unlock()
			return
		}
		if err != nil {
			t.Errorf("Fail(%s): %v", d.Target, err)
			return
		}
		got := e.take(eff, d.Target)
		mu.Lock()
		failed++
		followed = append(followed, got...)
		cancels = append(cancels, eff.Cancels...)
		mu.Unlock()
	})
	if t.Failed() {
		t.FailNow()
	}
	if failed != limit || refused != n-limit || len(cancels) != n-limit {
		t.Errorf("%d failures taken, %d refused, %d runs canceled; want %d, %d, %d", failed, refused, len(cancels), limit, n-limit, n-limit)
	}
	only(t, "the failures together", followed, eb, 1)
	rec := e.status(g.root, sig.Failed)
	if rec.Error == nil || rec.Error.Kind != sig.ErrorSwarm {
		t.Errorf("swarm Error = %+v, want Kind swarm", rec.Error)
	}
	if rec.Swarm.Failed != limit || rec.Swarm.Running != 0 || rec.Swarm.Done != 0 {
		t.Errorf("swarm accounting %+v, want Failed %d Running 0 Done 0", *rec.Swarm, limit)
	}
	e.never(sig.SuccessID(g.root, 0))
	e.drain(followed)
	e.once(eb)
}

func testConcurrentAddItems(t *testing.T, e *env) {
	const n = 8
	g := e.graph(swarm(sig.SwarmConfig{}, task(taskRet+"0")).opened())
	ds := e.start(g, `1`)
	errs := make([]error, n)
	added := make([][]sig.Dispatch, n)
	parallel(n, func(i int) {
		eff, err := e.s.AddItems(e.ctx, g.root, 1, e.items(g, g.root, 1, task(fmt.Sprintf("%s%d", taskRet, 100+i))))
		errs[i] = err
		if err == nil {
			added[i] = e.take(eff, g.root)
		}
	})
	winner := -1
	for i, err := range errs {
		switch {
		case err == nil:
			if winner >= 0 {
				t.Errorf("AddItems %d and %d with the same base both succeeded", winner, i)
			}
			winner = i
		case !errors.Is(err, storage.ErrConflict):
			t.Errorf("AddItems %d: %v, want nil or ErrConflict", i, err)
		}
	}
	if winner < 0 {
		t.Fatalf("no AddItems succeeded: %v", errs)
	}
	rec := e.get(g.root)
	if rec.Children != 2 {
		t.Errorf("Children = %d, want 2", rec.Children)
	}
	if name := e.get(sig.ChildID(g.root, 1)).Name; name != fmt.Sprintf("%s%d", taskRet, 100+winner) {
		t.Errorf("item 1 Name = %q, want the winner's %s%d", name, taskRet, 100+winner)
	}
	if _, err := e.s.Get(e.ctx, sig.ChildID(g.root, 2)); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Get(item 2): %v, want ErrNotFound", err)
	}
	only(t, "the winning AddItems", added[winner], sig.ChildID(g.root, 1), 1)
	eff, err := e.s.CloseSwarm(e.ctx, g.root)
	if err != nil {
		t.Fatalf("CloseSwarm: %v", err)
	}
	none(t, "CloseSwarm with running items", e.take(eff, g.root))
	e.drain(append(ds, added[winner]...))
	expectJSON(t, "swarm Result", e.status(g.root, sig.Done).Result, fmt.Sprintf("[0,%d]", 100+winner))
}

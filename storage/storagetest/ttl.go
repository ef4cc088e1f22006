package storagetest

import (
	"errors"
	"testing"
	"time"

	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
)

// expiryDeadline bounds the wait for records with a short DoneTTL to
// expire.
const expiryDeadline = 5 * time.Second

// ttlCases check that records always carry an expiry and get the done TTL
// when their graph ends.
func ttlCases() []testCase {
	return []testCase{
		{
			Name: "ExpirySetAfterEveryOperation",
			Rule: "Every record of a running graph has ExpiresAt set, within the graph's ActiveTTL, after every operation on the graph; when it ends, every record expires the graph's DoneTTL later.",
			Test: testExpirySetAfterEveryOperation,
		},
		{
			Name: "ExpiryRefreshedOnWrite",
			Rule: "A running graph's expiry counts from its latest write: a transition moves the ExpiresAt of every record of the graph later.",
			Test: testExpiryRefreshedOnWrite,
		},
		{
			Name: "TouchRefreshesARunningGraph",
			Rule: "Touch sets a running graph's expiry to its ActiveTTL from now without changing a record, leaves an ended graph's expiry alone, and returns ErrNotFound for a missing graph.",
			Test: testTouchRefreshesARunningGraph,
		},
		{
			Name: "DoneTTLWhenGraphEnds",
			Rule: "A graph ends when its root is terminal and every entered record ended (callbacks included); then every record of it, entered or not, expires the graph's DoneTTL after that moment, and later writes (acks) leave that alone.",
			Test: testDoneTTLWhenGraphEnds,
		},
		{
			Name: "RecordsExpire",
			Rule: "Records of an ended graph with a short DoneTTL are gone (ErrNotFound) once it passed.",
			Test: testRecordsExpire,
		},
	}
}

func testExpirySetAfterEveryOperation(t *testing.T, e *env) {
	g := e.graph(chain(
		task(taskInc),
		swarm(sig.SwarmConfig{MaxConcurrency: 1}, task(taskInc), task(taskFail).failure(task(taskEcho)), task(taskDbl)),
		task(taskSum),
	).success(task(taskEcho)).failure(task(taskEcho)))
	e.create(g)
	e.watch = g.ids()
	e.checkWatch()
	eff, err := e.s.StartGraph(e.ctx, g.root, []byte(`1`))
	if err != nil {
		t.Fatalf("StartGraph: %v", err)
	}
	ds := e.take(eff, g.root)
	only(t, "StartGraph", ds, sig.ChildID(g.root, 0), 1)
	run := e.claim(ds[0].Target)
	e.checkWatch()
	ds = e.complete(ds[0].Target, run, `2`)
	item0 := sig.ChildID(sig.ChildID(g.root, 1), 0)
	only(t, "step 0", ds, item0, 1)
	run = e.claim(item0)
	e.checkWatch()
	none(t, "suspend", e.apply(g.root, sig.OpSuspend).Dispatches)
	none(t, "resume of a running task", e.apply(g.root, sig.OpResume).Dispatches)
	e.drain(e.complete(item0, run, `3`))
	e.watch = nil

	expectJSON(t, "chain Result", e.status(g.root, sig.Done).Result, `7`)
	now := time.Now()
	for _, id := range g.ids() {
		rec := e.get(id)
		expectExpiry(t, rec, defaultDoneTTL, now.Add(-time.Minute), now)
	}
}

// clockStep is how far the clock must move between two writes for their
// expiries to differ on any store.
const clockStep = 20 * time.Millisecond

// passTime returns once the wall clock moved d past its reading at the
// call, polling with a deadline.
func (e *env) passTime(d time.Duration) {
	e.t.Helper()
	until := time.Now().Add(d)
	tick := time.NewTicker(d / 4)
	defer tick.Stop()
	for time.Now().Before(until) {
		select {
		case <-tick.C:
		case <-e.ctx.Done():
			e.t.Fatalf("waiting for the clock: %v", e.ctx.Err())
		}
	}
}

func testExpiryRefreshedOnWrite(t *testing.T, e *env) {
	g := e.graph(chain(task(taskInc), task(taskInc)))
	step0 := sig.ChildID(g.root, 0)
	e.create(g)
	rootExp, stepExp := e.get(g.root).ExpiresAt, e.get(step0).ExpiresAt

	e.passTime(clockStep)
	eff, err := e.s.StartGraph(e.ctx, g.root, []byte(`1`))
	if err != nil {
		t.Fatalf("StartGraph: %v", err)
	}
	e.take(eff, g.root)
	later := func(id string, was time.Time, what string) time.Time {
		t.Helper()
		now := e.get(id).ExpiresAt
		if !now.After(was) {
			t.Errorf("%s: ExpiresAt %v after %s, want later than %v", id, now, what, was)
		}
		return now
	}
	later(g.root, rootExp, "StartGraph")
	stepExp = later(step0, stepExp, "StartGraph")

	e.passTime(clockStep)
	run := e.claim(step0)
	later(step0, stepExp, "Claim")
	e.drain(e.complete(step0, run, `2`))
	e.status(g.root, sig.Done)
}

func testDoneTTLWhenGraphEnds(t *testing.T, e *env) {
	ttl := ttls{active: defaultActiveTTL, done: 2 * defaultDoneTTL}
	g := newGraph(sig.NewRootID(time.Now()), task(taskInc).success(task(taskEcho)).failure(task(taskEcho)), ttl)
	cb, eb := sig.SuccessID(g.root, 0), sig.ErrorID(g.root, 0)
	before := time.Now()
	ds := e.start(g, `1`)
	ds = e.exec(ds[0])
	only(t, "the root", ds, cb, 1)

	e.status(g.root, sig.Done)
	for _, id := range g.ids() {
		expectExpiry(t, e.get(id), ttl.active, before, time.Now())
	}

	run := e.claim(cb)
	before = time.Now()
	eff, err := e.s.Complete(e.ctx, cb, run, []byte(`2`))
	if err != nil {
		t.Fatalf("Complete(%s): %v", cb, err)
	}
	none(t, "the callback", eff.Dispatches)
	after := time.Now()
	for _, id := range []string{g.root, cb, eb} {
		expectExpiry(t, e.get(id), ttl.done, before, after)
	}
	e.status(eb, sig.Pending)
	if root := e.get(g.root); root.ActiveTTL != ttl.active || root.DoneTTL != ttl.done || !root.Finished {
		t.Errorf("root TTLs %v/%v Finished %v, want the graph's %v/%v and Finished", root.ActiveTTL, root.DoneTTL, root.Finished, ttl.active, ttl.done)
	}
	e.passTime(clockStep)
	if err := e.s.Ack(e.ctx, g.root, []string{"no-such-key"}); err != nil {
		t.Fatalf("Ack after the end: %v", err)
	}
	expectExpiry(t, e.get(g.root), ttl.done, before, after)
}

func testRecordsExpire(t *testing.T, e *env) {
	short := ttls{active: defaultActiveTTL, done: 200 * time.Millisecond}
	g := newGraph(sig.NewRootID(time.Now()), chain(task(taskInc), task(taskInc)).success(task(taskEcho)).failure(task(taskEcho)), short)
	e.drain(e.start(g, `1`))
	e.status(g.root, sig.Done)

	left := g.ids()
	deadline := time.Now().Add(expiryDeadline)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for len(left) > 0 {
		var still []string
		for _, id := range left {
			_, err := e.s.Get(e.ctx, id)
			switch {
			case errors.Is(err, storage.ErrNotFound):
			case err != nil:
				t.Fatalf("Get(%s): %v", id, err)
			default:
				still = append(still, id)
			}
		}
		left = still
		if len(left) == 0 {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("records %v still readable %v after their graph ended with DoneTTL %v", left, expiryDeadline, short.done)
		}
		select {
		case <-tick.C:
		case <-e.ctx.Done():
			t.Fatalf("waiting for expiry: %v", e.ctx.Err())
		}
	}
}

func testTouchRefreshesARunningGraph(t *testing.T, e *env) {
	g := e.graph(chain(task(taskInc), task(taskInc)))
	step0 := sig.ChildID(g.root, 0)
	e.start(g, `1`)
	run := e.claim(step0)
	before := e.get(step0)
	e.passTime(clockStep)
	if err := e.s.Touch(e.ctx, g.root); err != nil {
		t.Fatalf("Touch(%s): %v", g.root, err)
	}
	after := e.get(step0)
	if !after.ExpiresAt.After(before.ExpiresAt) {
		t.Errorf("ExpiresAt %v after Touch, want later than %v", after.ExpiresAt, before.ExpiresAt)
	}
	if !after.UpdatedAt.Equal(before.UpdatedAt) || after.Status != before.Status {
		t.Errorf("Touch changed the record: %+v, was %+v", after, before)
	}
	e.drain(e.complete(step0, run, `2`))
	done := e.get(g.root).ExpiresAt
	e.passTime(clockStep)
	if err := e.s.Touch(e.ctx, g.root); err != nil {
		t.Fatalf("Touch of an ended graph: %v", err)
	}
	if got := e.get(g.root).ExpiresAt; got.Sub(done).Abs() > clockStep/2 {
		t.Errorf("Touch of an ended graph moved its expiry from %v to %v", done, got)
	}
	if err := e.s.Touch(e.ctx, sig.NewRootID(time.Now())); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Touch of a missing graph = %v, want ErrNotFound", err)
	}
}

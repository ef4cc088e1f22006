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
			Rule: "Every record of a running graph has ExpiresAt set, within its ActiveTTL, after every operation on the graph.",
			Test: testExpirySetAfterEveryOperation,
		},
		{
			Name: "ExpiryRefreshedOnWrite",
			Rule: "A record's active expiry counts from its latest write: a transition that changes a record moves its ExpiresAt later.",
			Test: testExpiryRefreshedOnWrite,
		},
		{
			Name: "DoneTTLWhenGraphEnds",
			Rule: "A graph ends when its root is terminal and every entered record ended (callbacks included); then every record of it, entered or not, expires its own DoneTTL after that moment.",
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
		expectExpiry(t, rec, rec.DoneTTL, now.Add(-time.Minute), now)
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
	g := e.graph(task(taskInc).success(task(taskEcho)).failure(task(taskEcho)))
	cb, eb := sig.SuccessID(g.root, 0), sig.ErrorID(g.root, 0)
	for _, r := range g.recs {
		if r.ID == cb {
			r.DoneTTL = 2 * defaultDoneTTL
		}
	}
	before := time.Now()
	ds := e.start(g, `1`)
	ds = e.exec(ds[0])
	only(t, "the root", ds, cb, 1)

	e.status(g.root, sig.Done)
	for _, id := range g.ids() {
		rec := e.get(id)
		expectExpiry(t, rec, rec.ActiveTTL, before, time.Now())
	}

	run := e.claim(cb)
	before = time.Now()
	none(t, "the callback", e.complete(cb, run, `2`))
	after := time.Now()
	for _, id := range []string{g.root, cb, eb} {
		rec := e.get(id)
		expectExpiry(t, rec, rec.DoneTTL, before, after)
	}
	e.status(eb, sig.Pending)
	if rec := e.get(cb); rec.DoneTTL != 2*defaultDoneTTL {
		t.Errorf("callback DoneTTL = %v, want %v", rec.DoneTTL, 2*defaultDoneTTL)
	}
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

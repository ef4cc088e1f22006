package storagetest

import (
	"context"
	"errors"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
)

// notifyDeadline bounds the wait for an Ended channel to close.
const notifyDeadline = 5 * time.Second

// notifierCases check storage.Notifier on stores that implement it.
func notifierCases() []testCase {
	return []testCase{
		{
			Name: "NotifierEnded",
			Rule: "A store that implements Notifier closes Ended(ctx, id) once record id is terminal, promptly for a terminal or missing record, and when ctx ends; not before.",
			Test: testNotifierEnded,
		},
	}
}

// listerCases check storage.Lister on stores that implement it.
func listerCases() []testCase {
	return []testCase{
		{
			Name: "ListerRoots",
			Rule: "A store that implements Lister lists, page by page, the root of every graph it holds (created or started, running or ended) and no other id.",
			Test: testListerRoots,
		},
	}
}

func testListerRoots(t *testing.T, e *env) {
	l, ok := e.s.(storage.Lister)
	if !ok {
		t.Skip("store does not implement storage.Lister")
	}
	var want []string
	for i := range 7 {
		g := e.graph(chain(task(taskInc), task(taskInc)))
		switch i % 3 {
		case 0:
			e.create(g)
		case 1:
			e.start(g, `1`)
		default:
			e.drain(e.start(g, `1`))
		}
		want = append(want, g.root)
	}
	got := map[string]bool{}
	cursor, pages := "", 0
	for {
		roots, next, err := l.Roots(e.ctx, cursor, 2)
		if err != nil {
			t.Fatalf("Roots(%q, 2): %v", cursor, err)
		}
		for _, r := range roots {
			got[r] = true
		}
		pages++
		if next == "" {
			break
		}
		if pages > 100 {
			t.Fatalf("Roots still gives pages after %d", pages)
		}
		cursor = next
	}
	var list []string
	for r := range got {
		list = append(list, r)
	}
	if !sameSet(list, want) {
		t.Errorf("Roots listed %v, want the roots %v", list, want)
	}
}

// requestsCases check storage.Requests on stores that implement it.
func requestsCases() []testCase {
	return []testCase{
		{
			Name: "RequestsInOrder",
			Rule: "A store that implements Requests gives the queued requests back in the order they were queued, each once, and NextRequest reports none after waiting when the queue is empty.",
			Test: testRequestsInOrder,
		},
		{
			Name: "RequestsExpire",
			Rule: "A request whose deadline passed before a worker took it is never given back; the requests after it are; a request without a deadline is refused.",
			Test: testRequestsExpire,
		},
	}
}

func testRequestsInOrder(t *testing.T, e *env) {
	q, ok := e.s.(storage.Requests)
	if !ok {
		t.Skip("store does not implement storage.Requests")
	}
	if _, _, ok, err := q.NextRequest(e.ctx, 10*time.Millisecond); ok || err != nil {
		t.Fatalf("NextRequest on an empty queue = %v, %v; want none", ok, err)
	}
	a, b := sig.NewRootID(time.Now()), sig.NewRootID(time.Now())
	want := []struct {
		root string
		op   sig.Op
	}{{a, sig.OpSuspend}, {b, sig.OpCancel}, {a, sig.OpResume}}
	for _, r := range want {
		if err := q.Request(e.ctx, r.root, r.op, time.Now().Add(time.Minute)); err != nil {
			t.Fatalf("Request(%s, %s): %v", r.root, r.op, err)
		}
	}
	for i, w := range want {
		root, op, ok, err := q.NextRequest(e.ctx, time.Second)
		if err != nil || !ok || root != w.root || op != w.op {
			t.Fatalf("request %d = %s %s %v %v; want %s %s", i, root, op, ok, err, w.root, w.op)
		}
	}
	if _, _, ok, err := q.NextRequest(e.ctx, 10*time.Millisecond); ok || err != nil {
		t.Fatalf("NextRequest after every request was taken = %v, %v; want none", ok, err)
	}
}

func testRequestsExpire(t *testing.T, e *env) {
	q, ok := e.s.(storage.Requests)
	if !ok {
		t.Skip("store does not implement storage.Requests")
	}
	stale, fresh := sig.NewRootID(time.Now()), sig.NewRootID(time.Now())
	if err := q.Request(e.ctx, stale, sig.OpResume, time.Time{}); err == nil {
		t.Error("Request without a deadline was accepted")
	}
	if err := q.Request(e.ctx, stale, sig.OpResume, time.Now().Add(-time.Millisecond)); err != nil {
		t.Fatalf("Request(%s) with a passed deadline: %v", stale, err)
	}
	if err := q.Request(e.ctx, fresh, sig.OpCancel, time.Now().Add(time.Minute)); err != nil {
		t.Fatalf("Request(%s): %v", fresh, err)
	}
	root, op, ok, err := q.NextRequest(e.ctx, time.Second)
	if err != nil || !ok || root != fresh || op != sig.OpCancel {
		t.Fatalf("NextRequest = %s %s %v %v; want %s %s (the expired request dropped)", root, op, ok, err, fresh, sig.OpCancel)
	}
	if root, op, ok, err := q.NextRequest(e.ctx, 10*time.Millisecond); ok || err != nil {
		t.Fatalf("NextRequest after the last live request = %s %s %v %v; want none", root, op, ok, err)
	}
}

func testNotifierEnded(t *testing.T, e *env) {
	n, ok := e.s.(storage.Notifier)
	if !ok {
		t.Skip("store does not implement storage.Notifier")
	}
	closes := func(what string, ch <-chan struct{}) {
		t.Helper()
		select {
		case <-ch:
		case <-time.After(notifyDeadline):
			t.Fatalf("Ended(%s) still open after %v", what, notifyDeadline)
		}
	}
	open := func(what string, ch <-chan struct{}) {
		t.Helper()
		select {
		case <-ch:
			t.Fatalf("Ended(%s) closed too early", what)
		case <-time.After(50 * time.Millisecond):
		}
	}
	g := e.graph(chain(task(taskInc), task(taskInc)))
	ds := e.start(g, `1`)
	ended := n.Ended(e.ctx, g.root)
	open("root of a running chain", ended)
	e.drain(ds)
	closes("root after the chain ended", ended)
	closes("a done root", n.Ended(e.ctx, g.root))
	closes("a done step", n.Ended(e.ctx, sig.ChildID(g.root, 0)))
	closes("a missing record", n.Ended(e.ctx, sig.NewRootID(time.Now())))

	h := e.graph(task(taskInc))
	e.start(h, `1`)
	ctx, cancel := context.WithCancel(e.ctx)
	waiting := n.Ended(ctx, h.root)
	open("a pending task", waiting)
	cancel()
	closes("a pending task after its context ended", waiting)
}

// indexCases check Index.
func indexCases() []testCase {
	return []testCase{
		{
			Name: "IndexFlowsNewestFirst",
			Rule: "A store that implements Index lists the roots of its graphs newest first (creation time, then id), page by page with its cursor, bounded by Since and Until and filtered by an id prefix; a bad cursor is ErrState.",
			Test: testIndexFlowsNewestFirst,
		},
	}
}

func testIndexFlowsNewestFirst(t *testing.T, e *env) {
	x, ok := e.s.(storage.Index)
	if !ok {
		t.Skip("store does not implement storage.Index")
	}
	var want []*sig.Record
	for i := range 7 {
		g := e.graph(chain(task(taskInc), task(taskInc)))
		switch i % 3 {
		case 0:
			e.create(g)
		case 1:
			e.start(g, `1`)
		default:
			e.drain(e.start(g, `1`))
		}
		want = append(want, e.get(g.root))
	}
	slices.SortFunc(want, func(a, b *sig.Record) int {
		if c := b.CreatedAt.UnixMilli() - a.CreatedAt.UnixMilli(); c != 0 {
			return int(c)
		}
		return strings.Compare(b.ID, a.ID)
	})
	ids := func(rs []*sig.Record) []string {
		out := make([]string, len(rs))
		for i, r := range rs {
			out[i] = r.ID
		}
		return out
	}
	list := func(q storage.FlowQuery) []string {
		t.Helper()
		var got []string
		for pages := 0; ; pages++ {
			p, err := x.Flows(e.ctx, q)
			if err != nil {
				t.Fatalf("Flows(%+v): %v", q, err)
			}
			if len(p.Roots) > q.Limit {
				t.Fatalf("Flows(%+v) returned %d roots", q, len(p.Roots))
			}
			for _, r := range p.Roots {
				if r.Role != sig.RoleRoot || r.ExpiresAt.IsZero() {
					t.Errorf("Flows returned %s (role %s, expires %v)", r.ID, r.Role, r.ExpiresAt)
				}
			}
			got = append(got, ids(p.Roots)...)
			if p.Next == "" || pages > 20 {
				return got
			}
			q.Cursor = p.Next
		}
	}
	if got := list(storage.FlowQuery{Limit: 3}); !slices.Equal(got, ids(want)) {
		t.Errorf("pages of 3: %v, want %v", got, ids(want))
	}
	since := want[2].CreatedAt
	var newer []string
	for _, r := range want {
		if r.CreatedAt.UnixMilli() >= since.UnixMilli() {
			newer = append(newer, r.ID)
		}
	}
	if got := list(storage.FlowQuery{Limit: 2, Since: since}); !slices.Equal(got, newer) {
		t.Errorf("since %v: %v, want %v", since, got, newer)
	}
	if got := list(storage.FlowQuery{Limit: 10, Until: since}); !slices.Equal(got, without(ids(want), newer)) {
		t.Errorf("until %v: %v, want %v", since, got, without(ids(want), newer))
	}
	if got := list(storage.FlowQuery{Limit: 10, Prefix: want[4].ID}); !slices.Equal(got, []string{want[4].ID}) {
		t.Errorf("prefix %s: %v", want[4].ID, got)
	}
	if _, err := x.Flows(e.ctx, storage.FlowQuery{Limit: 1, Cursor: "nonsense"}); !errors.Is(err, storage.ErrState) {
		t.Errorf("a bad cursor: %v, want ErrState", err)
	}
}

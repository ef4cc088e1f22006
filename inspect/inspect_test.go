package inspect_test

import (
	"context"
	"errors"
	"testing"
	"time"

	"github.com/mageflow-go/mageflow/flow"
	"github.com/mageflow-go/mageflow/flowtest"
	"github.com/mageflow-go/mageflow/inspect"
	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
	"github.com/mageflow-go/mageflow/task"
)

var (
	inc  = task.New("inc", func(ctx context.Context, n int) (int, error) { return n + 1, nil })
	boom = task.New("boom", func(ctx context.Context, n int) (int, error) {
		return 0, task.NonRetryable(errors.New("boom"))
	})
	alert = task.New("alert", func(ctx context.Context, f flow.Failure[int]) (int, error) { return 0, nil })
)

// start runs f to its end in e and returns its id; the clock moves a
// second first, so flows started later are newer.
func start[Out any](t *testing.T, e *flowtest.Env, f flow.Flow[int, Out]) string {
	t.Helper()
	e.Clock.Advance(time.Second)
	r, err := flow.Start(context.Background(), e.Client, f, 1)
	if err != nil {
		t.Fatal(err)
	}
	e.Quiesce()
	return r.ID()
}

func TestListNewestFirstWithProgress(t *testing.T) {
	e := flowtest.New(t)
	e.Register(inc, boom, alert)
	chain := start(t, e, flow.Chain[int](inc, inc, inc))
	swarm := start(t, e, flow.Swarm[int, int](inc, boom, inc, inc))
	failed := start(t, e, flow.OnError[int, int](flow.Chain[int](inc, boom, inc), alert))

	got, err := inspect.List(context.Background(), e.Store, inspect.ListOptions{})
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != 3 || got[0].ID != failed || got[1].ID != swarm || got[2].ID != chain {
		t.Fatalf("List = %+v; want the failed chain, the swarm, the chain (newest first)", got)
	}
	type progress struct {
		status              sig.Status
		done, failed, total int
	}
	for i, want := range []progress{{sig.Failed, 2, 1, 3}, {sig.Done, 4, 1, 4}, {sig.Done, 3, 0, 3}} {
		s := got[i]
		if (progress{s.Status, s.Done, s.Failed, s.Total}) != want {
			t.Errorf("%s (%s): %s %d/%d failed %d; want %+v", s.ID, s.Kind, s.Status, s.Done, s.Total, s.Failed, want)
		}
		if !s.Finished || s.Created.IsZero() {
			t.Errorf("%s: Finished %v Created %v; want finished with a creation time", s.ID, s.Finished, s.Created)
		}
	}
	if got[0].Error == nil || got[0].Error.Message != "boom" {
		t.Errorf("failed flow's error = %+v; want boom", got[0].Error)
	}

	only, err := inspect.List(context.Background(), e.Store, inspect.ListOptions{Status: []sig.Status{sig.Failed}})
	if err != nil || len(only) != 1 || only[0].ID != failed {
		t.Errorf("List(failed) = %+v, %v; want the failed chain", only, err)
	}
	newest, err := inspect.List(context.Background(), e.Store, inspect.ListOptions{Limit: 2})
	if err != nil || len(newest) != 2 || newest[0].ID != failed {
		t.Errorf("List(limit 2) = %+v, %v; want the two newest", newest, err)
	}
}

// noLister hides the store's Lister.
type noLister struct{ storage.Store }

func TestListNeedsALister(t *testing.T) {
	e := flowtest.New(t)
	if _, err := inspect.List(context.Background(), noLister{e.Store}, inspect.ListOptions{}); !errors.Is(err, inspect.ErrNoListing) {
		t.Fatalf("List on a store without Lister = %v; want ErrNoListing", err)
	}
}

func TestTreeBoundsChildren(t *testing.T) {
	e := flowtest.New(t)
	e.Register(inc, alert)
	items := make([]flow.Flow[int, int], 60)
	for i := range items {
		items[i] = inc
	}
	id := start(t, e, flow.OnError[int, []int](flow.Swarm(items...), alert))
	root, err := inspect.Tree(context.Background(), e.Store, id, inspect.TreeOptions{MaxChildren: 10})
	if err != nil {
		t.Fatal(err)
	}
	if len(root.Children) != 10 || root.More != 50 || len(root.OnError) != 1 {
		t.Fatalf("tree: %d children, %d more, %d error callbacks; want 10, 50, 1", len(root.Children), root.More, len(root.OnError))
	}
	if root.Children[3].Record.ID != sig.ChildID(id, 3) || root.Children[3].Record.Status != sig.Done {
		t.Errorf("item 3 = %+v; want done, in order", root.Children[3].Record)
	}
	if cb := root.OnError[0].Record; cb.Status != sig.Pending || cb.Entered {
		t.Errorf("error callback of a swarm that did not fail: %s entered %v; want never started", cb.Status, cb.Entered)
	}
	n := 0
	root.Walk(func(*inspect.Node, int) { n++ })
	if n != 12 {
		t.Errorf("Walk visited %d nodes; want 12", n)
	}
	if done, failed, total := inspect.Progress(root.Record); done != 60 || failed != 0 || total != 60 {
		t.Errorf("Progress = %d, %d, %d; want 60, 0, 60", done, failed, total)
	}
}

func TestTreeShowsFailedItemsPastTheFirst(t *testing.T) {
	e := flowtest.New(t)
	e.Register(inc, boom)
	items := make([]flow.Flow[int, int], 30)
	for i := range items {
		items[i] = inc
	}
	items[3], items[17], items[25] = boom, boom, boom
	id := start(t, e, flow.Swarm(items...))
	root, err := inspect.Tree(context.Background(), e.Store, id, inspect.TreeOptions{MaxChildren: 5})
	if err != nil {
		t.Fatal(err)
	}
	if len(root.Children) != 5 || root.More != 25 || len(root.FailedMore) != 2 ||
		root.FailedMore[0].Record.ID != sig.ChildID(id, 17) || root.FailedMore[1].Record.ID != sig.ChildID(id, 25) {
		t.Fatalf("tree: %d children, %d more, failed past them %v; want items 17 and 25", len(root.Children), root.More, root.FailedMore)
	}
}

// startWith is start with start options.
func startWith[Out any](t *testing.T, e *flowtest.Env, f flow.Flow[int, Out], opts ...flow.StartOption) string {
	t.Helper()
	e.Clock.Advance(time.Second)
	r, err := flow.Start(context.Background(), e.Client, f, 1, opts...)
	if err != nil {
		t.Fatal(err)
	}
	e.Quiesce()
	return r.ID()
}

func TestListFiltersAndPages(t *testing.T) {
	e := flowtest.New(t)
	e.Register(inc, boom)
	ctx := context.Background()
	var checkouts []string
	for i := range 5 {
		f := flow.Named("checkout", flow.Chain[int](inc, inc))
		if i%2 == 1 {
			f = flow.Named("checkout", flow.Chain[int](inc, boom))
		}
		checkouts = append(checkouts, startWith(t, e, f, flow.WithMetadata(map[string]string{"customer": string(rune('a' + i%2))})))
	}
	other := startWith(t, e, flow.Named("import", flow.Chain[int](inc)))
	mid := e.Clock.Now().Add(500 * time.Millisecond)
	late := startWith(t, e, flow.Chain[int](inc))

	ids := func(opt inspect.ListOptions) []string {
		t.Helper()
		var out []string
		for range 10 {
			p, err := inspect.ListPage(ctx, e.Store, opt)
			if err != nil {
				t.Fatal(err)
			}
			for _, f := range p.Flows {
				out = append(out, f.ID)
			}
			if p.Next == "" {
				return out
			}
			opt.Cursor = p.Next
		}
		t.Fatal("more than 10 pages")
		return nil
	}
	eq := func(what string, got []string, want ...string) {
		t.Helper()
		if len(got) != len(want) {
			t.Errorf("%s: %v, want %v", what, got, want)
			return
		}
		for i := range got {
			if got[i] != want[i] {
				t.Errorf("%s: %v, want %v", what, got, want)
				return
			}
		}
	}
	eq("all, pages of 2", ids(inspect.ListOptions{Limit: 2}), late, other, checkouts[4], checkouts[3], checkouts[2], checkouts[1], checkouts[0])
	eq("name checkout, failed", ids(inspect.ListOptions{Name: "checkout", Status: []sig.Status{sig.Failed}, Limit: 1}), checkouts[3], checkouts[1])
	eq("metadata customer=b", ids(inspect.ListOptions{Metadata: map[string]string{"customer": "b"}}), checkouts[3], checkouts[1])
	eq("until mid", ids(inspect.ListOptions{Until: mid, Name: "import"}), other)
	eq("since mid", ids(inspect.ListOptions{Since: mid}), late)

	id, err := inspect.Resolve(ctx, e.Store, other[:len(other)-1])
	if err != nil || id != other {
		t.Errorf("Resolve of a prefix of %s: %q, %v", other, id, err)
	}
	if _, err := inspect.Resolve(ctx, e.Store, other[:2]); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Resolve of a 2-character prefix: %v, want not found", err)
	}
	if _, err := inspect.Resolve(ctx, e.Store, "ZZZZZZ"); !errors.Is(err, storage.ErrNotFound) {
		t.Errorf("Resolve of no flow's prefix: %v, want not found", err)
	}
	common := other[:4] // ids of one clock second share their first characters
	if _, err := inspect.Resolve(ctx, e.Store, common); err != nil && !errors.Is(err, inspect.ErrAmbiguous) {
		t.Errorf("Resolve of a prefix shared by the flows: %v", err)
	}
}

// A callback that will not fire says so: an error callback of a node that
// is done, a success callback of one that failed.
func TestTreeMarksCallbacksThatWillNotFire(t *testing.T) {
	e := flowtest.New(t)
	e.Register(inc, boom, alert)
	ok := start(t, e, flow.OnError[int, int](flow.OnSuccess[int, int, int](inc, inc), alert))
	bad := start(t, e, flow.OnError[int, int](flow.OnSuccess[int, int, int](boom, inc), alert))
	for _, c := range []struct {
		id          string
		success, er bool // will not fire
	}{{ok, false, true}, {bad, true, false}} {
		tree, err := inspect.Tree(context.Background(), e.Store, c.id, inspect.TreeOptions{})
		if err != nil {
			t.Fatal(err)
		}
		if tree.OnSuccess[0].WillNotFire != c.success || tree.OnError[0].WillNotFire != c.er {
			t.Errorf("%s (%s): success callback will not fire %v, error callback %v; want %v, %v",
				c.id, tree.Record.Status, tree.OnSuccess[0].WillNotFire, tree.OnError[0].WillNotFire, c.success, c.er)
		}
	}
}

// A filter that few flows pass reads at most ScanBudget(Limit) flows of
// the index a call: the page comes back short (empty here) with a Next
// to read on from, and the pages after it find the flow.
func TestAFilterFewFlowsPassReadsABudget(t *testing.T) {
	e := flowtest.New(t)
	e.Register(inc, boom)
	ctx := context.Background()
	failed := start(t, e, flow.Chain[int](inc, boom))
	e.Clock.Advance(time.Second)
	for range 1500 {
		if _, err := flow.Start(ctx, e.Client, flow.Chain[int](inc), 1); err != nil {
			t.Fatal(err)
		}
	}
	e.Quiesce()
	s := &reading{Store: e.Store}
	opt := inspect.ListOptions{Status: []sig.Status{sig.Failed}, Limit: 5}
	p, err := inspect.ListPage(ctx, s, opt)
	if err != nil {
		t.Fatal(err)
	}
	if budget := inspect.ScanBudget(5); s.read > budget || len(p.Flows) != 0 || p.Next == "" {
		t.Fatalf("the first page of failed flows: %d flows, next %q, %d flows read; want none, a next, at most %d read", len(p.Flows), p.Next, s.read, budget)
	}
	var found []string
	for pages := 0; p.Next != "" && pages < 5; pages++ {
		opt.Cursor = p.Next
		if p, err = inspect.ListPage(ctx, s, opt); err != nil {
			t.Fatal(err)
		}
		for _, f := range p.Flows {
			found = append(found, f.ID)
		}
	}
	if len(found) != 1 || found[0] != failed || p.Next != "" {
		t.Errorf("the pages after it: %v (next %q), want [%s] and the end", found, p.Next, failed)
	}
}

// reading is a store that counts the flows its index returns.
type reading struct {
	storage.Store
	read int
}

func (s *reading) Flows(ctx context.Context, q storage.FlowQuery) (storage.FlowPage, error) {
	p, err := s.Store.(storage.Index).Flows(ctx, q)
	s.read += len(p.Roots)
	return p, err
}

package flowsuite

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/mageflow-go/mageflow/flow"
	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/task"
)

// gauge tracks how many tasks run at once and the most seen.
type gauge struct {
	mu       sync.Mutex
	now, max int
}

func (g *gauge) enter() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.now++
	g.max = max(g.max, g.now)
}

func (g *gauge) leave() {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.now--
}

func (g *gauge) peak() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.max
}

func testSwarmOrderInputAndConcurrency(t *testing.T, h Harness) {
	t.Parallel()
	var g gauge
	release := make(chan struct{})
	var started atomic.Int32
	// item i adds i to the swarm's input; items finish in reverse order of
	// their index when released
	items := make([]flow.Flow[int, int], 12)
	var tasks []task.Registrable
	for i := range items {
		tk := task.New(fmt.Sprintf("add-%d", i), func(ctx context.Context, n int) (int, error) {
			g.enter()
			defer g.leave()
			started.Add(1)
			<-release
			return n + i, nil
		})
		items[i] = tk
		tasks = append(tasks, tk)
	}
	e := h.setup(t, tasks...)
	ctx := testCtx(t)
	run, err := flow.Start(ctx, e.Client, flow.Swarm(items...).WithConfig(flow.SwarmConfig{MaxConcurrency: 3}), 100)
	if err != nil {
		t.Fatal(err)
	}
	Eventually(t, "3 items to start", func() bool { return started.Load() == 3 })
	close(release)
	out, err := run.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := make([]int, 12)
	for i := range want {
		want[i] = 100 + i
	}
	if !slices.Equal(out, want) {
		t.Fatalf("output %v, want %v", out, want)
	}
	if p := g.peak(); p > 3 {
		t.Fatalf("%d items ran at once, cap is 3", p)
	}
}

func testSwarmDefaultConcurrencyIs30(t *testing.T, h Harness) {
	t.Parallel()
	var g gauge
	var started atomic.Int32
	release := make(chan struct{})
	slow := task.New("slow", func(ctx context.Context, n int) (int, error) {
		g.enter()
		defer g.leave()
		started.Add(1)
		<-release
		return n, nil
	})
	e := h.setup(t, slow)
	ctx := testCtx(t)
	items := make([]flow.Flow[int, int], 50)
	for i := range items {
		items[i] = slow
	}
	run, err := flow.Start(ctx, e.Client, flow.Swarm(items...), 1)
	if err != nil {
		t.Fatal(err)
	}
	Eventually(t, "30 items to start", func() bool { return started.Load() == 30 })
	close(release)
	out, err := run.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if len(out) != 50 || g.peak() != 30 {
		t.Fatalf("%d results, peak %d; want 50 results, peak 30", len(out), g.peak())
	}
}

func testSwarmToleratesFailuresByDefault(t *testing.T, h Harness) {
	t.Parallel()
	odd := task.New("fail-odd", func(ctx context.Context, n int) (int, error) {
		if n%2 == 1 {
			return 0, errors.New("odd")
		}
		return n, nil
	})
	// every item gets the swarm input, so bind an offset to vary it
	add := task.New("add", func(ctx context.Context, a flow.Args[int, int]) (int, error) { return a.Args + a.In, nil })
	e := h.setup(t, odd, add)
	ctx := testCtx(t)
	var items []flow.Flow[int, int]
	for i := 0; i < 6; i++ {
		items = append(items, flow.Then(flow.Bind(add, i), odd))
	}
	run, err := flow.Start(ctx, e.Client, flow.Swarm(items...), 10)
	if err != nil {
		t.Fatal(err)
	}
	out, err := run.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{10, 12, 14}; !slices.Equal(out, want) {
		t.Fatalf("output %v, want %v (successful items, item order)", out, want)
	}
}

func testSwarmStopsAfterNFailures(t *testing.T, h Harness) {
	t.Parallel()
	rec := NewRecorder()
	fail := task.New("fail", func(ctx context.Context, n int) (int, error) {
		rec.Add("fail")
		return 0, errors.New("no")
	})
	never := task.New("never", func(ctx context.Context, n int) (int, error) {
		rec.Add("never")
		return n, nil
	})
	alert := task.New("alert", func(ctx context.Context, f flow.Failure[int]) (int, error) {
		rec.Add("alert")
		return 0, nil
	})
	e := h.setup(t, fail, never, alert)
	ctx := testCtx(t)
	// one at a time: the two failing items run first; the rest never start
	s := flow.Swarm(fail, fail, never, never, never).WithConfig(flow.SwarmConfig{MaxConcurrency: 1, StopAfterNFailures: 2})
	run, err := flow.Start(ctx, e.Client, flow.OnError(s, alert), 1)
	if err != nil {
		t.Fatal(err)
	}
	_, err = run.Wait(ctx)
	var fe *flow.FailedError
	if !errors.As(err, &fe) || fe.Info.Kind != "swarm" {
		t.Fatalf("Wait error %v, want a swarm failure", err)
	}
	e.WaitEnded(t, run.ID())
	if rec.Count("fail") != 2 || rec.Count("never") != 0 || rec.Count("alert") != 1 {
		t.Fatalf("calls %v; want 2 failures, no pending item started, one alert", rec.Calls())
	}
}

// A swarm that fails at its limit stops the items still running: their
// tasks' contexts are canceled, their records end Canceled, and a nested
// item's later steps never run.
func testSwarmStopCancelsRunningItems(t *testing.T, h Harness) {
	t.Parallel()
	rec := NewRecorder()
	running := make(chan struct{})
	fail := task.New("fail", func(ctx context.Context, n int) (int, error) {
		<-running // fail once the other item runs
		return 0, task.NonRetryable(errors.New("no"))
	})
	hang := task.New("hang", func(ctx context.Context, n int) (int, error) {
		rec.Add("hang")
		close(running)
		<-ctx.Done() // until the swarm stops it
		rec.Add("stopped")
		return n, ctx.Err()
	})
	after := task.New("after", func(ctx context.Context, n int) (int, error) {
		rec.Add("after")
		return n, nil
	})
	e := h.setup(t, fail, hang, after)
	ctx := testCtx(t)
	s := flow.Swarm(fail, flow.Then(hang, after)).WithConfig(flow.SwarmConfig{StopAfterNFailures: 1})
	run, err := flow.Start(ctx, e.Client, s, 1)
	if err != nil {
		t.Fatal(err)
	}
	_, err = run.Wait(ctx)
	var fe *flow.FailedError
	if !errors.As(err, &fe) || fe.Info.Kind != "swarm" {
		t.Fatalf("Wait error %v, want a swarm failure", err)
	}
	e.WaitEnded(t, run.ID())
	Eventually(t, "the running item's task to see its context canceled", func() bool { return rec.Count("stopped") == 1 })
	item := sig.ChildID(run.ID(), 1)
	for _, id := range []string{item, sig.ChildID(item, 0), sig.ChildID(item, 1)} {
		r, err := e.Store.Get(ctx, id)
		if err != nil || r.Status != sig.Canceled {
			t.Errorf("record %s: %v %v; want canceled", id, r, err)
		}
	}
	if rec.Count("hang") != 1 || rec.Count("after") != 0 {
		t.Fatalf("calls %v; want hang once, after never", rec.Calls())
	}
}

func testSwarmConcurrentCompletionsExactlyOnce(t *testing.T, h Harness) {
	t.Parallel()
	rec := NewRecorder()
	var got []int
	var mu sync.Mutex
	done := task.New("done", func(ctx context.Context, xs []int) (int, error) {
		rec.Add("done")
		mu.Lock()
		got = xs
		mu.Unlock()
		return len(xs), nil
	})
	plus := task.New("plus", func(ctx context.Context, a flow.Args[int, int]) (int, error) { return a.Args + a.In, nil })
	e := h.setup(t, plus, done)
	ctx := testCtx(t)
	const n = 500
	items := make([]flow.Flow[int, int], n)
	for i := range items {
		items[i] = flow.Bind(plus, i)
	}
	s := flow.Swarm(items...).WithConfig(flow.SwarmConfig{MaxConcurrency: n})
	run, err := flow.Start(ctx, e.Client, flow.OnSuccess(s, done), 0)
	if err != nil {
		t.Fatal(err)
	}
	out, err := run.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	e.WaitEnded(t, run.ID())
	if rec.Count("done") != 1 {
		t.Fatalf("success callback fired %d times, want 1", rec.Count("done"))
	}
	mu.Lock()
	defer mu.Unlock()
	for i := 0; i < n; i++ {
		if out[i] != i || got[i] != i {
			t.Fatalf("item %d: output %d, callback saw %d", i, out[i], got[i])
		}
	}
}

func testSignSwarmGrowsWhileRunning(t *testing.T, h Harness) {
	t.Parallel()
	sq := task.New("square", func(ctx context.Context, n int) (int, error) { return n * n, nil })
	cube := task.New("cube", func(ctx context.Context, n int) (int, error) { return n * n * n, nil })
	e := h.setup(t, sq, cube)
	ctx := testCtx(t)
	ss, err := flow.SignSwarm(ctx, e.Client, flow.Swarm[int, int]().WithConfig(flow.SwarmConfig{MaxItems: 4}))
	if err != nil {
		t.Fatal(err)
	}
	if err := ss.Add(ctx, sq); err != nil {
		t.Fatal(err)
	}
	run, err := ss.Start(ctx, 3)
	if err != nil {
		t.Fatal(err)
	}
	if err := ss.Add(ctx, cube, sq); err != nil {
		t.Fatal(err)
	}
	st, err := run.Status(ctx)
	if err != nil || st.Terminal() {
		t.Fatalf("open swarm is %s (%v); it must wait for Close", st, err)
	}
	if err := ss.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if err := ss.Close(ctx); err != nil {
		t.Fatalf("second Close: %v", err)
	}
	out, err := run.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if want := []int{9, 27, 9}; !slices.Equal(out, want) {
		t.Fatalf("output %v, want %v", out, want)
	}
	if err := ss.Add(ctx, sq); err == nil {
		t.Fatal("Add to an ended swarm succeeded")
	}
}

func testSignSwarmMaxItemsClosesIt(t *testing.T, h Harness) {
	t.Parallel()
	sq := task.New("square", func(ctx context.Context, n int) (int, error) { return n * n, nil })
	e := h.setup(t, sq)
	ctx := testCtx(t)
	ss, err := flow.SignSwarm(ctx, e.Client, flow.Swarm[int, int]().WithConfig(flow.SwarmConfig{MaxItems: 2}))
	if err != nil {
		t.Fatal(err)
	}
	run, err := ss.Start(ctx, 2)
	if err != nil {
		t.Fatal(err)
	}
	if err := ss.Add(ctx, sq, sq, sq); err == nil {
		t.Fatal("adding 3 items to a swarm capped at 2 succeeded")
	}
	if err := ss.Add(ctx, sq, sq); err != nil {
		t.Fatal(err)
	}
	out, err := run.Wait(ctx) // closed by reaching MaxItems
	if err != nil {
		t.Fatal(err)
	}
	if !slices.Equal(out, []int{4, 4}) {
		t.Fatalf("output %v", out)
	}
}

func testSwarmNestsChainsAndIsAChainStep(t *testing.T, h Harness) {
	t.Parallel()
	sum := sumInts
	e := h.setup(t, double, inc, sum)
	ctx := testCtx(t)
	// 5 -> swarm[double, inc->double, swarm-as-item...] -> sum
	inner := flow.Then(flow.Swarm(inc, double), sum) // 5 -> [6,10] -> 16
	f := flow.Then(flow.Swarm(double, flow.Then(inc, double), inner), sum)
	run, err := flow.Start(ctx, e.Client, f, 5)
	if err != nil {
		t.Fatal(err)
	}
	out, err := run.Wait(ctx)
	if err != nil {
		t.Fatal(err)
	}
	if out != 10+12+16 {
		t.Fatalf("output %d, want %d", out, 10+12+16)
	}
}

// A settled swarm's output lists every item's outcome in item order, so
// that its fan-in knows which items failed and why.
func testSettledSwarmListsEveryItem(t *testing.T, h Harness) {
	t.Parallel()
	picky := task.New("picky", func(ctx context.Context, n int) (int, error) {
		if n%2 == 1 {
			return 0, task.NonRetryable(errors.New("odd"))
		}
		return n * 10, nil
	})
	fanIn := task.New("fan-in", func(ctx context.Context, os []flow.Outcome[int]) (string, error) {
		var b strings.Builder
		for _, o := range os {
			if o.OK() {
				fmt.Fprintf(&b, "%d:%d ", o.Index, o.Result)
			} else {
				fmt.Fprintf(&b, "%d:%s(%s) ", o.Index, o.Error.Message, o.Error.Task)
			}
		}
		return b.String(), nil
	})
	e := h.setup(t, inc, picky, fanIn)
	ctx := testCtx(t)
	f := flow.Then(flow.Settled(flow.Swarm(picky, flow.Then(inc, picky), picky)), fanIn)
	run, err := flow.Start(ctx, e.Client, f, 2)
	if err != nil {
		t.Fatal(err)
	}
	out, err := run.Wait(ctx)
	if want := "0:20 1:odd(picky) 2:20 "; err != nil || out != want {
		t.Fatalf("Wait = %q, %v; want %q", out, err, want)
	}
}

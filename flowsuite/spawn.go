package flowsuite

import (
	"context"
	"errors"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/mageflow-go/mageflow"
	"github.com/mageflow-go/mageflow/flow"
	"github.com/mageflow-go/mageflow/task"
)

// spawner is a durable task that starts two chains, fails its first
// attempt after starting them, and returns their outputs on its second.
type spawner struct {
	client atomic.Pointer[mageflow.Client]
	rec    *Recorder
	mu     sync.Mutex
	ids    map[int][]string // attempt -> child run ids
	tasks  []task.Registrable
	parent task.Task[int, []int]
}

func newSpawner() *spawner {
	s := &spawner{rec: NewRecorder(), ids: map[int][]string{}}
	step := func(name string, d int) task.Task[int, int] {
		return task.New(name, func(ctx context.Context, n int) (int, error) {
			s.rec.Add(name)
			return n + d, nil
		})
	}
	a, b, c := step("a", 1), step("b", 10), step("c", 100)
	s.parent = task.New("parent", func(ctx context.Context, n int) ([]int, error) {
		info, _ := task.Info(ctx)
		first, err := flow.Start(ctx, s.client.Load(), flow.Then(a, b), n)
		if err != nil {
			return nil, err
		}
		second, err := flow.Start(ctx, s.client.Load(), c, n)
		if err != nil {
			return nil, err
		}
		s.mu.Lock()
		s.ids[info.Attempt] = []string{first.ID(), second.ID()}
		s.mu.Unlock()
		if info.Attempt == 1 {
			return nil, errors.New("failing after starting the chains")
		}
		x, err := first.Wait(ctx)
		if err != nil {
			return nil, err
		}
		y, err := second.Wait(ctx)
		if err != nil {
			return nil, err
		}
		return []int{x, y}, nil
	}, task.WithRetries(2), task.Durable())
	s.tasks = []task.Registrable{a, b, c, s.parent}
	return s
}

func testRetriedTaskStartsItsFlowsOnce(t *testing.T, h Harness) {
	t.Parallel()
	s := newSpawner()
	e := h.setup(t, s.tasks...)
	s.client.Store(e.Client)
	ctx := testCtx(t)
	run, err := flow.Start(ctx, e.Client, s.parent, 5)
	if err != nil {
		t.Fatal(err)
	}
	out, err := run.Wait(ctx)
	if err != nil || len(out) != 2 || out[0] != 16 || out[1] != 105 {
		t.Fatalf("Wait = %v, %v; want [16 105]", out, err)
	}
	s.mu.Lock()
	first, second := s.ids[1], s.ids[2]
	s.mu.Unlock()
	if len(first) != 2 || len(second) != 2 || first[0] != second[0] || first[1] != second[1] || first[0] == first[1] {
		t.Fatalf("attempt 1 started %v, attempt 2 %v: want the same two distinct runs", first, second)
	}
	for _, id := range first {
		e.WaitEnded(t, id)
	}
	for _, name := range []string{"a", "b", "c"} {
		if n := s.rec.Count(name); n != 1 {
			t.Errorf("%s ran %d times, want once", name, n)
		}
	}
}

func testFreshIDsStartFlowsAgain(t *testing.T, h Harness) {
	t.Parallel()
	s := newSpawner()
	e := h.setupWith(t, []mageflow.Option{mageflow.WithFreshIDs()}, s.tasks...)
	s.client.Store(e.Client)
	ctx := testCtx(t)
	run, err := flow.Start(ctx, e.Client, s.parent, 5)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := run.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	s.mu.Lock()
	first, second := s.ids[1], s.ids[2]
	s.mu.Unlock()
	if len(first) != 2 || len(second) != 2 || first[0] == second[0] {
		t.Fatalf("attempt 1 started %v, attempt 2 %v: want new runs on the retry", first, second)
	}
	Eventually(t, "the first attempt's chain to run", func() bool { return s.rec.Count("b") == 2 })
}

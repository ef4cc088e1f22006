package flow_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mageflow-go/mageflow"
	membackend "github.com/mageflow-go/mageflow/backend/memory"
	"github.com/mageflow-go/mageflow/flow"
	"github.com/mageflow-go/mageflow/flowsuite"
	"github.com/mageflow-go/mageflow/internal/teststore"
	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
	"github.com/mageflow-go/mageflow/task"
)

// aheadStore counts the claims and completions of a store, and calls
// its hooks after the operations they name.
type aheadStore struct {
	storage.Store
	claims, completes atomic.Int64
	// afterAhead, when set, replaces the reply of a CompleteAhead that
	// applied; afterConfirm hears of each Confirm that succeeded.
	afterAhead   func(id string, eff storage.Effects) (storage.Effects, error)
	afterConfirm func(id string)
}

func (s *aheadStore) Claim(ctx context.Context, id, runID string) (storage.Claim, error) {
	s.claims.Add(1)
	return s.Store.Claim(ctx, id, runID)
}

func (s *aheadStore) Complete(ctx context.Context, id, runID string, result []byte) (storage.Effects, error) {
	s.completes.Add(1)
	return s.Store.Complete(ctx, id, runID, result)
}

func (s *aheadStore) CompleteAhead(ctx context.Context, id, runID string, result []byte, next string, lease time.Duration) (storage.Effects, error) {
	s.completes.Add(1)
	eff, err := storage.CompleteAhead(ctx, s.Store, id, runID, result, next, lease)
	if err == nil && s.afterAhead != nil {
		return s.afterAhead(id, eff)
	}
	return eff, err
}

func (s *aheadStore) Confirm(ctx context.Context, id, runID string) error {
	err := storage.Confirm(ctx, s.Store, id, runID)
	if err == nil && s.afterConfirm != nil {
		s.afterConfirm(id)
	}
	return err
}

// aheadClient is a client over b and s with tasks registered and its
// worker started; stop stops the worker.
func aheadClient(t *testing.T, b *membackend.Backend, s storage.Store, opts []mageflow.Option, tasks ...task.Registrable) (*mageflow.Client, func()) {
	t.Helper()
	env := flowsuite.NewEnv(t, b, flowsuite.Store{Store: s}, opts, tasks...)
	return env.Client, env.Stop
}

// countingSteps returns n steps that add 1 and count their runs.
func countingSteps(n int, runs *flowsuite.Recorder) ([]flow.Flow[int, int], []task.Registrable) {
	var steps []flow.Flow[int, int]
	var regs []task.Registrable
	for i := range n {
		name := fmt.Sprintf("step-%d", i)
		st := task.New(name, func(ctx context.Context, v int) (int, error) {
			runs.Add(name)
			return v + 1, nil
		})
		steps = append(steps, st)
		regs = append(regs, st)
	}
	return steps, regs
}

// TestChainStepIsOneStoreOperation: on the memory backend, the operation
// that completes a chain step claims the next step, which the same worker
// runs: a chain of n steps costs one claim and n completions.
func TestChainStepIsOneStoreOperation(t *testing.T) {
	t.Parallel()
	runs := flowsuite.NewRecorder()
	steps, regs := countingSteps(6, runs)
	s := &aheadStore{Store: teststore.New(t).Store}
	c, _ := aheadClient(t, membackend.New(), s, nil, regs...)
	ctx := testCtx(t)
	run, err := flow.Start(ctx, c, flow.Chain(steps...), 0)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := run.Wait(ctx); err != nil || out != 6 {
		t.Fatalf("Wait = %d, %v; want 6", out, err)
	}
	if n := s.claims.Load(); n != 1 {
		t.Errorf("%d claims, want 1 (the first step's)", n)
	}
	if n := s.completes.Load(); n != 6 {
		t.Errorf("%d completions, want 6", n)
	}
	for name, n := range runs.Calls() {
		if n != 1 {
			t.Errorf("%s ran %d times, want once", name, n)
		}
	}
}

// TestClaimedAheadStepConfirmsItsClaim: a step claimed ahead that runs
// on confirms its claim at the worker's next recovery tick, before the
// grace after which a worker would deliver it again: its dispatch is owed
// no more while it runs.
func TestClaimedAheadStepConfirmsItsClaim(t *testing.T) {
	t.Parallel()
	confirmed := make(chan string, 1)
	s := &aheadStore{Store: teststore.New(t).Store, afterConfirm: func(id string) {
		select {
		case confirmed <- id:
		default:
		}
	}}
	var slowRuns atomic.Int64
	first := task.New("first", func(ctx context.Context, v int) (int, error) { return v + 1, nil })
	slow := task.New("slow", func(ctx context.Context, v int) (int, error) {
		slowRuns.Add(1)
		info, _ := task.Info(ctx)
		id := info.Record
		select {
		case got := <-confirmed:
			if got != id {
				return 0, fmt.Errorf("confirmed %s, want %s", got, id)
			}
		case <-ctx.Done():
			return 0, ctx.Err()
		}
		r, err := s.Get(ctx, id)
		if err != nil {
			return 0, err
		}
		if r.ClaimedAhead() || len(r.Outbox) != 0 || r.Status != sig.Active {
			return 0, fmt.Errorf("confirmed while running: Ahead %v, outbox %d, %s; want false, 0, active", r.ClaimedAhead(), len(r.Outbox), r.Status)
		}
		return v * 10, nil
	})
	c, _ := aheadClient(t, membackend.New(), s, []mageflow.Option{mageflow.WithSweep(20*time.Millisecond, 200*time.Millisecond)}, first, slow)
	ctx := testCtx(t)
	run, err := flow.Start(ctx, c, flow.Then(first, slow), 1)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := run.Wait(ctx); err != nil || out != 20 {
		t.Fatalf("Wait = %d, %v; want 20", out, err)
	}
	if n := slowRuns.Load(); n != 1 {
		t.Errorf("slow ran %d times, want once", n)
	}
	if n := s.claims.Load(); n != 1 {
		t.Errorf("%d claims, want 1 (the first step's): the second ran on the claim made ahead", n)
	}
}

// TestClaimedAheadStepRecoveredAfterItsWorkerDied: the worker that
// completed a step and claimed the next one ahead dies before it sends
// that step (the store applied the operation; its reply never came). The
// step's dispatch stays owed; another worker delivers it after its grace,
// and once the claim's lease (the first worker's grace) is over, that
// delivery takes the claim over: the step runs once.
func TestClaimedAheadStepRecoveredAfterItsWorkerDied(t *testing.T) {
	t.Parallel()
	runs := flowsuite.NewRecorder()
	steps, regs := countingSteps(3, runs)
	base := teststore.New(t).Store
	var died atomic.Bool
	dying := &aheadStore{Store: base, afterAhead: func(id string, eff storage.Effects) (storage.Effects, error) {
		if eff.Claimed == "" || died.Swap(true) {
			return eff, nil
		}
		// the operation applied, and its worker is gone: it sends nothing
		return storage.Effects{}, fmt.Errorf("worker died after completing %s: %w", id, storage.ErrNotOwner)
	}}
	a, stopA := aheadClient(t, membackend.New(), dying, []mageflow.Option{mageflow.WithSweep(20*time.Millisecond, 300*time.Millisecond)}, regs...)
	ctx := testCtx(t)
	run, err := flow.Start(ctx, a, flow.Chain(steps...), 0)
	if err != nil {
		t.Fatal(err)
	}
	step1 := sig.ChildID(run.ID(), 1)
	flowsuite.Eventually(t, "the second step claimed ahead", func() bool {
		r, err := base.Get(ctx, step1)
		return err == nil && r.ClaimedAhead() && died.Load()
	})
	stopA()
	r, err := base.Get(ctx, step1)
	if err != nil {
		t.Fatal(err)
	}
	if len(r.Outbox) != 1 || r.Outbox[0].Run != r.RunID {
		t.Fatalf("step claimed ahead: outbox %+v, want its dispatch naming run %s", r.Outbox, r.RunID)
	}

	b, _ := aheadClient(t, membackend.New(), base, []mageflow.Option{mageflow.WithSweep(20*time.Millisecond, 100*time.Millisecond)}, regs...)
	got, err := flow.Attach[int](b, run.ID())
	if err != nil {
		t.Fatal(err)
	}
	if out, err := got.Wait(ctx); err != nil || out != 3 {
		t.Fatalf("Wait = %d, %v; want 3", out, err)
	}
	for name, n := range runs.Calls() {
		if n != 1 {
			t.Errorf("%s ran %d times, want once", name, n)
		}
	}
	if n := len(runs.Calls()); n != 3 {
		t.Errorf("%d steps ran, want 3", n)
	}
}

// TestClaimedAheadStepConfirmsWhileItsWorkerStops: a worker that stops
// while a step claimed ahead runs goes on confirming that claim until the
// step returned, so that no other worker takes the claim over.
func TestClaimedAheadStepConfirmsWhileItsWorkerStops(t *testing.T) {
	t.Parallel()
	confirmed := make(chan struct{})
	var once sync.Once
	s := &aheadStore{Store: teststore.New(t).Store, afterConfirm: func(string) { once.Do(func() { close(confirmed) }) }}
	running := make(chan struct{})
	var slowRuns atomic.Int64
	first := task.New("first", func(ctx context.Context, v int) (int, error) { return v + 1, nil })
	slow := task.New("slow", func(ctx context.Context, v int) (int, error) {
		slowRuns.Add(1)
		close(running)
		select {
		case <-confirmed:
			return v * 10, nil
		case <-ctx.Done():
			return 0, ctx.Err()
		}
	})
	c, stop := aheadClient(t, membackend.New(), s, []mageflow.Option{mageflow.WithSweep(time.Hour, 200*time.Millisecond)}, first, slow)
	ctx := testCtx(t)
	run, err := flow.Start(ctx, c, flow.Then(first, slow), 1)
	if err != nil {
		t.Fatal(err)
	}
	<-running
	stop() // waits for the step, which waits for its claim's confirmation
	if out, err := run.Wait(ctx); err != nil || out != 20 {
		t.Fatalf("Wait = %d, %v; want 20", out, err)
	}
	if n := slowRuns.Load(); n != 1 {
		t.Errorf("slow ran %d times, want once", n)
	}
}

// TestClaimedAheadStepConfirmsBeforeItsRetry: an attempt on a claim made
// ahead that fails, and waits for its retry, confirms the claim first:
// the backoff may outlast the lease.
func TestClaimedAheadStepConfirmsBeforeItsRetry(t *testing.T) {
	t.Parallel()
	var confirms atomic.Int64
	s := &aheadStore{Store: teststore.New(t).Store, afterConfirm: func(string) { confirms.Add(1) }}
	var attempts atomic.Int64
	first := task.New("first", func(ctx context.Context, v int) (int, error) { return v + 1, nil })
	flaky := task.New("flaky", func(ctx context.Context, v int) (int, error) {
		if attempts.Add(1) == 1 {
			return 0, errors.New("once")
		}
		if confirms.Load() == 0 {
			return 0, task.NonRetryable(errors.New("the retry came before the claim was confirmed"))
		}
		return v * 10, nil
	}, task.WithRetries(1))
	c, _ := aheadClient(t, membackend.New(), s, []mageflow.Option{mageflow.WithSweep(time.Hour, 2*time.Hour)}, first, flaky)
	ctx := testCtx(t)
	run, err := flow.Start(ctx, c, flow.Then(first, flaky), 1)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := run.Wait(ctx); err != nil || out != 20 {
		t.Fatalf("Wait = %d, %v; want 20", out, err)
	}
	if n := attempts.Load(); n != 2 {
		t.Errorf("flaky made %d attempts, want 2", n)
	}
	r, err := s.Get(ctx, sig.ChildID(run.ID(), 1))
	if err != nil {
		t.Fatal(err)
	}
	if r.Attempts != 2 {
		t.Errorf("record Attempts %d, want 2", r.Attempts)
	}
}

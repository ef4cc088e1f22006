package flowsuite

import (
	"context"
	"errors"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/mageflow-go/mageflow/flow"
	"github.com/mageflow-go/mageflow/task"
)

// A task whose retry arrives while its flow is suspended keeps the
// attempts it made: after Resume it runs the attempts it has left,
// numbered on from them, and no more.
func testSuspendedRetryKeepsItsAttempts(t *testing.T, h Harness) {
	t.Parallel()
	var (
		mu   sync.Mutex
		seen []int
	)
	started, release := make(chan struct{}, 10), make(chan struct{})
	flaky := task.New("flaky", func(ctx context.Context, n int) (int, error) {
		info, _ := task.Info(ctx)
		mu.Lock()
		seen = append(seen, info.Attempt)
		mu.Unlock()
		started <- struct{}{}
		if info.Attempt == 1 {
			select {
			case <-release:
			case <-ctx.Done():
			}
		}
		return 0, errors.New("flaky fails")
	}, task.WithRetries(1), task.WithBackoff(time.Millisecond, time.Millisecond))
	e := h.setup(t, flaky)
	ctx := testCtx(t)
	run := startAwaiting(t, ctx, e.Client, flaky, started)
	if err := run.Suspend(ctx); err != nil {
		t.Fatal(err)
	}
	close(release)
	Eventually(t, "the retry to be held", func() bool {
		rec, err := e.Store.Get(ctx, run.ID())
		return err == nil && rec.Held
	})
	if err := run.Resume(ctx); err != nil {
		t.Fatal(err)
	}
	_, err := run.Wait(ctx)
	var fe *flow.FailedError
	if !errors.As(err, &fe) || fe.Info.Attempts != 2 {
		t.Fatalf("Wait = %v; want a failure after 2 attempts", err)
	}
	mu.Lock()
	defer mu.Unlock()
	if !slices.Equal(seen, []int{1, 2}) {
		t.Fatalf("attempts run %v, want [1 2]: the held retry is the second attempt, and the last", seen)
	}
}

package flowsuite

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/mageflow-go/mageflow"
	"github.com/mageflow-go/mageflow/flow"
	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/task"
)

// expectErr checks that err matches every one of want and that its
// message says what happened once: it names the id once and carries no
// message of the layers below (storage).
func expectErr(t *testing.T, what, id string, err error, want ...error) {
	t.Helper()
	if err == nil {
		t.Errorf("%s: no error", what)
		return
	}
	for _, w := range want {
		if !errors.Is(err, w) {
			t.Errorf("%s: %v; want it to match %v", what, err, w)
		}
	}
	msg := err.Error()
	if strings.Contains(msg, "storage") || strings.Count(msg, id) != 1 || strings.Count(msg, "mageflow:") != 1 {
		t.Errorf("%s: the message stutters or speaks of the store: %q", what, msg)
	}
}

// The errors users match come from the root package, on every backend and
// store, with messages that say what happened once.
func testErrorsUsersMatch(t *testing.T, h Harness) {
	t.Parallel()
	g, slow := newGate("slow")
	defer close(g.release)
	e := h.setup(t, slow, inc, double)
	ctx := testCtx(t)

	canceled, err := flow.Sign(ctx, e.Client, flow.Then(inc, inc))
	if err != nil {
		t.Fatal(err)
	}
	if err := canceled.Cancel(ctx); err != nil {
		t.Fatal(err)
	}
	_, err = canceled.Start(ctx, 1)
	expectErr(t, "Start after Cancel", canceled.ID(), err, mageflow.ErrCanceled, mageflow.ErrFinished)
	expectErr(t, "Suspend after Cancel", canceled.ID(), canceled.Suspend(ctx), mageflow.ErrCanceled, mageflow.ErrFinished)
	canceledRun, err := flow.Attach[int](e.Client, canceled.ID())
	if err != nil {
		t.Fatal(err)
	}
	_, err = canceledRun.Wait(ctx)
	expectErr(t, "Wait on a canceled flow", canceled.ID(), err, mageflow.ErrCanceled)

	started, err := flow.Sign(ctx, e.Client, flow.Then(slow, inc))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := started.Start(ctx, 1); err != nil {
		t.Fatal(err)
	}
	_, err = started.Start(ctx, 1)
	expectErr(t, "a second Sig.Start", started.ID(), err, mageflow.ErrStarted)
	expectErr(t, "Resume of a running flow", started.ID(), started.Resume(ctx), mageflow.ErrNotPaused)

	sw, err := flow.SignSwarm(ctx, e.Client, flow.Swarm(slow))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := sw.Start(ctx, 1); err != nil {
		t.Fatal(err)
	}
	_, err = sw.Start(ctx, 1)
	expectErr(t, "a second SwarmSig.Start", sw.ID(), err, mageflow.ErrStarted)
	if err := sw.Close(ctx); err != nil {
		t.Fatal(err)
	}
	expectErr(t, "Add to a closed swarm", sw.ID(), sw.Add(ctx, slow), mageflow.ErrSwarmClosed)

	done, err := flow.Start(ctx, e.Client, inc, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := done.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	expectErr(t, "Suspend of a flow that ended", done.ID(), done.Suspend(ctx), mageflow.ErrFinished)

	missing := sig.NewRootID(time.Now())
	gone, err := flow.Attach[int](e.Client, missing)
	if err == nil {
		_, err = gone.Status(ctx)
		expectErr(t, "Status of a flow never stored", missing, err, mageflow.ErrNotFound)
		expectErr(t, "Suspend of a flow never stored", missing, gone.Suspend(ctx), mageflow.ErrNotFound)
	}

	// inside a task, a second start of a signed flow is refused too, but
	// a retried attempt that starts it again with the same input gets the
	// same run
	var second, again, outsider error
	var firstID, againID string
	outside, err := flow.Sign(ctx, e.Client, flow.Then(slow, inc))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := outside.Start(ctx, 1); err != nil {
		t.Fatal(err)
	}
	starter := task.New("starter", func(ctx context.Context, n int) (int, error) {
		_, outsider = outside.Start(ctx, 1) // signed and started elsewhere
		// held at its first step until the test ends: it is still
		// running when it is started again
		s, err := flow.Sign(ctx, e.Client, flow.Then(slow, inc))
		if err != nil {
			return 0, err
		}
		r, err := s.Start(ctx, n)
		if err != nil {
			return 0, err
		}
		firstID = r.ID()
		_, second = s.Start(ctx, n+100)
		r2, err := s.Start(ctx, n)
		again = err
		if err == nil {
			againID = r2.ID()
		}
		return n, nil
	})
	e2 := h.setup(t, starter, inc)
	run, err := flow.Start(ctx, e2.Client, starter, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := run.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	if !errors.Is(outsider, mageflow.ErrStarted) {
		t.Errorf("Sig.Start inside a task of a flow started elsewhere, with the same input: %v; want ErrStarted", outsider)
	}
	if !errors.Is(second, mageflow.ErrStarted) {
		t.Errorf("a second Sig.Start with another input inside a task: %v; want ErrStarted", second)
	}
	if again != nil || againID != firstID {
		t.Errorf("Sig.Start again with the same input inside a task = %s, %v; want the same run %s", againID, again, firstID)
	}
}

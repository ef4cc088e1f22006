package chaos

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"github.com/mageflow-go/mageflow"
	"github.com/mageflow-go/mageflow/backend/hatchet/internal/hatchettest"
	"github.com/mageflow-go/mageflow/internal/redistest"
)

// TestRefuseTriggers: the engine refuses every trigger of the workers for
// 5 to 30 s, longer than the engine's send tries, as a loaded Hatchet
// answers "no trigger slots". In half the runs it takes each trigger and
// its reply is lost instead, so the same dispatch reaches the engine again
// once it is sent again.
func TestRefuseTriggers(t *testing.T) {
	scenario(t, "6 engine refuses triggers", false, func(t *testing.T, ctx context.Context, seed uint64) *run {
		r := newRun(t, hatchettest.Engine(t), redistest.NewServer(t), 3, seed, "-refusals")
		r.startOrders(ctx, cfg.flows, 4)
		r.atProgress(ctx, r.early(orderExecutions(cfg.flows)))
		mode := []string{"refuse", "lose"}[r.rng.IntN(2)]
		d := time.Duration(5000+r.rng.IntN(25000)) * time.Millisecond
		r.fault(fmt.Sprintf("the engine will %s triggers for %v", mode, d))
		if err := r.rc.Set(ctx, r.logKey+":refuse", mode, d).Err(); err != nil {
			t.Fatal(err)
		}
		return r
	}, settleBound)
}

// TestCutReplies: the store's replies to the workers are cut after Redis
// applied the command, one in n for a few seconds (a proxy between them
// drops the reply and closes the connection): claims, completions, creates
// and acknowledgements whose outcome the worker cannot know. The execution
// log bypasses the proxy.
func TestCutReplies(t *testing.T) {
	scenario(t, "7 cut store replies", false, func(t *testing.T, ctx context.Context, seed uint64) *run {
		srv := redistest.NewServer(t)
		px := newProxy(t, srv.Addr)
		r := newRun(t, hatchettest.Engine(t), srv, 3, seed, "-redis", px.Addr(), "-log-redis", srv.Addr)
		r.startOrders(ctx, cfg.flows, 4)
		r.atProgress(ctx, r.early(orderExecutions(cfg.flows)))
		every := 2 + r.rng.IntN(9)
		d := time.Duration(3000+r.rng.IntN(9000)) * time.Millisecond
		r.fault(fmt.Sprintf("cutting one store reply in %d for %v", every, d))
		px.cut(every)
		<-time.After(d) // the fault's length, not a wait for an event
		px.cut(0)
		t.Logf("%s: %d of %d replies cut", since(r.began), px.cuts.Load(), px.replies.Load())
		return r
	}, settleBound)
}

// TestLifecycleKills: Interrupt and Cancel strike running flows while
// workers die around them: one is killed just before or just after the
// operations, another perhaps while the interrupted flows are paused, and
// Resume follows. A canceled flow ends canceled with no callback
// completing; an interrupted one ends as if nothing happened, its stopped
// tasks run again.
func TestLifecycleKills(t *testing.T) {
	scenario(t, "8 interrupt and cancel crossing kills", false, func(t *testing.T, ctx context.Context, seed uint64) *run {
		r := newRun(t, hatchettest.Engine(t), redistest.NewServer(t), 3, seed)
		r.startOrders(ctx, cfg.flows, 4)
		r.atProgress(ctx, r.progress(orderExecutions(cfg.flows)))
		before := r.rng.IntN(2) == 0
		if before {
			r.killOne()
		}
		var paused []*expectation
		canceled := 0
		r.fault("interrupting and canceling flows")
		for i := range r.flows {
			f := &r.flows[i]
			switch r.rng.IntN(4) {
			case 0:
				err := f.h.Cancel(ctx)
				switch {
				case err == nil:
					f.canceled = true
					canceled++
				case !errors.Is(err, mageflow.ErrFinished):
					t.Fatalf("cancel %s: %v", f.root, err)
				}
			case 1, 2:
				err := f.h.Interrupt(ctx)
				switch {
				case err == nil:
					f.interrupted = true
					paused = append(paused, f)
				case !errors.Is(err, mageflow.ErrFinished):
					t.Fatalf("interrupt %s: %v", f.root, err)
				}
			}
		}
		t.Logf("%s: %d flows canceled, %d interrupted", since(r.began), canceled, len(paused))
		if !before {
			r.killOne()
		}
		<-time.After(time.Duration(500+r.rng.IntN(4500)) * time.Millisecond) // the pause's length
		if r.rng.IntN(2) == 0 {
			r.killOne()
		}
		for _, f := range paused {
			// a flow may have ended while paused: a task that finished as
			// the interrupt came still completes, and it may be the last
			if err := f.h.Resume(ctx); err != nil && !errors.Is(err, mageflow.ErrFinished) {
				t.Fatalf("resume %s: %v", f.root, err)
			}
		}
		return r
	}, settleBound)
}

package chaos

import (
	"context"
	"fmt"
	"os"
	"testing"
	"time"

	"github.com/mageflow-go/mageflow/backend/hatchet/internal/hatchettest"
	"github.com/mageflow-go/mageflow/internal/redistest"
)

var cfg config

func TestMain(m *testing.M) {
	var err error
	if cfg, err = loadConfig(); err != nil {
		fmt.Fprintln(os.Stderr, "chaos:", err)
		os.Exit(2)
	}
	hatchettest.Main(m)
}

// Bounds on a run's flows ending after its last fault. Hatchet runs a dead
// worker's tasks again once it missed heartbeats for 30 s, and checks for
// such workers up to every 30 s when idle.
const (
	settleBound     = 6 * time.Minute
	wideSettleBound = 20 * time.Minute
)

// scenario runs fn cfg.runs times, cfg.parallel at once unless serial,
// each with its own seed, and records each run's audit. Scenarios run one
// after the other: on two cores, runs of several at once starve the suite
// itself, and its faults strike late.
func scenario(t *testing.T, name string, serial bool, fn func(t *testing.T, ctx context.Context, seed uint64) *run, bound time.Duration) {
	scenarioN(t, name, serial, cfg.parallel, fn, bound)
}

// scenarioN is scenario with at most parallel runs at once.
func scenarioN(t *testing.T, name string, serial bool, parallel int, fn func(t *testing.T, ctx context.Context, seed uint64) *run, bound time.Duration) {
	if testing.Short() {
		t.Skip("starts worker processes and a Hatchet engine")
	}
	hatchettest.Engine(t) // started before the runs, once
	sem := make(chan struct{}, parallel)
	t.Run("runs", func(t *testing.T) {
		for i := range cfg.runs {
			seed := cfg.seed + uint64(i)
			t.Run(fmt.Sprintf("run%02d", i), func(t *testing.T) {
				if !serial {
					t.Parallel()
					sem <- struct{}{}
					defer func() { <-sem }()
				}
				ctx, cancel := context.WithTimeout(context.Background(), bound+10*time.Minute)
				defer cancel()
				t.Logf("%s %s", name, label(seed))
				r := fn(t, ctx, seed)
				res := r.audit(ctx, bound)
				record(name, res)
				if cfg.report != "" { // after every run: a long run stopped early keeps its figures
					if err := writeReport(cfg.report, cfg); err != nil {
						t.Errorf("report: %v", err)
					}
				}
				t.Logf("%s: %s", name, res)
				for _, p := range res.Problems {
					t.Errorf("%s", p)
				}
			})
		}
	})
}

// progress picks a point of the run, in executions logged: somewhere in
// the first two thirds of a run of total executions.
func (r *run) progress(total int) int64 {
	return int64(1 + r.rng.IntN(max(1, 2*total/3)))
}

// early picks a point in the first quarter of a run of total executions,
// for a fault that takes seconds to strike.
func (r *run) early(total int) int64 {
	return int64(1 + r.rng.IntN(max(1, total/4)))
}

// orderExecutions is about how many executions n orders of 4 items log.
func orderExecutions(n int) int { return n * 8 }

// TestKillWorkers: workers are killed with SIGKILL while chain steps and
// swarm items run; a supervisor starts new ones.
func TestKillWorkers(t *testing.T) {
	scenario(t, "1 kill workers", false, func(t *testing.T, ctx context.Context, seed uint64) *run {
		r := newRun(t, hatchettest.Engine(t), redistest.NewServer(t), 3, seed)
		r.startOrders(ctx, cfg.flows, 4)
		kills := 1 + r.rng.IntN(2)
		for range kills {
			r.atProgress(ctx, r.progress(orderExecutions(cfg.flows)))
			r.killOne()
		}
		return r
	}, settleBound)
}

// TestKillBeforeOutbox: a worker freezes right after a task's result was
// stored and before what follows was sent, and is killed there.
func TestKillBeforeOutbox(t *testing.T) {
	scenario(t, "2 kill between result and outbox", false, func(t *testing.T, ctx context.Context, seed uint64) *run {
		r := newRun(t, hatchettest.Engine(t), redistest.NewServer(t), 2, seed)
		p := r.fleet.start(1 + r.rng.IntN(8))
		r.startOrders(ctx, cfg.flows, 4)
		ended := make(chan struct{}) // the flows ended before it froze
		watch, stopWatch := context.WithCancel(ctx)
		defer stopWatch()
		go func() {
			r.settle(watch, settleBound)
			close(ended)
		}()
		select {
		case <-p.frozen:
		case <-p.exited:
			t.Fatalf("worker %s exited before freezing", p.id)
		case <-ended:
			t.Logf("worker %s was not given its freezing dispatch; no fault", p.id)
			return r
		}
		r.fault("killing frozen worker " + p.id)
		r.fleet.kill(p)
		r.fleet.start(0)
		return r
	}, settleBound)
}

// TestRestartRedis: the store's Redis (append-only file, fsync always) is
// killed while flows run, and started again on its data. The execution
// log is on another Redis, which stays up.
func TestRestartRedis(t *testing.T) {
	scenario(t, "3 restart Redis", false, func(t *testing.T, ctx context.Context, seed uint64) *run {
		srv := redistest.NewServer(t)
		// the execution log lives on a Redis of its own: a log write
		// the kill cut after Redis applied it would fail its attempt,
		// and the rerun look like a duplicate
		logSrv := redistest.NewServer(t)
		r := newRun(t, hatchettest.Engine(t), srv, 3, seed, "-log-redis", logSrv.Addr)
		r.startOrders(ctx, cfg.flows, 4)
		r.atProgress(ctx, r.progress(orderExecutions(cfg.flows)))
		down := time.Duration(200+r.rng.IntN(2800)) * time.Millisecond
		r.fault(fmt.Sprintf("killing Redis for %v", down))
		srv.Kill()
		<-time.After(down) // the outage's length, not a wait for an event
		srv.Start(t)
		return r
	}, settleBound)
}

// TestRestartEngine: the Hatchet engine is killed with SIGKILL and started
// again on its database while flows run. (After a graceful stop, which
// takes some 8 s, the flows of a run had ended: the engine finishes its
// work first.) It comes back on new ports with a new token, so the workers
// are replaced by new ones with the new settings. The flows counted as hit
// are those still running when the engine is back.
func TestRestartEngine(t *testing.T) {
	scenario(t, "4 restart the engine", true, func(t *testing.T, ctx context.Context, seed uint64) *run {
		dev := hatchettest.Engine(t)
		r := newRun(t, dev, redistest.NewServer(t), 3, seed)
		r.startOrders(ctx, cfg.flows, 4)
		r.atProgress(ctx, r.early(orderExecutions(cfg.flows)))
		old := r.fleet.doomAll()
		dev.Crash(t)
		r.fault("engine killed and started again")
		for _, p := range old {
			r.fleet.kill(p)
		}
		r.fleet.setEnv(workerEnv(dev))
		for range 3 {
			r.fleet.start(0)
		}
		return r
	}, settleBound)
}

// TestWideSwarm: one swarm of CHAOS_SWARM items, at most 200 at once,
// across three workers, two of them killed at random points. Two runs at
// most go at once: each keeps the engine busy.
func TestWideSwarm(t *testing.T) {
	scenarioN(t, "5 wide swarm, kills", false, min(cfg.parallel, 2), func(t *testing.T, ctx context.Context, seed uint64) *run {
		r := newRun(t, hatchettest.Engine(t), redistest.NewServer(t), 3, seed)
		r.startWide(ctx, cfg.swarm, 200)
		for range 2 {
			r.atProgress(ctx, r.progress(cfg.swarm))
			r.killOne()
		}
		return r
	}, wideSettleBound)
}

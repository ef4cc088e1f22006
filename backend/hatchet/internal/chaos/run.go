package chaos

import (
	"context"
	crand "crypto/rand"
	"encoding/hex"
	"math/rand/v2"
	"os"
	"strconv"
	"testing"
	"time"

	v0client "github.com/hatchet-dev/hatchet/pkg/client"
	goredis "github.com/redis/go-redis/v9"

	"github.com/mageflow-go/mageflow"
	hatchetbackend "github.com/mageflow-go/mageflow/backend/hatchet"
	"github.com/mageflow-go/mageflow/backend/hatchet/internal/hatchettest"
	"github.com/mageflow-go/mageflow/flow"
	"github.com/mageflow-go/mageflow/internal/redistest"
	redisstore "github.com/mageflow-go/mageflow/storage/redis"
)

// run is one randomized run of a scenario: its own Hatchet namespace,
// store prefix, execution log and worker processes, on the suite's engine
// and Redis server.
type run struct {
	t   *testing.T
	rng *rand.Rand
	dev *hatchettest.Dev
	srv *redistest.Server
	rc  *goredis.Client
	// logRC is the Redis of the execution log: rc's, or the one the
	// workers' -log-redis names.
	logRC  *goredis.Client
	store  *redisstore.Store
	client *mageflow.Client
	tasks  *Tasks
	fleet  *fleet
	logKey string
	flows  []expectation
	faults int
	hit    int // flows not ended when a fault struck, summed over faults
	began  time.Time
}

// expectation is what a started flow must come to.
type expectation struct {
	root string
	in   int
	ok   bool // the flow succeeds (else it fails, at Boom)
	out  int

	h           *flow.Run[int] // the flow's handle, for lifecycle faults
	canceled    bool           // Cancel took it: it ends canceled, no callback completes
	interrupted bool           // Interrupt took it: its running tasks run again on Resume
}

// newRun prepares a run with workers workers; seed makes its random
// choices repeatable in the log. The workers get flags, after the common
// ones (a flag given twice takes the later value).
func newRun(t *testing.T, dev *hatchettest.Dev, srv *redistest.Server, workers int, seed uint64, flags ...string) *run {
	t.Helper()
	var b [5]byte
	_, _ = crand.Read(b[:])
	id := hex.EncodeToString(b[:])
	ns, prefix := "chaos"+id, "chaos-"+id
	r := &run{t: t, rng: rand.New(rand.NewPCG(seed, seed^0x9e3779b97f4a7c15)), dev: dev, srv: srv, logKey: "chaoslog:" + id, began: time.Now()}
	r.rc = goredis.NewClient(&goredis.Options{Addr: srv.Addr, MaxRetries: -1})
	t.Cleanup(func() { _ = r.rc.Close() })
	r.logRC = r.rc
	for i := 0; i+1 < len(flags); i++ {
		if flags[i] == "-log-redis" && flags[i+1] != srv.Addr {
			r.logRC = goredis.NewClient(&goredis.Options{Addr: flags[i+1], MaxRetries: -1})
			t.Cleanup(func() { _ = r.logRC.Close() })
		}
	}
	var err error
	if r.store, err = redisstore.New(r.rc, redisstore.WithPrefix(prefix)); err != nil {
		t.Fatal(err)
	}
	r.tasks = NewTasks(r.logRC, r.logKey, "suite")
	r.fleet = newFleet(t, workerEnv(dev), append([]string{"-redis", srv.Addr, "-prefix", prefix, "-log-key", r.logKey, "-ns", ns}, flags...))
	for range workers {
		r.fleet.start(0)
	}
	r.client = r.newClient(ns)
	return r
}

// workerEnv is the environment of worker processes: the engine's settings.
func workerEnv(dev *hatchettest.Dev) []string {
	return append(dev.Env(), "HATCHET_CLIENT_LOG_LEVEL=error")
}

// newClient returns the client that starts the run's flows (it runs no
// worker). The Hatchet SDK reads its settings from the environment.
func (r *run) newClient(ns string) *mageflow.Client {
	r.t.Helper()
	envMu.Lock()
	for k, v := range r.dev.Settings {
		os.Setenv(k, v)
	}
	os.Setenv("HATCHET_CLIENT_LOG_LEVEL", "error")
	hc, err := hatchetbackend.NewClient(v0client.WithNamespace(ns))
	envMu.Unlock()
	if err != nil {
		r.t.Fatal(err)
	}
	hb, err := hatchetbackend.New(hc, hatchetbackend.WithNamespace(ns))
	if err != nil {
		r.t.Fatal(err)
	}
	c, err := mageflow.New(hb, r.store)
	if err != nil {
		r.t.Fatal(err)
	}
	return c
}

// startOrders starts n flows: Order(items), and Doomed for every fourth.
func (r *run) startOrders(ctx context.Context, n, items int) {
	r.t.Helper()
	order, doomed := r.tasks.Order(items), r.tasks.Doomed()
	for i := range n {
		in := (i + 1) * 1000
		var (
			run *flow.Run[int]
			err error
			exp = expectation{in: in, ok: i%4 != 3}
		)
		if exp.ok {
			exp.out = OrderOutput(in, items)
			run, err = flow.Start(ctx, r.client, order, in)
		} else {
			run, err = flow.Start(ctx, r.client, doomed, in)
		}
		if err != nil {
			r.t.Fatalf("start flow %d: %v", i, err)
		}
		exp.root, exp.h = run.ID(), run
		r.flows = append(r.flows, exp)
	}
}

// startWide starts one Wide(items, limit) flow.
func (r *run) startWide(ctx context.Context, items, limit int) {
	r.t.Helper()
	const in = 7
	run, err := flow.Start(ctx, r.client, r.tasks.Wide(items, limit), in)
	if err != nil {
		r.t.Fatalf("start swarm: %v", err)
	}
	r.flows = append(r.flows, expectation{root: run.ID(), in: in, ok: true, out: WideOutput(in, items), h: run})
}

// executions returns how many executions the log holds; -1 when Redis
// does not answer.
func (r *run) executions(ctx context.Context) int64 {
	n, err := r.logRC.LLen(ctx, r.logKey).Result()
	if err != nil {
		return -1
	}
	return n
}

// atProgress waits until the log holds at least n executions.
func (r *run) atProgress(ctx context.Context, n int64) {
	r.t.Helper()
	if err := redistest.Until(ctx, func() bool { return r.executions(ctx) >= n }); err != nil {
		r.t.Fatalf("waiting for %d executions: %v", n, err)
	}
}

// killOne kills a running worker at random and starts another in its
// place, as a supervisor would.
func (r *run) killOne() {
	ps := r.fleet.running()
	if len(ps) == 0 {
		r.t.Fatal("no worker to kill")
	}
	p := ps[r.rng.IntN(len(ps))]
	r.fault("killing worker " + p.id)
	r.fleet.kill(p)
	r.fleet.start(0)
}

// fault counts a fault about to strike, and the flows it finds running.
func (r *run) fault(what string) {
	ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	running := 0
	for _, f := range r.flows {
		if rec, err := r.store.Get(ctx, f.root); err == nil && !rec.Finished {
			running++
		}
	}
	r.faults++
	r.hit += running
	r.t.Logf("%s: %s; %d of %d flows running", since(r.began), what, running, len(r.flows))
}

func since(t time.Time) string { return time.Since(t).Round(time.Millisecond).String() }

// label names a run in logs and reports.
func label(seed uint64) string { return "seed=" + strconv.FormatUint(seed, 10) }

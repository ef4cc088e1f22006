// Command chaosworker is a worker process of the chaos suite: it runs the
// workload's tasks (package chaos) on Hatchet, with the flows' state in
// Redis, and prints READY once it takes work.
//
// With -freeze-after n, the worker freezes itself (SIGSTOP) at its n-th
// dispatch, after printing FROZEN: the task whose transition decided that
// dispatch has its result stored, and what follows it is not sent yet. The
// suite kills it there, as a worker dying at that point would.
//
// With -refusals, the worker's triggers fail while the key <log-key>:refuse
// exists in the log's Redis, as a loaded engine refuses triggers: its value
// "refuse" fails them unsent, "lose" sends them and fails them after (the
// engine took the trigger, its reply was lost).
//
// With -log-redis, the execution log is written there rather than to
// -redis: the suite puts a proxy that cuts replies between the worker and
// the store, and the log must not be cut.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"
	"time"

	v0client "github.com/hatchet-dev/hatchet/pkg/client"
	goredis "github.com/redis/go-redis/v9"

	"github.com/mageflow-go/mageflow"
	"github.com/mageflow-go/mageflow/backend"
	hatchetbackend "github.com/mageflow-go/mageflow/backend/hatchet"
	"github.com/mageflow-go/mageflow/backend/hatchet/internal/chaos"
	redisstore "github.com/mageflow-go/mageflow/storage/redis"
)

func main() {
	var o options
	flag.StringVar(&o.redis, "redis", "", "Redis `address` of the flows' state and the execution log")
	flag.StringVar(&o.logRedis, "log-redis", "", "Redis `address` of the execution log (default: -redis)")
	flag.BoolVar(&o.refusals, "refusals", false, "fail triggers while <log-key>:refuse exists")
	flag.StringVar(&o.prefix, "prefix", "", "the store's key `prefix`")
	flag.StringVar(&o.logKey, "log-key", "", "the execution log's `key`")
	flag.StringVar(&o.ns, "ns", "", "Hatchet `namespace`")
	flag.StringVar(&o.id, "id", "", "this worker's `name` in the execution log")
	flag.IntVar(&o.slots, "slots", 100, "tasks run at once")
	flag.Int64Var(&o.freezeAfter, "freeze-after", 0, "freeze at the `n`-th dispatch (0: never)")
	flag.Parse()
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer cancel()
	if err := run(ctx, o); err != nil {
		fmt.Fprintln(os.Stderr, "chaosworker:", err)
		os.Exit(1)
	}
}

type options struct {
	redis, logRedis, prefix, logKey, ns, id string
	slots                                   int
	freezeAfter                             int64
	refusals                                bool
}

func run(ctx context.Context, o options) error {
	rc := goredis.NewClient(&goredis.Options{Addr: o.redis, MaxRetries: -1})
	defer rc.Close()
	logRC := rc
	if o.logRedis != "" {
		logRC = goredis.NewClient(&goredis.Options{Addr: o.logRedis, MaxRetries: -1})
		defer logRC.Close()
	}
	store, err := newStore(ctx, rc, o.prefix)
	if err != nil {
		return err
	}
	hc, err := hatchetbackend.NewClient(v0client.WithNamespace(o.ns))
	if err != nil {
		return err
	}
	hb, err := hatchetbackend.New(hc, hatchetbackend.WithNamespace(o.ns), hatchetbackend.WithWorkerName(o.id), hatchetbackend.WithSlots(o.slots, o.slots))
	if err != nil {
		return err
	}
	b := &faulty{Backend: hb, after: o.freezeAfter}
	if o.refusals {
		b.rc, b.refuseKey = logRC, o.logKey+":refuse"
	}
	c, err := mageflow.New(b, store)
	if err != nil {
		return err
	}
	if err := c.Register(chaos.NewTasks(logRC, o.logKey, o.id).All()...); err != nil {
		return err
	}
	stop, err := c.StartWorker(ctx)
	if err != nil {
		return err
	}
	fmt.Println("READY")
	<-ctx.Done()
	return stop(context.Background())
}

// faulty is the Hatchet backend with the suite's faults on its triggers: a
// freeze before its n-th dispatch, and refusals while the refusal key
// exists. Embedding the backend keeps its optional interfaces.
type faulty struct {
	*hatchetbackend.Backend
	after     int64
	n         atomic.Int64
	rc        goredis.UniversalClient // where the refusal key lives
	refuseKey string                  // "": no refusals
}

// The errors of refused triggers.
var (
	errRefused = errors.New("chaos: trigger refused: no trigger slots (RESOURCE_EXHAUSTED)")
	errLost    = errors.New("chaos: trigger sent, its reply lost")
)

func (f *faulty) Dispatch(ctx context.Context, d backend.Dispatch) (string, error) {
	f.gate()
	mode := f.refusing(ctx)
	if mode == "refuse" {
		return "", errRefused
	}
	id, err := f.Backend.Dispatch(ctx, d)
	if mode == "lose" && err == nil {
		return "", errLost
	}
	return id, err
}

func (f *faulty) DispatchBatch(ctx context.Context, ds []backend.Dispatch) ([]string, []error) {
	f.gate()
	mode := f.refusing(ctx)
	if mode == "refuse" {
		errs := make([]error, len(ds))
		for i := range errs {
			errs[i] = errRefused
		}
		return make([]string, len(ds)), errs
	}
	ids, errs := f.Backend.DispatchBatch(ctx, ds)
	if mode == "lose" {
		for i := range errs {
			if errs[i] == nil {
				ids[i], errs[i] = "", errLost
			}
		}
	}
	return ids, errs
}

// refusing returns how triggers fail now: "refuse", "lose" or "" (they
// do not).
func (f *faulty) refusing(ctx context.Context) string {
	if f.refuseKey == "" {
		return ""
	}
	mode, err := f.rc.Get(context.WithoutCancel(ctx), f.refuseKey).Result()
	if err != nil {
		return ""
	}
	return mode
}

// gate stops the whole process at the chosen dispatch: every goroutine
// stays where it is, until the suite kills the process.
func (f *faulty) gate() {
	if f.after > 0 && f.n.Add(1) == f.after {
		fmt.Println("FROZEN")
		_ = syscall.Kill(os.Getpid(), syscall.SIGSTOP)
	}
}

// newStore makes the store, trying again while Redis cannot be reached
// (a worker restarted while the suite restarts Redis or cuts its
// replies): New reads the server's configuration.
func newStore(ctx context.Context, rc *goredis.Client, prefix string) (*redisstore.Store, error) {
	deadline := time.Now().Add(time.Minute)
	for {
		store, err := redisstore.New(rc, redisstore.WithPrefix(prefix))
		if err == nil || errors.Is(err, redisstore.ErrEvictingServer) || time.Now().After(deadline) {
			return store, err
		}
		select {
		case <-ctx.Done():
			return nil, ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
}

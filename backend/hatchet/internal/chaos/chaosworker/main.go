// Command chaosworker is a worker process of the chaos suite: it runs the
// workload's tasks (package chaos) on Hatchet, with the flows' state in
// Redis, and prints READY once it takes work.
//
// With -freeze-after n, the worker freezes itself (SIGSTOP) at its n-th
// dispatch, after printing FROZEN: the task whose transition decided that
// dispatch has its result stored, and what follows it is not sent yet. The
// suite kills it there, as a worker dying at that point would.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sync/atomic"
	"syscall"

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
	redis, prefix, logKey, ns, id string
	slots                         int
	freezeAfter                   int64
}

func run(ctx context.Context, o options) error {
	rc := goredis.NewClient(&goredis.Options{Addr: o.redis, MaxRetries: -1})
	defer rc.Close()
	store, err := redisstore.New(rc, redisstore.WithPrefix(o.prefix))
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
	b := &freezing{Backend: hb, after: o.freezeAfter}
	c, err := mageflow.New(b, store)
	if err != nil {
		return err
	}
	if err := c.Register(chaos.NewTasks(rc, o.logKey, o.id).All()...); err != nil {
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

// freezing is the Hatchet backend with a freeze before its n-th dispatch.
// Embedding the backend keeps its optional interfaces.
type freezing struct {
	*hatchetbackend.Backend
	after int64
	n     atomic.Int64
}

func (f *freezing) Dispatch(ctx context.Context, d backend.Dispatch) (string, error) {
	f.gate()
	return f.Backend.Dispatch(ctx, d)
}

func (f *freezing) DispatchBatch(ctx context.Context, ds []backend.Dispatch) ([]string, []error) {
	f.gate()
	return f.Backend.DispatchBatch(ctx, ds)
}

// gate stops the whole process at the chosen dispatch: every goroutine
// stays where it is, until the suite kills the process.
func (f *freezing) gate() {
	if f.after > 0 && f.n.Add(1) == f.after {
		fmt.Println("FROZEN")
		_ = syscall.Kill(os.Getpid(), syscall.SIGSTOP)
	}
}

// Command orders runs a small order pipeline with mageflow on Hatchet, with
// the flows' state in Redis: a chain whose middle step is a swarm of checks
// (at most two at once) feeding a fan-in step, with a success and an error
// callback, and a flaky step that Hatchet retries.
//
// Against a local engine (no Docker; from backend/hatchet):
//
//	go run ./cmd/hatchet-dev -env-file /tmp/hatchet.env &   # prints READY when up
//	set -a; . /tmp/hatchet.env; set +a
//	go run ./examples/orders -redis redis://127.0.0.1:6379/0
//
// Against Hatchet Cloud, export the token of your tenant instead (it is
// read from the environment and never printed):
//
//	export HATCHET_CLIENT_TOKEN=...
//	go run ./examples/orders -redis redis://127.0.0.1:6379/0
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/mageflow-go/mageflow"
	hatchetbackend "github.com/mageflow-go/mageflow/backend/hatchet"
	"github.com/mageflow-go/mageflow/flow"
	redisstore "github.com/mageflow-go/mageflow/storage/redis"
)

func main() {
	redisURL := flag.String("redis", "redis://127.0.0.1:6379/0", "the Redis that keeps the flows' state")
	flag.Parse()
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt)
	defer cancel()
	if err := run(ctx, os.Stdout, *redisURL); err != nil {
		fmt.Fprintln(os.Stderr, "orders:", err)
		os.Exit(1)
	}
}

// run starts a worker for the pipeline's tasks on Hatchet and runs two
// orders through it.
func run(ctx context.Context, w io.Writer, redisURL string) (err error) {
	ctx, cancel := context.WithTimeout(ctx, 2*time.Minute)
	defer cancel()
	opt, err := goredis.ParseURL(redisURL)
	if err != nil {
		return fmt.Errorf("-redis: %w", err)
	}
	rc := goredis.NewClient(opt)
	defer rc.Close()
	store, err := redisstore.New(rc, redisstore.WithPrefix("mageflow-orders"))
	if err != nil {
		return err
	}
	hc, err := hatchetbackend.NewClient() // HATCHET_CLIENT_* from the environment
	if err != nil {
		return err
	}
	b, err := hatchetbackend.New(hc, hatchetbackend.WithWorkerName("orders-example"))
	if err != nil {
		return err
	}
	c, err := mageflow.New(b, store)
	if err != nil {
		return err
	}
	t := newTasks(w)
	if err := c.Register(t.all()...); err != nil {
		return err
	}
	stop, err := c.StartWorker(ctx)
	if err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 30*time.Second)
		defer cancel()
		err = errors.Join(err, stop(sctx))
	}()

	pipeline := t.pipeline()

	for _, o := range []Order{{ID: "A-1001", Items: 3, Cents: 8640}, {ID: "B-2002", Items: 0}} {
		start := time.Now()
		t.printf("order %s: starting\n", o.ID)
		run, err := flow.Start(ctx, c, pipeline, o)
		if err != nil {
			return err
		}
		t.printf("order %s: run %s (see it in the Hatchet dashboard)\n", o.ID, run.ID())
		receipt, err := run.Wait(ctx)
		var failed *flow.FailedError
		switch {
		case errors.As(err, &failed):
			t.printf("order %s: failed in %s: %s (%v)\n", o.ID, failed.Info.Task, failed.Info.Message, time.Since(start).Round(time.Millisecond))
		case err != nil:
			return err
		default:
			t.printf("order %s: %s (%v)\n", o.ID, receipt, time.Since(start).Round(time.Millisecond))
		}
		if err := t.waitCallback(ctx); err != nil {
			return err
		}
	}
	return nil
}

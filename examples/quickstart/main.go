// Command quickstart runs a small order pipeline with mageflow on the
// embedded default: the in-memory backend and the in-memory store, so it
// needs no setup. Run it with
//
//	go run ./examples/quickstart
//
// The pipeline is a chain whose middle step is a swarm of checks (at most
// two at once) feeding a fan-in step, with a success and an error callback.
// The first order goes through (after one retry of a flaky task); the
// second is rejected and its error callback fires.
//
// With -redis, the same pipeline keeps its state in Redis instead:
//
//	go run ./examples/quickstart -redis redis://127.0.0.1:6379/0
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
	membackend "github.com/mageflow-go/mageflow/backend/memory"
	"github.com/mageflow-go/mageflow/flow"
	"github.com/mageflow-go/mageflow/storage"
	memstore "github.com/mageflow-go/mageflow/storage/memory"
	redisstore "github.com/mageflow-go/mageflow/storage/redis"
)

func main() {
	redisURL := flag.String("redis", "", "keep the flows' state in the Redis at this URL (redis://host:port/db) instead of in memory")
	flag.Parse()
	ctx, cancel := signal.NotifyContext(context.Background(), os.Interrupt)
	defer cancel()
	if err := run(ctx, os.Stdout, *redisURL); err != nil {
		fmt.Fprintln(os.Stderr, "quickstart:", err)
		os.Exit(1)
	}
}

// newStore returns the in-memory store, or the Redis store at redisURL.
func newStore(ctx context.Context, redisURL string) (storage.Store, string, func(), error) {
	if redisURL == "" {
		return memstore.New(), "the in-memory store", func() {}, nil
	}
	opt, err := goredis.ParseURL(redisURL)
	if err != nil {
		return nil, "", nil, fmt.Errorf("-redis: %w", err)
	}
	rc := goredis.NewClient(opt)
	if err := rc.Ping(ctx).Err(); err != nil {
		_ = rc.Close()
		return nil, "", nil, fmt.Errorf("-redis %s: %w", redisURL, err)
	}
	s, err := redisstore.New(rc, redisstore.WithPrefix("mageflow-quickstart"))
	if err != nil {
		_ = rc.Close()
		return nil, "", nil, err
	}
	return s, "the Redis store at " + opt.Addr, func() { _ = rc.Close() }, nil
}

// run builds the client and the pipeline, and runs two orders through it,
// with the state in memory or, given a URL, in Redis.
func run(ctx context.Context, w io.Writer, redisURL string) (err error) {
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out := &printer{w: w}
	s := newShop(out)

	store, where, closeStore, err := newStore(ctx, redisURL)
	if err != nil {
		return err
	}
	defer closeStore()
	c, err := mageflow.New(membackend.New(), store)
	if err != nil {
		return err
	}
	if err := c.Register(s.tasks()...); err != nil {
		return err
	}
	stop, err := c.StartWorker(ctx)
	if err != nil {
		return err
	}
	defer func() {
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
		defer cancel()
		err = errors.Join(err, stop(sctx))
	}()

	pipeline := s.pipeline()

	out.printf("mageflow quickstart: an order pipeline on the in-memory backend, state in %s\n", where)
	out.printf("pipeline: validate -> score-fraud -> [quote-price, check-address, reserve-stock@BER-1,")
	out.printf("          estimate-shipping] (at most 2 at once) -> make-receipt")
	out.printf("          on success: email-receipt; on error: alert-ops")

	// 1. An order that goes through.
	good := Order{ID: "A-1001", Items: []Item{
		{SKU: "KETTLE", Qty: 1, Cents: 39_90}, {SKU: "MUG", Qty: 4, Cents: 8_50}, {SKU: "TEA", Qty: 2, Cents: 6_25},
	}}
	out.printf("\n1. order %s: score-fraud times out once, then the order goes through", good.ID)
	began := time.Now()
	r, err := flow.Start(ctx, c, pipeline, good)
	if err != nil {
		return err
	}
	receipt, err := r.Wait(ctx)
	if err != nil {
		return fmt.Errorf("order %s: %w", good.ID, err)
	}
	if err := waitFor(ctx, s.emailed); err != nil {
		return err
	}
	out.printf("result: receipt for %s, total %s:", receipt.Order, euros(receipt.TotalCents))
	for _, l := range receipt.Lines {
		out.printf("  - %s", l)
	}
	out.printf("at most %d checks ran at once; elapsed %v", s.inFlight.highest(), time.Since(began).Round(time.Millisecond))

	// 2. An order that the fraud check rejects: the chain stops there and
	// the error callback fires with the order and the error.
	bad := Order{ID: "B-2002", NewAccount: true, Items: []Item{
		{SKU: "ESPRESSO-MACHINE", Qty: 1, Cents: 1249_00},
	}}
	out.printf("\n2. order %s: a new account spends %s; score-fraud rejects it", bad.ID, euros(subtotal(bad)))
	began = time.Now()
	r, err = flow.Start(ctx, c, pipeline, bad)
	if err != nil {
		return err
	}
	_, err = r.Wait(ctx)
	var failed *flow.FailedError
	if !errors.As(err, &failed) {
		return fmt.Errorf("order %s: want a *flow.FailedError, got %v", bad.ID, err)
	}
	if err := waitFor(ctx, s.alerted); err != nil {
		return err
	}
	out.printf("result: Wait returned a *flow.FailedError:")
	out.printf("  %v", failed)
	out.printf("  task %s, %d attempts, kind %q; elapsed %v", failed.Info.Task, failed.Info.Attempts,
		failed.Info.Kind, time.Since(began).Round(time.Millisecond))
	return out.error()
}

// waitFor waits for a callback to report on ch.
func waitFor[T any](ctx context.Context, ch <-chan T) error {
	select {
	case <-ch:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("waiting for a callback: %w", ctx.Err())
	}
}

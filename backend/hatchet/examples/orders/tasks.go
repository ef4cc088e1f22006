package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"strings"
	"sync"

	"github.com/mageflow-go/mageflow/flow"
	"github.com/mageflow-go/mageflow/task"
)

// Order is the pipeline's input.
type Order struct {
	ID    string `json:"id"`
	Items int    `json:"items"`
	Cents int    `json:"cents"`
}

// tasks are the pipeline's tasks, printing what they do.
type tasks struct {
	w         io.Writer
	mu        sync.Mutex
	callbacks chan string

	validate task.Task[Order, Order]
	price    task.Task[Order, string]
	stock    task.Task[Order, string]
	address  task.Task[Order, string]
	receipt  task.Task[[]string, string]
	email    task.Task[string, bool]
	alert    task.Task[flow.Failure[Order], bool]
}

func newTasks(w io.Writer) *tasks {
	t := &tasks{w: w, callbacks: make(chan string, 4)}
	t.validate = task.New("orders-validate", func(ctx context.Context, o Order) (Order, error) {
		t.say(ctx, "validate %s", o.ID)
		if o.Items == 0 {
			return o, task.NonRetryable(errors.New("order has no items"))
		}
		return o, nil
	})
	t.price = task.New("orders-price", func(ctx context.Context, o Order) (string, error) {
		t.say(ctx, "price %s", o.ID)
		return fmt.Sprintf("price €%d.%02d", o.Cents/100, o.Cents%100), nil
	})
	t.stock = task.New("orders-stock", func(ctx context.Context, o Order) (string, error) {
		if info, _ := task.Info(ctx); info.Attempt == 1 {
			t.say(ctx, "stock %s: warehouse busy, Hatchet retries", o.ID)
			return "", errors.New("warehouse busy")
		}
		t.say(ctx, "stock %s", o.ID)
		return fmt.Sprintf("%d items reserved", o.Items), nil
	}, task.WithRetries(2))
	t.address = task.New("orders-address", func(ctx context.Context, o Order) (string, error) {
		t.say(ctx, "address %s", o.ID)
		return "address deliverable", nil
	})
	t.receipt = task.New("orders-receipt", func(ctx context.Context, checks []string) (string, error) {
		t.say(ctx, "receipt from %d checks", len(checks))
		return "receipt: " + strings.Join(checks, ", "), nil
	})
	t.email = task.New("orders-email", func(ctx context.Context, receipt string) (bool, error) {
		t.say(ctx, "success callback: e-mail the receipt")
		t.callbacks <- "email"
		return true, nil
	})
	t.alert = task.New("orders-alert", func(ctx context.Context, f flow.Failure[Order]) (bool, error) {
		t.say(ctx, "error callback: order %s failed in %s: %s", f.Input.ID, f.Error.Task, f.Error.Message)
		t.callbacks <- "alert"
		return true, nil
	})
	return t
}

// pipeline validates an order, runs three checks (two at a time), makes a
// receipt, and calls back on success or error.
func (t *tasks) pipeline() flow.Flow[Order, string] {
	checks := flow.Swarm(t.price, t.stock, t.address).WithConfig(flow.SwarmConfig{MaxConcurrency: 2})
	return flow.OnError(flow.OnSuccess(flow.Then(flow.Then(t.validate, checks), t.receipt), t.email), t.alert)
}

func (t *tasks) all() []task.Registrable {
	return []task.Registrable{t.validate, t.price, t.stock, t.address, t.receipt, t.email, t.alert}
}

// printf writes a line, one writer at a time.
func (t *tasks) printf(format string, args ...any) {
	t.mu.Lock()
	defer t.mu.Unlock()
	fmt.Fprintf(t.w, format, args...)
}

// say prints a line with the task's attempt.
func (t *tasks) say(ctx context.Context, format string, args ...any) {
	info, _ := task.Info(ctx)
	t.mu.Lock()
	defer t.mu.Unlock()
	fmt.Fprintf(t.w, "  %-16s attempt %d/%d  %s\n", info.Task, info.Attempt, info.MaxAttempts, fmt.Sprintf(format, args...))
}

// waitCallback waits for the flow's callback to run.
func (t *tasks) waitCallback(ctx context.Context) error {
	select {
	case <-t.callbacks:
		return nil
	case <-ctx.Done():
		return fmt.Errorf("waiting for the callback: %w", ctx.Err())
	}
}

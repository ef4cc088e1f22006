package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"sync"
	"time"

	"github.com/mageflow-go/mageflow/flow"
	"github.com/mageflow-go/mageflow/task"
)

// Order is what a shop hands to the pipeline. Values travel between tasks
// as JSON, so they are plain structs.
type Order struct {
	ID         string  `json:"id"`
	NewAccount bool    `json:"new_account"`
	Items      []Item  `json:"items"`
	Risk       float64 `json:"risk"`
}

// Item is one line of an order.
type Item struct {
	SKU   string `json:"sku"`
	Qty   int    `json:"qty"`
	Cents int    `json:"cents"` // unit price
}

// Check is the result of one check of the swarm.
type Check struct {
	Order  string `json:"order"`
	Name   string `json:"name"`
	Detail string `json:"detail"`
	Cents  int    `json:"cents"` // what the check adds to the bill
}

// Receipt is the pipeline's output.
type Receipt struct {
	Order      string   `json:"order"`
	TotalCents int      `json:"total_cents"`
	Lines      []string `json:"lines"`
}

// shop holds the tasks of the pipeline. They are closures over a printer
// and the channels through which the callbacks report, so that run can
// wait for them: a run's callbacks may still be running when Wait returns.
type shop struct {
	out      *printer
	emailed  chan Receipt
	alerted  chan flow.Failure[Order]
	inFlight gauge

	validate     task.Task[Order, Order]
	scoreFraud   task.Task[Order, Order]
	quotePrice   task.Task[Order, Check]
	checkAddress task.Task[Order, Check]
	reserveStock task.Task[flow.Args[string, Order], Check] // args: the warehouse
	shipping     task.Task[Order, Check]
	makeReceipt  task.Task[[]Check, Receipt]
	emailReceipt task.Task[Receipt, struct{}]
	alertOps     task.Task[flow.Failure[Order], struct{}]
}

// newShop builds the tasks; they print to out.
func newShop(out *printer) *shop {
	s := &shop{out: out, emailed: make(chan Receipt, 1), alerted: make(chan flow.Failure[Order], 1)}
	s.validate = task.New("validate", func(ctx context.Context, o Order) (Order, error) {
		if len(o.Items) == 0 {
			return o, task.NonRetryable(fmt.Errorf("order %s has no items", o.ID))
		}
		s.say(ctx, o.ID, "ok, subtotal %s", euros(subtotal(o)))
		return o, nil
	})
	// score-fraud calls a flaky service: its first attempt times out.
	s.scoreFraud = task.New("score-fraud", func(ctx context.Context, o Order) (Order, error) {
		if info, _ := task.Info(ctx); info.Attempt == 1 {
			s.say(ctx, o.ID, "fraud service timed out, will retry")
			return o, errors.New("fraud service: timeout")
		}
		o.Risk = 0.12
		if o.NewAccount && subtotal(o) > 500_00 {
			o.Risk = 0.97
		}
		if o.Risk > 0.9 {
			s.say(ctx, o.ID, "risk %.2f: rejected (no retry)", o.Risk)
			return o, task.NonRetryable(fmt.Errorf("order %s: risk %.2f is above 0.90", o.ID, o.Risk))
		}
		s.say(ctx, o.ID, "risk %.2f: ok", o.Risk)
		return o, nil
	}, task.WithRetries(2), task.WithBackoff(20*time.Millisecond, 0))
	s.quotePrice = task.New("quote-price", func(ctx context.Context, o Order) (Check, error) {
		return s.check(ctx, o, "price", euros(subtotal(o)), subtotal(o))
	})
	s.checkAddress = task.New("check-address", func(ctx context.Context, o Order) (Check, error) {
		return s.check(ctx, o, "address", "deliverable", 0)
	})
	s.reserveStock = task.New("reserve-stock", func(ctx context.Context, a flow.Args[string, Order]) (Check, error) {
		return s.check(ctx, a.In, "stock", "reserved at warehouse "+a.Args, 0)
	})
	s.shipping = task.New("estimate-shipping", func(ctx context.Context, o Order) (Check, error) {
		return s.check(ctx, o, "shipping", euros(4_90), 4_90)
	})
	s.makeReceipt = task.New("make-receipt", func(ctx context.Context, checks []Check) (Receipt, error) {
		r := Receipt{Order: checks[0].Order}
		for _, c := range checks {
			r.TotalCents += c.Cents
			r.Lines = append(r.Lines, c.Name+": "+c.Detail)
		}
		s.say(ctx, r.Order, "%d checks in, total %s", len(checks), euros(r.TotalCents))
		return r, nil
	})
	s.emailReceipt = task.New("email-receipt", func(ctx context.Context, r Receipt) (struct{}, error) {
		s.say(ctx, r.Order, "success callback: receipt for %s e-mailed", euros(r.TotalCents))
		report(s.emailed, r)
		return struct{}{}, nil
	})
	s.alertOps = task.New("alert-ops", func(ctx context.Context, f flow.Failure[Order]) (struct{}, error) {
		s.say(ctx, f.Input.ID, "error callback: paging ops: %s failed after %d attempts: %s",
			f.Error.Task, f.Error.Attempts, f.Error.Message)
		report(s.alerted, f)
		return struct{}{}, nil
	})
	return s
}

// pipeline is validate -> score-fraud -> swarm of checks -> make-receipt,
// with a success and an error callback. Every edge is checked by the
// compiler: the swarm is a Flow[Order, []Check], and make-receipt takes a
// []Check. At most two checks run at once, and one failed check fails the
// swarm (by default failures are tolerated and left out of the results).
func (s *shop) pipeline() flow.Flow[Order, Receipt] {
	checks := flow.Swarm(
		s.quotePrice,
		s.checkAddress,
		flow.Bind(s.reserveStock, "BER-1"), // a Flow[Order, Check] now
		s.shipping,
	).WithConfig(flow.SwarmConfig{MaxConcurrency: 2, StopAfterNFailures: 1})
	pipeline := flow.Then(flow.Then(flow.Then(s.validate, s.scoreFraud), checks), s.makeReceipt)
	return flow.OnError(flow.OnSuccess(pipeline, s.emailReceipt), s.alertOps)
}

// tasks returns every task, for registration with the client.
func (s *shop) tasks() []task.Registrable {
	return []task.Registrable{s.validate, s.scoreFraud, s.quotePrice, s.checkAddress,
		s.reserveStock, s.shipping, s.makeReceipt, s.emailReceipt, s.alertOps}
}

// check does a swarm item's (simulated) work and reports it.
func (s *shop) check(ctx context.Context, o Order, name, detail string, cents int) (Check, error) {
	s.inFlight.add(1)
	defer s.inFlight.add(-1)
	select { // pretend to call another service
	case <-time.After(20 * time.Millisecond):
	case <-ctx.Done():
		return Check{}, ctx.Err()
	}
	s.say(ctx, o.ID, "%s", detail)
	return Check{Order: o.ID, Name: name, Detail: detail, Cents: cents}, nil
}

// say prints one line for the running task: its name, attempt and order.
func (s *shop) say(ctx context.Context, order, format string, args ...any) {
	info, _ := task.Info(ctx)
	s.out.printf("  %-17s %s  attempt %d/%d  %s", info.Task, order, info.Attempt, info.MaxAttempts, fmt.Sprintf(format, args...))
}

func subtotal(o Order) int {
	n := 0
	for _, it := range o.Items {
		n += it.Qty * it.Cents
	}
	return n
}

func euros(cents int) string { return fmt.Sprintf("€%d.%02d", cents/100, cents%100) }

// report hands v to whoever waits on ch, without blocking.
func report[T any](ch chan<- T, v T) {
	select {
	case ch <- v:
	default:
	}
}

// printer writes whole lines from concurrent tasks.
type printer struct {
	mu  sync.Mutex
	w   io.Writer
	err error
}

func (p *printer) printf(format string, args ...any) {
	p.mu.Lock()
	defer p.mu.Unlock()
	if p.err == nil {
		_, p.err = fmt.Fprintf(p.w, format+"\n", args...)
	}
}

// error returns the first write error.
func (p *printer) error() error {
	p.mu.Lock()
	defer p.mu.Unlock()
	return p.err
}

// gauge counts the swarm items running at once and remembers the peak.
type gauge struct {
	mu        sync.Mutex
	now, peak int
}

func (g *gauge) add(d int) {
	g.mu.Lock()
	defer g.mu.Unlock()
	g.now += d
	g.peak = max(g.peak, g.now)
}

func (g *gauge) highest() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.peak
}

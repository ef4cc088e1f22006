package memory

import (
	"context"
	"fmt"
	"log/slog"
	"runtime/debug"
	"time"

	"github.com/mageflow-go/mageflow/backend"
)

// work is the loop of one worker goroutine of the pool.
func (b *Backend) work() {
	var tail *run
	for {
		ctx, a, d, ok := b.next(tail)
		if !ok {
			return
		}
		err := b.call(ctx, a.run, d)
		tail = b.finish(a, err)
	}
}

// next starts the attempt of tail, the run the worker's last handler
// dispatched as its last act, or else waits for a queued run. It reports
// false when the worker must exit.
func (b *Backend) next(tail *run) (context.Context, *attempt, backend.Delivery, bool) {
	b.mu.Lock()
	defer b.mu.Unlock()
	for {
		var r *run
		if tail != nil && tail.state == runQueued && b.state == started {
			r, tail = tail, nil
		} else {
			tail = nil // canceled, or the backend stopped
			for b.queue.len() == 0 && b.state == started {
				b.cond.Wait()
			}
			if b.state != started {
				return nil, nil, backend.Delivery{}, false
			}
			r = b.queue.pop()
			if r.state != runQueued {
				continue // canceled while queued
			}
		}
		var a *attempt
		if r.fresh {
			r.fresh = false
			a = &r.first
			a.b, a.run = b, r
		} else {
			a = &attempt{b: b, run: r}
		}
		var ctx context.Context = a
		if r.task.spec.Timeout > 0 {
			ctx, a.stopTimeout = context.WithTimeout(a, r.task.spec.Timeout)
		}
		r.live = a
		r.state = runRunning
		b.running++
		b.stats.Delivered++
		d := r.delivery()
		r.claimed = false // a redelivery or a retry claims as any does
		return ctx, a, d, true
	}
}

// call runs the handler, turning a panic into an error with the stack.
func (b *Backend) call(ctx context.Context, r *run, d backend.Delivery) (err error) {
	defer func() {
		p := recover()
		if p == nil {
			return
		}
		stack := debug.Stack()
		b.log.ErrorContext(ctx, "handler panicked", append(logAttrs(d.Task, d.RunID, d.Attempt, d.Record, d.Root), "panic", p, "stack", string(stack))...)
		b.mu.Lock()
		b.stats.Panicked++
		b.mu.Unlock()
		err = fmt.Errorf("backend/memory: task %s run %s attempt %d: panic: %v\n%s", d.Task, d.RunID, d.Attempt, p, stack)
	}()
	return r.task.handler(ctx, d)
}

// finish decides what follows an attempt that returned err: the end of the
// run, a retry after the backoff or a redelivery. It returns the run the
// handler dispatched as its last act, for the worker to run next.
func (b *Backend) finish(a *attempt, err error) *run {
	b.mu.Lock()
	r := a.run
	a.end()
	r.live = nil
	b.running--
	var (
		level = slog.LevelDebug
		msg   string
		attrs []any
	)
	switch {
	case r.canceled:
		b.end(r)
	case a.crashed:
		msg = "redelivering after injected crash"
		b.redeliver(r)
	case err == nil && b.fire(Redeliver, r.task.spec.Name):
		msg = "redelivering after injected fault"
		b.redeliver(r)
	case err == nil:
		b.stats.Succeeded++
		b.end(r)
	case !backend.IsFinal(err) && r.attempt < r.task.spec.MaxAttempts():
		delay := r.task.spec.Backoff.Delay(r.attempt)
		msg, attrs = "retrying", []any{"err", err, "delay", delay}
		b.stats.Retried++
		r.attempt++
		b.retry(r, delay)
	default:
		level, msg, attrs = slog.LevelWarn, "run failed", []any{"err", err}
		b.stats.Failed++
		b.end(r)
	}
	if msg != "" && b.log.Enabled(context.Background(), level) {
		attrs = append(r.logAttrs(), attrs...)
	} else {
		msg = ""
	}
	tail := a.tail
	a.tail = nil
	if rv, ok := b.reserved[a.reserved]; ok && !rv.dead {
		delete(b.reserved, a.reserved) // never to be dispatched
	}
	a.reserved = ""
	b.mu.Unlock()
	if msg != "" {
		b.log.Log(context.Background(), level, msg, attrs...)
	}
	return tail
}

// redeliver queues the same attempt of r again. b.mu must be held.
func (b *Backend) redeliver(r *run) {
	b.stats.Redelivered++
	b.enqueue(r)
}

// retry queues r's next attempt after delay. After stop the retry is
// dropped. b.mu must be held.
func (b *Backend) retry(r *run, delay time.Duration) {
	if delay <= 0 || b.noBackoff || b.state != started {
		b.enqueue(r) // after stop, the queue is never read
		return
	}
	r.state = runWaiting
	b.timers.Add(1)
	r.timer = time.AfterFunc(delay, func() {
		defer b.timers.Done()
		b.mu.Lock()
		defer b.mu.Unlock()
		if r.state != runWaiting || b.state != started {
			return
		}
		r.timer = nil
		b.enqueue(r)
	})
}

// logAttrs are the structured fields that identify a delivery in logs.
func logAttrs(task, runID string, attempt int, record, root string) []any {
	attrs := []any{"task", task, "run", runID, "attempt", attempt}
	if record != "" {
		attrs = append(attrs, "record", record)
	}
	if root != "" {
		attrs = append(attrs, "root", root)
	}
	return attrs
}

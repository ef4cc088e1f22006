package hatchet

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"time"

	"github.com/hatchet-dev/hatchet/pkg/client/rest"
	"github.com/hatchet-dev/hatchet/pkg/worker"
	sdk "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/mageflow-go/mageflow/backend"
)

// Start implements backend.Backend: it creates the registered tasks on the
// engine and starts this process's worker. A process that registered no
// task starts nothing.
func (b *Backend) Start(ctx context.Context) (func(context.Context) error, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	if b.started {
		return nil, errors.New("backend/hatchet: already started")
	}
	b.started = true
	if len(b.tasks) == 0 {
		none := func() error { return nil }
		return b.stop(none, none), nil
	}
	var workflows []sdk.WorkflowBase
	durable := false
	for _, e := range b.tasks {
		t, err := b.define(e)
		if err != nil {
			return nil, err
		}
		workflows = append(workflows, t)
		durable = durable || e.spec.Durable
	}
	name := b.workerName + "-" + randomSuffix()
	// the SDK's worker logs to the backend's logger (WithLogger), at its
	// level: nothing by default
	opts := []sdk.WorkerOption{sdk.WithWorkflows(workflows...), sdk.WithSlots(b.slots), sdk.WithLogger(Zerolog(b.log))}
	if durable {
		// durable slots only for durable tasks: a worker that offers
		// them is scheduled much slower (a swarm of 500 no-op items, its
		// dispatches in bulk, ran at 62-88 items/s offering 100 durable
		// slots, 118-132 offering 1, 176-193 offering none)
		opts = append(opts, sdk.WithDurableSlots(b.durableSlots))
	}
	w, err := newWorker(b.c, name, opts...)
	if err != nil {
		return nil, fmt.Errorf("backend/hatchet: new worker %s: %w", b.workerName, err)
	}
	cleanup, err := w.Start()
	if err != nil {
		return nil, fmt.Errorf("backend/hatchet: start worker %s: %w", name, err)
	}
	// The SDK registers the worker in a goroutine that panics if it is
	// stopped before it registered: return only once it did, so that stop
	// is always safe.
	id, err := b.awaitWorker(ctx, name)
	if err != nil {
		return nil, err
	}
	for name := range b.tasks {
		b.known[name] = true
	}
	b.log.InfoContext(ctx, "backend/hatchet: worker started", slog.String("worker", name), slog.Int("tasks", len(b.tasks)))
	return b.stop(func() error {
		// no new runs while the running ones finish; the listener stays
		// up meanwhile, so that their cancellations still arrive
		pctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
		defer cancel()
		if _, err := b.c.Workers().Pause(pctx, id); err != nil {
			b.log.WarnContext(ctx, "backend/hatchet: pause worker", slog.String("worker", name), slog.Any("error", err))
		}
		return nil
	}, cleanup), nil
}

// registerTimeout bounds the wait for a new worker to register.
const registerTimeout = time.Minute

// awaitWorker waits until the engine lists an active worker named name,
// and returns its id.
func (b *Backend) awaitWorker(ctx context.Context, name string) (string, error) {
	ctx, cancel := context.WithTimeout(ctx, registerTimeout)
	defer cancel()
	tick := time.NewTicker(50 * time.Millisecond)
	defer tick.Stop()
	for {
		list, err := b.c.Workers().List(ctx)
		if err == nil && list != nil && list.Rows != nil {
			for _, w := range *list.Rows {
				if w.Name == name && w.Status != nil && *w.Status == rest.ACTIVE {
					return w.Metadata.Id, nil
				}
			}
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return "", fmt.Errorf("backend/hatchet: worker %s did not register: %w", name, ctx.Err())
		}
	}
}

// randomSuffix tells this process's worker apart from others of its name.
func randomSuffix() string {
	var b [4]byte
	_, _ = rand.Read(b[:])
	return hex.EncodeToString(b[:])
}

// newWorker is the SDK's NewWorker, with its panics as errors.
func newWorker(c *sdk.Client, name string, opts ...sdk.WorkerOption) (w *sdk.Worker, err error) {
	defer func() {
		if v := recover(); v != nil {
			w, err = nil, fmt.Errorf("%v", v)
		}
	}()
	return c.NewWorker(name, opts...)
}

// stop returns the function that stops the worker: pause takes it out of
// scheduling, then the running handlers get until ctx ends to finish
// (canceled if they do not), then cleanup closes its connection.
func (b *Backend) stop(pause, cleanup func() error) func(context.Context) error {
	return func(ctx context.Context) error {
		b.mu.Lock()
		already := b.stopped
		b.stopped = true
		b.mu.Unlock()
		if already {
			return nil
		}
		err := pause()
		idle := make(chan struct{})
		b.mu.Lock()
		if b.running == 0 {
			close(idle)
		} else {
			b.idle = idle
		}
		b.mu.Unlock()
		var waitErr error
		select {
		case <-idle:
		case <-ctx.Done():
			waitErr = fmt.Errorf("backend/hatchet: stop: running tasks did not finish: %w", ctx.Err())
			b.mu.Lock()
			for c := range b.cancels {
				(*c)()
			}
			b.mu.Unlock()
		}
		err = errors.Join(err, cleanup(), waitErr)
		if err != nil {
			return fmt.Errorf("backend/hatchet: stop: %w", err)
		}
		return nil
	}
}

// define makes the Hatchet task of entry e.
func (b *Backend) define(e *entry) (t *sdk.StandaloneTask, err error) {
	defer func() {
		if v := recover(); v != nil {
			t, err = nil, fmt.Errorf("backend/hatchet: define task %q: %v", e.spec.Name, v)
		}
	}()
	opts := []sdk.StandaloneTaskOption{
		sdk.WithRetries(e.spec.Retries + leaseRetries),
		sdk.WithExecutionTimeout(b.lease),
		sdk.WithWorkflowIdempotency(sdk.IdempotencyConfig{Expression: "input.key", TTL: DedupeWindow}),
	}
	if e.spec.Backoff.Base > 0 {
		// Hatchet waits factor^retry seconds, at most its max: the closest
		// to doubling from Base with a cap.
		maxSeconds := int(math.Ceil(e.spec.Backoff.Max.Seconds()))
		if maxSeconds <= 0 {
			maxSeconds = int(time.Hour.Seconds())
		}
		opts = append(opts, sdk.WithRetryBackoff(2, maxSeconds))
	}
	if e.spec.Durable {
		return b.c.NewStandaloneDurableTask(e.spec.Name, func(hctx sdk.DurableContext, in input) (output, error) {
			return b.run(hctx, e, in)
		}, opts...), nil
	}
	return b.c.NewStandaloneTask(e.spec.Name, func(hctx sdk.Context, in input) (output, error) {
		return b.run(hctx, e, in)
	}, opts...), nil
}

// ctxKey carries Hatchet's context inside the plain one handlers get.
type ctxKey struct{}

// Context returns Hatchet's own context of the task running with ctx
// (MageFlow's with_ctx), for handlers that want Hatchet's features (logs,
// refreshing the timeout, releasing the slot). Do not pass it to
// flow.Start: Hatchet would make the runs it starts children of this one.
func Context(ctx context.Context) (sdk.Context, bool) {
	h, ok := ctx.Value(ctxKey{}).(sdk.Context)
	return h, ok
}

// ended counts a handler that returned, and tells a stopping worker
// when none runs any more.
func (b *Backend) ended() {
	b.mu.Lock()
	defer b.mu.Unlock()
	b.running--
	if b.running == 0 && b.idle != nil {
		close(b.idle)
		b.idle = nil
	}
}

// run executes one attempt of a task for Hatchet.
func (b *Backend) run(hctx sdk.Context, e *entry, in input) (output, error) {
	b.mu.Lock()
	b.running++
	b.mu.Unlock()
	defer b.ended()
	meta := hctx.AdditionalMetadata()
	ctx, cancel := context.WithCancel(context.WithValue(hctx.GetContext(), ctxKey{}, hctx))
	defer cancel()
	b.mu.Lock()
	b.cancels[&cancel] = struct{}{}
	b.mu.Unlock()
	defer func() {
		b.mu.Lock()
		delete(b.cancels, &cancel)
		b.mu.Unlock()
	}()
	timeout := e.spec.Timeout
	if timeout <= 0 {
		timeout = b.defaultTimeout
	}
	ctx, cancelTimeout := context.WithTimeout(ctx, timeout)
	defer cancelTimeout()
	defer b.renew(hctx, timeout+timeoutGrace)()
	payload := in.payload()
	d := backend.Delivery{
		Task:        e.spec.Name,
		Payload:     payload,
		Record:      meta[backend.MetaRecord],
		Root:        meta[backend.MetaRoot],
		Meta:        meta,
		RunID:       hctx.WorkflowRunId(),
		Attempt:     hctx.RetryCount() + 1,
		MaxAttempts: e.spec.MaxAttempts(),
	}
	err := e.h(ctx, d)
	switch {
	case err == nil:
		return output{Record: d.Record}, nil
	case backend.IsFinal(err), d.Attempt >= d.MaxAttempts:
		// Hatchet has leaseRetries more: they are for leases, not failures
		return output{}, worker.NewNonRetryableError(err)
	}
	return output{}, err
}

// renew extends the lease of the running run every third of it, for at
// most max, until the returned function is called.
func (b *Backend) renew(hctx sdk.Context, max time.Duration) (stop func()) {
	every := b.lease / 3
	by := fmt.Sprintf("%ds", int(every.Seconds()))
	done := make(chan struct{})
	go func() {
		t := time.NewTicker(every)
		defer t.Stop()
		deadline := time.Now().Add(max)
		for {
			select {
			case <-done:
				return
			case now := <-t.C:
				if now.After(deadline) {
					return
				}
				if err := hctx.RefreshTimeout(by); err != nil {
					b.log.WarnContext(hctx, "backend/hatchet: renew lease", slog.String("run", hctx.WorkflowRunId()), slog.Any("error", err))
				}
			}
		}
	}()
	return func() { close(done) }
}

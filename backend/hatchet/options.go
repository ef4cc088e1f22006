package hatchet

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"
	"time"
)

// Defaults of a [Backend].
const (
	// DefaultSlots is how many tasks a worker runs at once.
	DefaultSlots = 100
	// DefaultDurableSlots is how many durable tasks a worker runs at once.
	DefaultDurableSlots = 1000
	// DefaultTimeout bounds tasks that set no timeout of their own.
	DefaultTimeout = 24 * time.Hour
	// DedupeWindow is how long Hatchet remembers a dispatch's key.
	DedupeWindow = 24 * time.Hour
	// DefaultLease is the lease of a run on its worker: see [WithLease].
	DefaultLease = time.Minute
	// timeoutGrace is how much longer than the task's own timeout its lease
	// is renewed, for a task that ignores its context.
	timeoutGrace = 10 * time.Second
	// minLease is the shortest lease [WithLease] takes.
	minLease = 3 * time.Second
	// leaseRetries are the retries Hatchet gets beyond the task's own, for
	// leases that ran out before the run started; the handler still sees
	// at most the task's attempts fail.
	leaseRetries = 2
)

// Option configures a [Backend].
type Option func(*Backend) error

// WithWorkerName names this process's Hatchet worker (default "mageflow").
func WithWorkerName(name string) Option {
	return func(b *Backend) error {
		if name == "" {
			return errors.New("backend/hatchet: WithWorkerName: empty name")
		}
		b.workerName = name
		return nil
	}
}

// WithSlots sets how many tasks, and durable tasks, the worker runs at
// once. The worker offers durable slots only when a durable task is
// registered: the engine schedules a worker that offers them much slower.
func WithSlots(slots, durable int) Option {
	return func(b *Backend) error {
		if slots < 1 || durable < 1 {
			return fmt.Errorf("backend/hatchet: WithSlots(%d, %d): slots must be positive", slots, durable)
		}
		b.slots, b.durableSlots = slots, durable
		return nil
	}
}

// WithLease sets the lease of a run on the worker it was assigned to
// (default [DefaultLease], at least 3 s). It is the run's execution timeout
// in Hatchet, renewed by the worker every third of it while the task runs
// (up to the task's own timeout), so it bounds how long a run can stay
// assigned to a worker that never runs it: Hatchet v0.104.7 can leave a
// run assigned and never sent when the client that triggered it
// disconnects mid-call. When the lease runs out, Hatchet delivers the run
// again. Runs of a dead worker are reassigned sooner, after 30 s without
// heartbeats.
func WithLease(d time.Duration) Option {
	return func(b *Backend) error {
		if d < minLease {
			return fmt.Errorf("backend/hatchet: WithLease(%v): at least %v", d, minLease)
		}
		b.lease = d
		return nil
	}
}

// WithDefaultTimeout bounds tasks that set no timeout (default
// [DefaultTimeout]; Hatchet's own default would be one minute).
func WithDefaultTimeout(d time.Duration) Option {
	return func(b *Backend) error {
		if d <= 0 {
			return fmt.Errorf("backend/hatchet: WithDefaultTimeout(%v): must be positive", d)
		}
		b.defaultTimeout = d
		return nil
	}
}

// WithNamespace tells the backend the namespace its client was created
// with (the SDK's HATCHET_CLIENT_NAMESPACE, or its WithNamespace option),
// so that it finds its tasks on the engine under their namespaced names.
// By default it reads HATCHET_CLIENT_NAMESPACE, as the SDK does.
func WithNamespace(ns string) Option {
	return func(b *Backend) error {
		b.namespace = normalizeNamespace(ns)
		return nil
	}
}

// normalizeNamespace writes a namespace as the SDK prefixes names with it.
func normalizeNamespace(ns string) string {
	if ns == "" {
		return ""
	}
	return strings.ToLower(ns) + "_"
}

// WithLogger logs the backend's work to l, and the Hatchet SDK's worker's
// too (through Zerolog, at l's level). By default, and with a nil logger,
// nothing is logged. The SDK's client logs to the logger it was made
// with: NewClient(v0client.WithLogger(hatchet.Zerolog(l))).
func WithLogger(l *slog.Logger) Option {
	return func(b *Backend) error {
		if l == nil {
			l = slog.New(slog.DiscardHandler)
		}
		b.log = l
		return nil
	}
}

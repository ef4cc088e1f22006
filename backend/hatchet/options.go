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
	// timeoutGrace is how much later than the task's own timeout Hatchet's
	// execution timeout fires.
	timeoutGrace = 10 * time.Second
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

// WithSlots sets how many tasks, and durable tasks, the worker runs at once.
func WithSlots(slots, durable int) Option {
	return func(b *Backend) error {
		if slots < 1 || durable < 1 {
			return fmt.Errorf("backend/hatchet: WithSlots(%d, %d): slots must be positive", slots, durable)
		}
		b.slots, b.durableSlots = slots, durable
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

// WithLogger logs the backend's work to l (default: nothing).
func WithLogger(l *slog.Logger) Option {
	return func(b *Backend) error {
		if l == nil {
			return errors.New("backend/hatchet: WithLogger: nil logger")
		}
		b.log = l
		return nil
	}
}

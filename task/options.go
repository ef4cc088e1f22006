package task

import (
	"time"

	"github.com/mageflow-go/mageflow/internal/graph"
)

// Option configures a task.
type Option func(*graph.TaskDef)

// WithRetries makes a failed run try again up to n more times (default 0).
func WithRetries(n int) Option {
	return func(d *graph.TaskDef) { d.Spec.Retries = n }
}

// WithBackoff waits between attempts: base before the first retry, doubled
// for each later one, at most max (zero max: no cap). Without it retries
// start at once.
func WithBackoff(base, max time.Duration) Option {
	return func(d *graph.TaskDef) {
		d.Spec.Backoff.Base = base
		d.Spec.Backoff.Max = max
	}
}

// WithTimeout bounds each attempt: its context is canceled after d, and the
// attempt fails with kind "timeout" (retried like any failure).
func WithTimeout(d time.Duration) Option {
	return func(def *graph.TaskDef) { def.Spec.Timeout = d }
}

// Durable asks the backend to run the task durably where it can (Hatchet
// durable tasks). The memory backend ignores it.
func Durable() Option {
	return func(d *graph.TaskDef) { d.Spec.Durable = true }
}

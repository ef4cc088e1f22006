package memory

import "log/slog"

// DefaultWorkers is the size of the goroutine pool when [WithWorkers] is not
// given.
const DefaultWorkers = 64

// Option configures a [Backend] made by [New].
type Option func(*options)

type options struct {
	workers   int
	log       *slog.Logger
	noBackoff bool
	late      bool
}

// WithWorkers sets the number of goroutines that run handlers, which bounds
// how many handlers run at once. A value below 1 means [DefaultWorkers].
func WithWorkers(n int) Option {
	return func(o *options) {
		if n < 1 {
			n = DefaultWorkers
		}
		o.workers = n
	}
}

// WithLogger sets the logger for retries, failures, panics and faults. By
// default, and with a nil logger, nothing is logged.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) {
		if l == nil {
			l = slog.New(slog.DiscardHandler)
		}
		o.log = l
	}
}

// WithoutBackoff queues every retry at once, whatever the task's backoff.
// Tests use it so that a retried task does not make them wait.
func WithoutBackoff() Option {
	return func(o *options) { o.noBackoff = true }
}

// WithLateRegistration lets Register add tasks after Start, which no
// production backend does (Hatchet's worker declares its tasks when it
// starts; by default this backend refuses too, with backend.ErrWorkerStarted).
// Package flowtest uses it, so that a test registers its tasks on an Env
// that is running.
func WithLateRegistration() Option {
	return func(o *options) { o.late = true }
}

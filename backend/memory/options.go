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

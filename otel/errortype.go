package otelmageflow

import (
	"context"
	"errors"

	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"

	"github.com/mageflow-go/mageflow/task"
)

// errorType is a failed attempt's error.type: "timeout" for an error
// that is a context.DeadlineExceeded (an attempt that overran its task's
// timeout, or a deadline of the task's own), "panic" for a panic, else the messaging
// conventions' type of the task's error, under task.NonRetryable's mark
// (a *task.DecodeError keeps its own).
func errorType(err error) string {
	var p *task.PanicError
	var d *task.DecodeError
	switch {
	case errors.Is(err, context.DeadlineExceeded):
		return "timeout"
	case errors.As(err, &p):
		return "panic"
	case errors.As(err, &d):
		err = d
	default:
		for task.IsNonRetryable(err) {
			u := errors.Unwrap(err)
			if u == nil {
				break
			}
			err = u
		}
	}
	return semconv.ErrorType(err).Value.AsString()
}

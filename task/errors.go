package task

import (
	"errors"
	"fmt"
)

// nonRetryable marks an error as final.
type nonRetryable struct{ err error }

func (e *nonRetryable) Error() string { return e.err.Error() }
func (e *nonRetryable) Unwrap() error { return e.err }

// NonRetryable marks err as final: the task fails at once, whatever
// retries remain, and its error callbacks fire. NonRetryable(nil) is nil.
func NonRetryable(err error) error {
	if err == nil {
		return nil
	}
	return &nonRetryable{err: err}
}

// IsNonRetryable reports whether err, or an error it wraps, was marked
// with [NonRetryable]. Decode errors are non-retryable too.
func IsNonRetryable(err error) bool {
	var n *nonRetryable
	var d *DecodeError
	return errors.As(err, &n) || errors.As(err, &d)
}

// PanicError is the error of a task that panicked.
type PanicError struct {
	// Value is what the task panicked with.
	Value any
	// Stack is the goroutine's stack at the panic.
	Stack string
}

func (e *PanicError) Error() string { return fmt.Sprintf("panic: %v", e.Value) }

// Unwrap returns the panic value when it is an error.
func (e *PanicError) Unwrap() error {
	err, _ := e.Value.(error)
	return err
}

// DecodeError is the error of a task whose input does not decode into its
// input type. It is not retried.
type DecodeError struct {
	Task string
	Err  error
}

func (e *DecodeError) Error() string { return fmt.Sprintf("task %s: decode input: %v", e.Task, e.Err) }

// Unwrap returns the decoding error.
func (e *DecodeError) Unwrap() error { return e.Err }

package flow

import (
	"fmt"
	"strings"

	"github.com/mageflow-go/mageflow/sig"
)

// ErrorInfo describes a failure: the failing task's name, the error's
// message, the attempts made, and its kind.
type ErrorInfo = sig.ErrorInfo

// Failure is the input of an error callback: the failed node's input and
// what went wrong.
type Failure[In any] struct {
	Input In        `json:"input"`
	Error ErrorInfo `json:"error"`
}

// FailedError is the error of waiting on a failed run. Use errors.As to
// read it.
type FailedError struct {
	// RunID is the failed run's id.
	RunID string
	// Info describes the failure.
	Info ErrorInfo
}

func (e *FailedError) Error() string {
	task := "task " + e.Info.Task + ": "
	// a task's own errors (task.DecodeError, an output that does not
	// encode) already name it
	return fmt.Sprintf("mageflow: run %s failed: %s%s", e.RunID, task, strings.TrimPrefix(e.Info.Message, task))
}

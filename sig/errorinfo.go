package sig

import "fmt"

// ErrorKind classifies a failure.
type ErrorKind string

// The kinds of failure.
const (
	// ErrorTask: the task returned an error.
	ErrorTask ErrorKind = "error"
	// ErrorPanic: the task panicked; Stack holds where.
	ErrorPanic ErrorKind = "panic"
	// ErrorTimeout: the task ran past its timeout.
	ErrorTimeout ErrorKind = "timeout"
	// ErrorDecode: the task's input could not be decoded.
	ErrorDecode ErrorKind = "decode"
	// ErrorSwarm: a swarm reached its failure limit.
	ErrorSwarm ErrorKind = "swarm"
)

// ErrorInfo describes why a node failed. It travels to error callbacks
// inside their input, so it has JSON names.
type ErrorInfo struct {
	// Task is the name of the task whose failure this is.
	Task string `json:"task"`
	// Message is the error's text.
	Message string `json:"message"`
	// Attempts is how many attempts the task made.
	Attempts int `json:"attempts"`
	// Kind classifies the failure.
	Kind ErrorKind `json:"kind"`
	// Stack is the goroutine stack of a panic.
	Stack string `json:"stack,omitempty"`
}

// String returns a one-line description.
func (e ErrorInfo) String() string {
	return fmt.Sprintf("%s: %s (%s after %s)", e.Task, e.Message, e.Kind, plural(e.Attempts, "attempt"))
}

// plural writes n and noun, with an s unless n is 1.
func plural(n int, noun string) string {
	if n == 1 {
		return fmt.Sprintf("1 %s", noun)
	}
	return fmt.Sprintf("%d %ss", n, noun)
}

package flow

import (
	"fmt"

	"github.com/mageflow-go/mageflow/sig"
)

// StartOption configures a [Start].
type StartOption func(*startOptions) error

type startOptions struct {
	id       string
	detached bool
}

// WithID gives the flow the id id, chosen by the caller, instead of a new
// one: a second Start with the same id starts nothing and returns the
// running (or ended) flow of that id, as a workflow id does on Temporal.
// Use it where a caller may repeat a Start whose reply it did not get (a
// request handler retried by its client, a consumer that redelivers). The
// id is the flow's for as long as its records live (the done TTL after it
// ended); it is made of letters, digits, '-', '_' and '~', at most 200
// characters. Inside a running task a flow with the caller's id is not
// the task's child (see [Start]): canceling the task's flow leaves it.
func WithID(id string) StartOption {
	return func(o *startOptions) error {
		if len(id) > 200 || !sig.ValidID(id) || sig.RootOf(id) != id {
			return fmt.Errorf("flow: WithID(%q): an id is 1 to 200 letters, digits, '-', '_' or '~'", id)
		}
		o.id = id
		return nil
	}
}

// Detached makes a flow started inside a running task independent of the
// task's flow. By default such a flow is the task's child: canceling the
// task's flow (or its swarm stopping at its failure limit) cancels it
// too, and a task whose flow was canceled cannot start one. A detached
// flow runs on. Both are retry-safe: a retried task finds the flows its
// earlier attempt started, detached or not. Outside a task Detached
// changes nothing.
func Detached() StartOption {
	return func(o *startOptions) error {
		o.detached = true
		return nil
	}
}

// startOptionsOf applies opts.
func startOptionsOf(opts []StartOption) (startOptions, error) {
	var o startOptions
	for _, opt := range opts {
		if opt == nil {
			return o, fmt.Errorf("flow: nil StartOption")
		}
		if err := opt(&o); err != nil {
			return o, err
		}
	}
	return o, nil
}

package flow

import (
	"fmt"
	"strings"
	"unicode/utf8"

	"github.com/mageflow-go/mageflow/sig"
)

// StartOption configures a [Start].
type StartOption func(*startOptions) error

type startOptions struct {
	id       string
	detached bool
	metadata map[string]string
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

// The bounds of [WithMetadata].
const (
	// MaxMetadataPairs is the most pairs a flow's metadata holds.
	MaxMetadataPairs = 16
	// MaxMetadataLen is the most bytes of a metadata key or value.
	MaxMetadataLen = 256
)

// WithMetadata stores the key/value pairs m with the flow: the tools list
// and show them (the command, the viewer, package inspect), and every
// dispatch of the flow carries them as the backend's metadata (Hatchet's
// run metadata, shown and filtered in its dashboard). They are meant to
// find a flow by (a customer, an order, a deploy): at most
// [MaxMetadataPairs] pairs, keys of 1 to [MaxMetadataLen] bytes not
// starting with "mageflow-" (the library's own), values of at most
// MaxMetadataLen bytes, all valid UTF-8. Several WithMetadata add up; a
// later value of a key replaces an earlier one.
func WithMetadata(m map[string]string) StartOption {
	return func(o *startOptions) error {
		for k, v := range m {
			switch {
			case k == "" || len(k) > MaxMetadataLen:
				return fmt.Errorf("flow: WithMetadata: key %.40q: a key is 1 to %d bytes", k, MaxMetadataLen)
			case strings.HasPrefix(k, "mageflow-"):
				return fmt.Errorf("flow: WithMetadata: key %q: keys starting with \"mageflow-\" are the library's", k)
			case len(v) > MaxMetadataLen:
				return fmt.Errorf("flow: WithMetadata: value of %q is %d bytes, more than %d", k, len(v), MaxMetadataLen)
			case !utf8.ValidString(k) || !utf8.ValidString(v):
				return fmt.Errorf("flow: WithMetadata: key %q: keys and values are valid UTF-8", k)
			}
			if o.metadata == nil {
				o.metadata = make(map[string]string, len(m))
			}
			o.metadata[k] = v
		}
		if len(o.metadata) > MaxMetadataPairs {
			return fmt.Errorf("flow: WithMetadata: %d pairs, more than %d", len(o.metadata), MaxMetadataPairs)
		}
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

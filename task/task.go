package task

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"runtime/debug"
	"unicode"

	"github.com/mageflow-go/mageflow/internal/graph"
)

// Task is a named function from In to Out that mageflow can run. It is a
// flow (flow.Flow[In, Out]) and composes with the combinators of package
// flow. A Task is a small value; copy it freely.
type Task[In, Out any] struct {
	def *graph.TaskDef
	// spec is the task as a flow node, made once: specs are immutable,
	// so every flow that uses the task shares it (a swarm of a million
	// items of one task holds a million pointers, not a million nodes).
	spec *graph.Spec
}

// New returns the task name that runs fn. Bad arguments (an empty name, a
// nil fn, negative retries) are reported when the task is registered or
// used in a flow.
func New[In, Out any](name string, fn func(ctx context.Context, in In) (Out, error), opts ...Option) Task[In, Out] {
	def := &graph.TaskDef{
		In:  reflect.TypeFor[In](),
		Out: reflect.TypeFor[Out](),
	}
	def.Spec.Name = name
	for _, o := range opts {
		if o != nil {
			o(def)
		}
	}
	def.Err = validate(def, fn == nil)
	def.Invoke = func(ctx context.Context, payload []byte) ([]byte, error) {
		in, err := decode[In](payload)
		if err != nil {
			return nil, &DecodeError{Task: name, Err: err}
		}
		out, err := call(ctx, fn, in)
		if err != nil {
			return nil, err
		}
		b, err := encode(out)
		if err != nil {
			return nil, NonRetryable(fmt.Errorf("task %s: encode output: %w", name, err))
		}
		return b, nil
	}
	return Task[In, Out]{def: def, spec: &graph.Spec{Kind: "task", Task: def}}
}

// validate checks a task's name and options.
func validate(def *graph.TaskDef, nilFn bool) error {
	name := def.Spec.Name
	switch {
	case name == "":
		return errors.New("task: empty name")
	case len(name) > 200:
		return fmt.Errorf("task %.40q...: name longer than 200 bytes", name)
	case nilFn:
		return fmt.Errorf("task %q: nil function", name)
	case def.Spec.Retries < 0:
		return fmt.Errorf("task %q: negative retries %d", name, def.Spec.Retries)
	case def.Spec.Timeout < 0:
		return fmt.Errorf("task %q: negative timeout %v", name, def.Spec.Timeout)
	case def.Spec.Backoff.Base < 0 || def.Spec.Backoff.Max < 0:
		return fmt.Errorf("task %q: negative backoff", name)
	}
	for _, r := range name {
		if !unicode.IsPrint(r) || unicode.IsSpace(r) {
			return fmt.Errorf("task %q: name holds a space or control character", name)
		}
	}
	return nil
}

// call runs fn, turning a panic into a *PanicError.
func call[In, Out any](ctx context.Context, fn func(context.Context, In) (Out, error), in In) (out Out, err error) {
	defer func() {
		if v := recover(); v != nil {
			err = &PanicError{Value: v, Stack: string(debug.Stack())}
		}
	}()
	return fn(ctx, in)
}

// Name returns the task's name.
func (t Task[In, Out]) Name() string {
	if t.def == nil {
		return ""
	}
	return t.def.Spec.Name
}

// Call runs the task's function in this process, outside any flow: no
// retries, no timeout; a panic comes back as a *PanicError. It is meant for
// unit tests of a task's logic.
func (t Task[In, Out]) Call(ctx context.Context, in In) (Out, error) {
	var zero Out
	if t.def == nil {
		return zero, errors.New("task: zero Task (use task.New)")
	}
	if t.def.Err != nil {
		return zero, t.def.Err
	}
	b, err := json.Marshal(in)
	if err != nil {
		return zero, fmt.Errorf("task %s: encode input: %w", t.Name(), err)
	}
	res, err := t.def.Invoke(ctx, b)
	if err != nil {
		return zero, err
	}
	var out Out
	if err := json.Unmarshal(res, &out); err != nil {
		return zero, fmt.Errorf("task %s: decode output: %w", t.Name(), err)
	}
	return out, nil
}

// FlowSpec returns the task as a flow node. It makes a Task a flow.Flow;
// its result type is internal to this module.
func (t Task[In, Out]) FlowSpec() graph.Ref[In, Out] {
	if t.spec == nil {
		return graph.RefOf[In, Out](&graph.Spec{Kind: "task", Err: errors.New("task: zero Task (use task.New)")})
	}
	return graph.RefOf[In, Out](t.spec)
}

// TaskDef returns the erased task for registration with a client. Its
// type is internal to this module and opaque: a task cannot be changed
// once built.
func (t Task[In, Out]) TaskDef() graph.Def { return graph.DefOf(t.def) }

// Registrable is what mageflow's Client.Register accepts: any Task.
type Registrable interface {
	TaskDef() graph.Def
}

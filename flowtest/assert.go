package flowtest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"testing"

	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/task"
)

// Named is anything with a task name: a task.Task, or [Label] for a chain
// or swarm nested as a step or item.
type Named interface{ Name() string }

// Label names a nested chain ("chain") or swarm ("swarm") in
// [AssertChainDispatched] and [AssertSwarmDispatched], or a task by its
// name alone.
type Label string

// Name returns the label.
func (l Label) Name() string { return string(l) }

// AssertTaskDispatched checks that tk was dispatched with an input m
// matches, since New or the last Clear, and returns the first such input.
// Otherwise it reports, with t.Errorf, each dispatch of tk and why it did
// not match, or what was dispatched instead.
func AssertTaskDispatched[In, Out any](t testing.TB, e *Env, tk task.Task[In, Out], m Match[In]) (In, bool) {
	t.Helper()
	var zero In
	var b strings.Builder
	n := 0
	for _, d := range e.Dispatches() {
		if d.Task != tk.Name() {
			continue
		}
		n++
		var got In
		why := ""
		if err := json.Unmarshal(d.Input, &got); err != nil {
			why = fmt.Sprintf("input %s does not decode into %T: %v", d.Input, got, err)
		} else if why = m.check(got); why == "" {
			return got, true
		}
		fmt.Fprintf(&b, "\n  dispatch %d (record %s): %s", n, d.Record, indent(why))
	}
	if n == 0 {
		t.Errorf("flowtest: task %q was not dispatched (want input %s); dispatched: %s", tk.Name(), m, tallies(e.Dispatches()))
		return zero, false
	}
	t.Errorf("flowtest: task %q was dispatched %d times, never with input %s:%s", tk.Name(), n, m, b.String())
	return zero, false
}

// AssertTaskNotDispatched checks that tk was not dispatched since New or
// the last Clear.
func AssertTaskNotDispatched(t testing.TB, e *Env, tk Named) bool {
	t.Helper()
	var got []string
	for _, d := range e.Dispatches() {
		if d.Task == tk.Name() {
			got = append(got, d.String())
		}
	}
	if len(got) > 0 {
		t.Errorf("flowtest: want task %q not dispatched; it was, %d times: %s", tk.Name(), len(got), strings.Join(got, "; "))
		return false
	}
	return true
}

// AssertNothingDispatched checks that no task was dispatched since New or
// the last Clear.
func AssertNothingDispatched(t testing.TB, e *Env) bool {
	t.Helper()
	if ds := e.Dispatches(); len(ds) > 0 {
		t.Errorf("flowtest: want nothing dispatched; got %d: %s", len(ds), e.rec.summary(10))
		return false
	}
	return true
}

// AssertChainDispatched checks that a chain whose steps have the given
// names, in order, started in a run dispatched since New or the last
// Clear, and returns its record. A step that is a task is named by the
// task; a nested chain or swarm by Label("chain") or Label("swarm"), or
// its own name.
func AssertChainDispatched(t testing.TB, e *Env, steps ...Named) (*sig.Record, bool) {
	t.Helper()
	return assertContainer(t, e, sig.KindChain, "steps", steps)
}

// AssertSwarmDispatched checks that a swarm whose items have the given
// names, in the order they were added, started in a run dispatched since
// New or the last Clear, and returns its record.
func AssertSwarmDispatched(t testing.TB, e *Env, items ...Named) (*sig.Record, bool) {
	t.Helper()
	return assertContainer(t, e, sig.KindSwarm, "items", items)
}

func assertContainer(t testing.TB, e *Env, kind sig.Kind, what string, want []Named) (*sig.Record, bool) {
	t.Helper()
	names := make([]string, len(want))
	for i, n := range want {
		names[i] = n.Name()
	}
	var seen []string
	for _, c := range e.containers(kind) {
		if slices.Equal(c.names, names) {
			return c.rec, true
		}
		seen = append(seen, fmt.Sprintf("%v", c.names))
	}
	if len(seen) == 0 {
		t.Errorf("flowtest: no %s with %s %v was dispatched: no %s started (dispatched: %s)", kind, what, names, kind, tallies(e.Dispatches()))
		return nil, false
	}
	t.Errorf("flowtest: no %s with %s %v was dispatched; %ss started with %s: %s", kind, what, names, kind, what, strings.Join(seen, ", "))
	return nil, false
}

// container is a started chain or swarm and its children's names.
type container struct {
	rec   *sig.Record
	names []string
}

// containers walks the runs of the recorded dispatches and returns their
// started chains or swarms, in the order of the walk.
func (e *Env) containers(kind sig.Kind) []container {
	var out []container
	var walk func(id string)
	walk = func(id string) {
		r, err := e.Store.Get(context.Background(), id)
		if err != nil {
			return // expired, or a place a graph does not hold
		}
		if r.Kind == kind && r.Entered {
			c := container{rec: r}
			for i := range r.Children {
				if ch, err := e.Store.Get(context.Background(), sig.ChildID(id, i)); err == nil {
					c.names = append(c.names, ch.Name)
				}
			}
			out = append(out, c)
		}
		for i := range r.Children {
			walk(sig.ChildID(id, i))
		}
		for i := range r.OnSuccess {
			walk(sig.SuccessID(id, i))
		}
		for i := range r.OnError {
			walk(sig.ErrorID(id, i))
		}
	}
	for _, root := range e.rec.roots() {
		walk(root)
	}
	return out
}

// tallies counts dispatches by task, for failure messages.
func tallies(ds []Dispatch) string {
	if len(ds) == 0 {
		return "nothing"
	}
	var order []string
	count := make(map[string]int)
	for _, d := range ds {
		if count[d.Task] == 0 {
			order = append(order, d.Task)
		}
		count[d.Task]++
	}
	parts := make([]string, len(order))
	for i, name := range order {
		parts[i] = fmt.Sprintf("%s ×%d", name, count[name])
	}
	return strings.Join(parts, ", ")
}

// indent indents the lines after the first of a multi-line reason.
func indent(s string) string {
	return strings.ReplaceAll(strings.TrimRight(s, "\n"), "\n", "\n    ")
}

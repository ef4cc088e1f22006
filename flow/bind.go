package flow

import (
	"encoding/json"
	"fmt"

	"github.com/mageflow-go/mageflow/internal/graph"
	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/task"
)

// Args is the input of a task that takes arguments bound at signing time
// (Args) besides the value that flows into it (In).
type Args[A, P any] struct {
	Args A `json:"args"`
	In   P `json:"in"`
}

// Bind binds args to t, giving a flow from P: when it runs, t receives
// Args{Args: args, In: <the flowing value>}. The args are stored with the
// flow, so the bound flow runs in any process.
func Bind[A, P, Out any](t task.Task[Args[A, P], Out], args A) Flow[P, Out] {
	b, err := json.Marshal(args)
	if err != nil {
		return broken[P, Out](fmt.Errorf("flow.Bind %s: encode args: %w", t.Name(), err))
	}
	spec := *graph.SpecOf(t.FlowSpec())
	spec.Kind = sig.KindTask
	spec.Args = b
	return node[P, Out]{spec: &spec}
}

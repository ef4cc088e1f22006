package flow

import (
	"github.com/mageflow-go/mageflow/internal/graph"
)

// Flow is any composable node from In to Out: a task, a chain, a swarm, or
// one of those with callbacks. Only this module implements it; build flows
// with task.New and the functions of this package.
type Flow[In, Out any] interface {
	// FlowSpec returns the flow's erased graph. Its type is internal to
	// this module and opaque; the method exists so that the compiler can
	// infer In and Out.
	FlowSpec() graph.Ref[In, Out]
}

// node is a flow built by this package.
type node[In, Out any] struct {
	spec *graph.Spec
}

func (n node[In, Out]) FlowSpec() graph.Ref[In, Out] { return graph.RefOf[In, Out](n.spec) }

// specOf returns f's spec, or nil when f is nil.
func specOf[In, Out any](f Flow[In, Out]) *graph.Spec {
	if f == nil {
		return nil
	}
	return graph.SpecOf(f.FlowSpec())
}

// broken is a flow that reports err when started.
func broken[In, Out any](err error) Flow[In, Out] {
	return node[In, Out]{spec: &graph.Spec{Kind: "task", Err: err}}
}

package flow

import (
	"errors"
	"fmt"

	"github.com/mageflow-go/mageflow/internal/graph"
	"github.com/mageflow-go/mageflow/sig"
)

// Then runs a, then b with a's output: a chain. The chain's output is b's.
// A failing step stops the chain: later steps never run, the step's error
// callbacks and the chain's fire once.
func Then[A, B, C any](a Flow[A, B], b Flow[B, C]) Flow[A, C] {
	sa, sb := specOf(a), specOf(b)
	if sa == nil || sb == nil {
		return broken[A, C](errors.New("flow.Then: nil flow"))
	}
	return node[A, C]{spec: &graph.Spec{Kind: sig.KindChain, Children: append(steps(sa), steps(sb)...)}}
}

// Chain runs steps one after the other, each with the previous one's
// output. It needs at least one step.
func Chain[T any](steps ...Flow[T, T]) Flow[T, T] {
	if len(steps) == 0 {
		return broken[T, T](errors.New("flow.Chain: no steps"))
	}
	var children []*graph.Spec
	for i, s := range steps {
		sp := specOf(s)
		if sp == nil {
			return broken[T, T](fmt.Errorf("flow.Chain: step %d is nil", i))
		}
		children = append(children, stepsOf(sp)...)
	}
	return node[T, T]{spec: &graph.Spec{Kind: sig.KindChain, Children: children}}
}

// steps returns the steps s contributes to a chain: a plain chain's own
// steps (chains flatten, unless named), or s itself.
func steps(s *graph.Spec) []*graph.Spec { return stepsOf(s) }

func stepsOf(s *graph.Spec) []*graph.Spec {
	if s.Kind == sig.KindChain && s.Err == nil && s.Name == "" && s.Label == "" && len(s.OnSuccess) == 0 && len(s.OnError) == 0 {
		return s.Children
	}
	return []*graph.Spec{s}
}

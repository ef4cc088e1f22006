package flow

import (
	"errors"

	"github.com/mageflow-go/mageflow/internal/graph"
)

// OnSuccess runs cb with f's output when f succeeds. f's output stays the
// flow's output; cb's output goes nowhere. Several callbacks on one flow
// all fire, once each.
func OnSuccess[In, Out, X any](f Flow[In, Out], cb Flow[Out, X]) Flow[In, Out] {
	sf, sc := specOf(f), specOf(cb)
	if sf == nil || sc == nil {
		return broken[In, Out](errors.New("flow.OnSuccess: nil flow"))
	}
	return node[In, Out]{spec: sf.WithCallbacks([]*graph.Spec{sc}, nil)}
}

// OnError runs cb when f fails for good (after its last attempt), with f's
// input and the error. Several callbacks on one flow all fire, once each.
func OnError[In, Out, Y any](f Flow[In, Out], cb Flow[Failure[In], Y]) Flow[In, Out] {
	sf, sc := specOf(f), specOf(cb)
	if sf == nil || sc == nil {
		return broken[In, Out](errors.New("flow.OnError: nil flow"))
	}
	return node[In, Out]{spec: sf.WithCallbacks(nil, []*graph.Spec{sc})}
}

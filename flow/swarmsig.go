package flow

import (
	"context"
	"fmt"

	"github.com/mageflow-go/mageflow"
	"github.com/mageflow-go/mageflow/internal/engine"
	"github.com/mageflow-go/mageflow/internal/graph"
	"github.com/mageflow-go/mageflow/sig"
)

// SwarmSig is a stored swarm that accepts items while it runs, until it is
// closed (or reaches its MaxItems). It completes when closed and every
// item ended.
type SwarmSig[In, Out any] struct {
	control
}

// SignSwarm stores swarm s open for more items. s may carry callbacks
// (flow.OnSuccess(flow.Swarm(...), cb)); it may start with no items. A
// flow that is not a swarm (a task or chain whose output is a slice) is
// refused before anything is stored, with an error wrapping
// mageflow.ErrInvalidFlow: the parameter is a Flow, not a *SwarmFlow, so
// that a swarm with callbacks (which OnSuccess and OnError return as a
// Flow) can be signed.
func SignSwarm[In, Out any](ctx context.Context, c *mageflow.Client, s Flow[In, []Out]) (*SwarmSig[In, Out], error) {
	if err := checkCtx(ctx); err != nil {
		return nil, err
	}
	eng, err := engine.From(c)
	if err != nil {
		return nil, err
	}
	spec := specOf(s)
	if spec == nil {
		return nil, fmt.Errorf("flow.SignSwarm: nil swarm: %w", mageflow.ErrInvalidFlow)
	}
	if spec.Kind != sig.KindSwarm {
		return nil, fmt.Errorf("flow.SignSwarm: flow is a %s, not a swarm: %w", spec.Kind, mageflow.ErrInvalidFlow)
	}
	if spec.Settled {
		return nil, fmt.Errorf("flow.SignSwarm: a Settled swarm cannot be signed open (its items' type is not its output's); sign it with Sign: %w", mageflow.ErrInvalidFlow)
	}
	open := *spec
	open.Open = true
	id, err := eng.Create(ctx, &open, false, nil, engine.CreateOptions{})
	if err != nil {
		return nil, err
	}
	return &SwarmSig[In, Out]{control{eng: eng, id: id}}, nil
}

// Start starts the swarm with input in; items added later receive it too.
func (s *SwarmSig[In, Out]) Start(ctx context.Context, in In) (*Run[[]Out], error) {
	return startSigned[In, []Out](ctx, s.control, in)
}

// Add appends items. Items added to a running swarm start as slots free.
// Adding to a closed, ended or canceled swarm, or past MaxItems, fails.
func (s *SwarmSig[In, Out]) Add(ctx context.Context, items ...Flow[In, Out]) error {
	if err := s.ready(ctx); err != nil {
		return err
	}
	specs := make([]*graph.Spec, len(items))
	for i, it := range items {
		if specs[i] = specOf(it); specs[i] == nil {
			return fmt.Errorf("flow: add to swarm %s: item %d is nil", s.id, i)
		}
	}
	return s.eng.AddItems(ctx, s.id, specs)
}

// Close says no more items come: the swarm completes once every item
// ended. Closing twice is fine; closing a swarm with no items fails.
func (s *SwarmSig[In, Out]) Close(ctx context.Context) error {
	if err := s.ready(ctx); err != nil {
		return err
	}
	return s.eng.CloseSwarm(ctx, s.id)
}

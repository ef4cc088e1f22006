package flow

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/mageflow-go/mageflow"
	"github.com/mageflow-go/mageflow/internal/engine"
)

// Start stores f and dispatches its first tasks with input in, then
// returns at once. Bad flows (nil parts, unknown tasks, empty swarms,
// negative configs) are rejected before anything is stored.
//
// Called inside a running task, Start (like Sign and SignSwarm) is safe to
// retry: the flow's id derives from the task's record and the number of
// flows the task created before it, so a retried or redelivered task gets
// back the flow its earlier attempt started instead of starting another.
// The rule that comes with it: a task creates its flows in the same order
// on every attempt. mageflow.WithFreshIDs turns this off. A flow started
// inside a task is that task's child: canceling the task's flow cancels it
// (and the flows its own tasks started), and a flow a task whose flow was
// canceled starts is canceled at once; [Detached] starts one that runs on.
// A flow an earlier attempt started that ended and expired since is not
// started again (its Run's Wait then finds no records). Knowing the
// task's children costs two store calls per such Start.
//
// Once Start returns, the flow is stored and nothing of it is lost: a
// first dispatch the backend refused stays owed in the store, and a
// worker's recovery sends it (mageflow.WithSweep). Start repeats its own
// store call when the store's reply is lost, and finds the flow it stored;
// a caller that repeats Start after an error gives [WithID] to start it
// once.
func Start[In, Out any](ctx context.Context, c *mageflow.Client, f Flow[In, Out], in In, opts ...StartOption) (*Run[Out], error) {
	if err := checkCtx(ctx); err != nil {
		return nil, err
	}
	eng, err := engine.From(c)
	if err != nil {
		return nil, err
	}
	o, err := startOptionsOf(opts)
	if err != nil {
		return nil, err
	}
	b, err := json.Marshal(in)
	if err != nil {
		return nil, fmt.Errorf("flow.Start: encode input: %w", err)
	}
	id, err := eng.Create(ctx, specOf(f), true, b, engine.CreateOptions{ID: o.id, Detached: o.detached, Metadata: o.metadata})
	if err != nil {
		return nil, err
	}
	return &Run[Out]{control{eng: eng, id: id}}, nil
}

// Sig is a stored flow that has not started (MageFlow's sign).
type Sig[In, Out any] struct {
	control
}

// Sign stores f without starting it.
func Sign[In, Out any](ctx context.Context, c *mageflow.Client, f Flow[In, Out]) (*Sig[In, Out], error) {
	if err := checkCtx(ctx); err != nil {
		return nil, err
	}
	eng, err := engine.From(c)
	if err != nil {
		return nil, err
	}
	id, err := eng.Create(ctx, specOf(f), false, nil, engine.CreateOptions{})
	if err != nil {
		return nil, err
	}
	return &Sig[In, Out]{control{eng: eng, id: id}}, nil
}

// Start starts the signed flow with input in. A signed flow starts once.
func (s *Sig[In, Out]) Start(ctx context.Context, in In) (*Run[Out], error) {
	return startSigned[In, Out](ctx, s.control, in)
}

func startSigned[In, Out any](ctx context.Context, h control, in In) (*Run[Out], error) {
	if err := h.ready(ctx); err != nil {
		return nil, err
	}
	b, err := json.Marshal(in)
	if err != nil {
		return nil, fmt.Errorf("flow: start %s: encode input: %w", h.id, err)
	}
	if err := h.eng.StartSigned(ctx, h.id, b); err != nil {
		return nil, err
	}
	return &Run[Out]{h}, nil
}

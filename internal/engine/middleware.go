package engine

import (
	"context"
	"fmt"
	"log/slog"
	"maps"
	"runtime/debug"

	"github.com/mageflow-go/mageflow/internal/graph"
	"github.com/mageflow-go/mageflow/middleware"
	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/task"
)

// execute runs one attempt of def through the middlewares, the first
// outermost, and returns the task's result and the attempt's error. A
// panic in a middleware is a *task.PanicError, as one in the task is; a
// middleware that returns nil without running the task fails the
// attempt.
func (e *Engine) execute(tctx *taskContext, def *graph.TaskDef, payload []byte, x *middleware.Execution) ([]byte, error) {
	if len(e.mws) == 0 {
		return e.runTracked(tctx, def, payload)
	}
	// a function of its own: what its closures capture is allocated
	// only on this path
	return e.executeThrough(tctx, def, payload, x)
}

// executeThrough is execute with middlewares.
func (e *Engine) executeThrough(tctx *taskContext, def *graph.TaskDef, payload []byte, x *middleware.Execution) (out []byte, err error) {
	defer e.untrack(tctx)
	ran := false
	next := func(ctx context.Context) error {
		if ran {
			return fmt.Errorf("mageflow: task %s: a middleware ran it twice", def.Name())
		}
		ran = true
		o, err := e.run(ctx, def, payload)
		if err == nil {
			out, x.Result = o, o
		}
		return err
	}
	for i := len(e.mws) - 1; i >= 0; i-- {
		m, inner := e.mws[i], next
		next = func(ctx context.Context) error { return m.Execute(ctx, x, inner) }
	}
	defer func() {
		if v := recover(); v != nil {
			out, err = nil, &task.PanicError{Value: v, Stack: string(debug.Stack())}
		}
	}()
	if err := next(tctx); err != nil {
		return nil, err
	}
	if !ran {
		return nil, fmt.Errorf("mageflow: task %s: a middleware returned without running it", def.Name())
	}
	return out, nil
}

// execution describes attempt info of a delivery with metadata meta to
// the middlewares.
func execution(info task.RunInfo, meta map[string]string) *middleware.Execution {
	parent, role, _, _ := sig.Place(info.Record)
	if role != sig.RoleChild {
		parent = ""
	}
	return &middleware.Execution{
		Task: info.Task, Record: info.Record, Root: info.Root, Parent: parent,
		RunID: info.RunID, Attempt: info.Attempt, MaxAttempts: info.MaxAttempts, Metadata: meta,
	}
}

// carried returns metadata meta with the pairs x carries in place of
// its own (meta itself when it carries none).
func carried(meta map[string]string, x *middleware.Execution) map[string]string {
	c := x.Carried()
	if len(c) == 0 {
		return meta
	}
	out := maps.Clone(meta)
	if out == nil {
		out = make(map[string]string, len(c))
	}
	for k, v := range c {
		if !isEngineKey(k) {
			out[k] = v
		}
	}
	return out
}

// start runs create, which stores and starts flow st, through the
// starters, the first outermost.
func (e *Engine) start(ctx context.Context, st *middleware.Start, create func(ctx context.Context) error) error {
	next := create
	for i := len(e.starters) - 1; i >= 0; i-- {
		m, inner := e.starters[i], next
		next = func(ctx context.Context) error { return m.Start(ctx, st, inner) }
	}
	return next(ctx)
}

// nameOf is the name the tools show for root record r: its label
// (flow.Named), else its name.
func nameOf(r *sig.Record) string {
	if r.Label != "" {
		return r.Label
	}
	return r.Name
}

// ended tells the enders that the graph of root r ended. A panic in one
// is logged: the transition is done.
func (e *Engine) ended(ctx context.Context, r *sig.Record) {
	end := middleware.End{
		Root: r.ID, Name: nameOf(r), Kind: r.Kind, Status: r.Status, Error: r.Error,
		Created: r.CreatedAt, Ended: r.EndedAt, Metadata: r.Metadata,
	}
	for _, m := range e.enders {
		func() {
			defer func() {
				if v := recover(); v != nil {
					e.log.ErrorContext(ctx, "mageflow: a middleware panicked in Ended", slog.String("root", r.ID), slog.Any("panic", v))
				}
			}()
			m.Ended(ctx, end)
		}()
	}
}

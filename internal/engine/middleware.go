package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"runtime/debug"

	"github.com/mageflow-go/mageflow/internal/graph"
	"github.com/mageflow-go/mageflow/middleware"
	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
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
		if def.Spec.Timeout > 0 && errors.Is(tctx.Err(), context.DeadlineExceeded) {
			// overran: the middlewares see the attempt fail (the handler
			// says how)
			return errors.Join(context.DeadlineExceeded, err)
		}
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
	for k, v := range c { // within the bounds: Carry keeps them
		out[k] = v
	}
	return out
}

// start runs create, which stores and starts flow st, through the
// starters, the first outermost. The start fails when create did (a
// starter cannot hide it), when no starter ran it, or when one panicked;
// create runs at most once.
func (e *Engine) start(ctx context.Context, st *middleware.Start, create func(ctx context.Context) error) (err error) {
	ran := false
	var created error
	next := func(ctx context.Context) error {
		if ran {
			return fmt.Errorf("mageflow: start %s: a middleware started it twice", st.Root)
		}
		ran = true
		created = create(ctx)
		return created
	}
	for i := len(e.starters) - 1; i >= 0; i-- {
		m, inner := e.starters[i], next
		next = func(ctx context.Context) error { return m.Start(ctx, st, inner) }
	}
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("mageflow: start %s: a middleware panicked: %v", st.Root, v)
		}
	}()
	err = next(ctx)
	switch {
	case created != nil:
		return created
	case err != nil:
		return err
	case !ran:
		return fmt.Errorf("mageflow: start %s: a middleware returned without starting it", st.Root)
	}
	return nil
}

// scopeParent is the record of the task ctx runs, "" outside a task.
func scopeParent(ctx context.Context) string {
	if s, ok := ctx.Value(scopeKey{}).(*spawnScope); ok {
		return s.parent
	}
	return ""
}

// withSent returns ctx carrying, for the first dispatches of flow st,
// the pairs its starters sent (Start.Send) besides its metadata.
func withSent(ctx context.Context, st *middleware.Start) context.Context {
	if len(st.Sent()) == 0 {
		return ctx
	}
	return withMeta(ctx, mergeMeta(metaOf(ctx), st.Sent()))
}

// mergeMeta returns a with b's pairs that are the flow's (a itself when
// b has none).
func mergeMeta(a, b map[string]string) map[string]string {
	if len(b) == 0 {
		return a
	}
	out := make(map[string]string, len(a)+len(b))
	maps.Copy(out, a)
	for k, v := range b {
		if !isEngineKey(k) {
			out[k] = v
		}
	}
	return out
}

// ended tells the enders that the graph of root r ended. A panic in one
// is logged: the transition is done.
func (e *Engine) ended(ctx context.Context, r *sig.Record) {
	end := middleware.End{
		Root: r.ID, Name: r.DisplayName(), Kind: r.Kind, Status: r.Status, Error: r.Error,
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

// fanned maps the swarms an operation started to the metadata their
// items' dispatches carry, with what the fanners carried.
type fanned map[string]map[string]string

type fannedKey struct{}

// fannedOf returns what the fanners carried for the dispatches ctx
// sends, nil when they carried nothing.
func fannedOf(ctx context.Context) fanned {
	f, _ := ctx.Value(fannedKey{}).(fanned)
	return f
}

// meta returns the metadata dispatch d carries: that of the innermost
// swarm the fanners carried pairs for whose item d's target is (or is
// within, a chain item's first step for one), else meta.
func (f fanned) meta(d sig.Dispatch, meta map[string]string) map[string]string {
	if f == nil {
		return meta
	}
	if m := f.of(d.Target); m != nil {
		return m
	}
	return meta
}

// of returns the metadata of the innermost swarm in f that id is an item
// of or within, nil if none.
func (f fanned) of(id string) (m map[string]string) {
	within(id, func(parent string) bool {
		m = f[parent]
		return m != nil
	})
	return m
}

// within calls fn with each container id is a step or an item of,
// innermost first, until fn returns true.
func within(id string, fn func(parent string) bool) {
	for {
		parent, role, _, ok := sig.Place(id)
		if !ok || role != sig.RoleChild || fn(parent) {
			return
		}
		id = parent
	}
}

// fanOut tells the fanners of the swarms eff started that send items
// (eff.Dispatches holds some), and returns ctx carrying what they carried
// for the swarms' items. The swarms come outermost first: a swarm in
// another's item starts from the outer one's metadata.
func (e *Engine) fanOut(ctx context.Context, eff storage.Effects) context.Context {
	// the swarms that send items now: those some dispatch is in
	sending := make(map[string]bool, len(eff.Swarms))
	for _, s := range eff.Swarms {
		sending[s.ID] = false
	}
	for _, d := range eff.Dispatches {
		within(d.Target, func(parent string) bool {
			if _, ok := sending[parent]; ok {
				sending[parent] = true
			}
			return false
		})
	}
	meta := metaOf(ctx)
	var out fanned
	for _, s := range eff.Swarms {
		if !sending[s.ID] {
			continue
		}
		base := meta
		if m := out.of(s.ID); m != nil {
			base = m
		}
		m, any := base, false
		for _, f := range e.fanners {
			if c := e.fanOne(ctx, f, s, m); len(c) > 0 {
				m, any = mergeMeta(m, c), true
			}
		}
		if !any {
			continue
		}
		if out == nil {
			out = fanned{}
		}
		out[s.ID] = m
	}
	if out == nil {
		return ctx
	}
	return context.WithValue(ctx, fannedKey{}, out)
}

// fanOne tells fanner f that swarm s starts items whose dispatches carry
// meta, and returns the pairs it carried; none when it panicked (logged).
func (e *Engine) fanOne(ctx context.Context, f middleware.Fanner, s storage.Swarm, meta map[string]string) (carried map[string]string) {
	x := &middleware.FanOut{Swarm: s.ID, Root: sig.RootOf(s.ID), Name: s.Name, Metadata: maps.Clone(meta)}
	defer func() {
		if v := recover(); v != nil {
			carried = nil
			e.log.ErrorContext(ctx, "mageflow: a middleware panicked in FanOut", slog.String("swarm", s.ID), slog.Any("panic", v))
		}
	}()
	f.FanOut(ctx, x)
	return x.Carried()
}

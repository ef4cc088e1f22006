package engine

import (
	"context"
	"sync/atomic"
	"time"

	"github.com/mageflow-go/mageflow/internal/graph"
	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/task"
)

// spawnScope numbers the graphs one attempt of a task creates, so that
// their ids derive from the task's record and their order: an attempt
// that runs again creates, in the same order, the same ids, and finds what
// the earlier attempt stored instead of creating it twice.
type spawnScope struct {
	// parent is the task's record; base what the flows' ids derive from
	// (sig.SpawnBase: the record and its epoch).
	parent, base string
	// n numbers the flows started with the task (canceled with its
	// graph), d those started detached from it.
	n, d atomic.Int64
}

type scopeKey struct{}

// taskContext is the context of one attempt of a task: its task.RunInfo
// and its spawn scope, in one allocation.
type taskContext struct {
	context.Context
	info  task.RunInfo
	scope spawnScope
	// touched is when the attempt's graph was last kept alive (or the
	// attempt started); the engine's runMu guards it.
	touched time.Time
	// ahead: the attempt runs on a claim the store made ahead for it,
	// which it has not confirmed yet (ahead.go); runMu guards it.
	ahead bool
	// prev and next link the running attempts (Engine.running) while
	// tracked is set; runMu guards them.
	prev, next *taskContext
	tracked    bool
}

// withTask returns ctx for one attempt of the task info describes.
func withTask(ctx context.Context, info task.RunInfo, epoch int) *taskContext {
	c := &taskContext{Context: ctx, info: info}
	c.scope.parent = info.Record
	c.scope.base = sig.SpawnBase(info.Record, epoch)
	return c
}

// Value answers the run info and the scope, and asks ctx for the rest.
func (c *taskContext) Value(key any) any {
	switch key {
	case graph.InfoKey{}:
		return &c.info
	case scopeKey{}:
		return &c.scope
	}
	return c.Context.Value(key)
}

// signedHere reports whether root is the id of a flow the running task of
// ctx signed or started (in this attempt or, with the same number, an
// earlier one): one of the ids derived from it.
func (e *Engine) signedHere(ctx context.Context, root string) bool {
	s, ok := ctx.Value(scopeKey{}).(*spawnScope)
	if !ok || !e.derive {
		return false
	}
	for n := int(s.n.Load()); n >= 1; n-- {
		if sig.DerivedRootID(s.base, n) == root {
			return true
		}
	}
	return false
}

// newRootID returns the root id of a graph created with ctx: derived from
// the running task when there is one (and derived ids are on), fresh
// otherwise. For a flow started with the task (not detached) it also
// returns the task's record and the flow's number, from 1: the task's
// Spawned count must reach it before the flow is stored.
func (e *Engine) newRootID(ctx context.Context, detached bool) (id string, derived bool, parent string, n int) {
	if s, ok := ctx.Value(scopeKey{}).(*spawnScope); ok && e.derive {
		if detached {
			return sig.DerivedRootID(s.base+"~detached", int(s.d.Add(1))), true, "", 0
		}
		n := int(s.n.Add(1))
		return sig.DerivedRootID(s.base, n), true, s.parent, n
	}
	return sig.NewRootID(e.now()), false, "", 0
}

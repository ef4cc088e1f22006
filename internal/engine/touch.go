package engine

import (
	"context"
	"errors"
	"log/slog"
	"time"

	"github.com/mageflow-go/mageflow/internal/graph"
	"github.com/mageflow-go/mageflow/storage"
)

// DefaultTouchEvery bounds how often a worker keeps alive the graph of a
// task it runs: every third of the shortest active TTL it knows, at most
// this often.
const DefaultTouchEvery = 8 * time.Hour

// track registers attempt c as running, until untrack.
func (e *Engine) track(c *taskContext) {
	c.touched = time.Now()
	e.runMu.Lock()
	e.running[c] = struct{}{}
	e.runMu.Unlock()
}

// runTracked runs the attempt of c, tracked until it returns (or panics).
func (e *Engine) runTracked(c *taskContext, def *graph.TaskDef, payload []byte) ([]byte, error) {
	defer e.untrack(c)
	return e.run(c, def, payload)
}

// untrack forgets attempt c, which returned.
func (e *Engine) untrack(c *taskContext) {
	e.runMu.Lock()
	delete(e.running, c)
	e.runMu.Unlock()
}

// keepAlive touches the graphs of the attempts that have run for a third
// of the active TTL since their graph was last touched, so that a task
// running longer than the active TTL does not outlive its graph. It is
// called by the recovery loop.
func (e *Engine) keepAlive(ctx context.Context) {
	now := time.Now()
	var roots []string
	e.runMu.Lock()
	for c := range e.running {
		if now.Sub(c.touched) >= e.touchEvery {
			c.touched = now
			roots = append(roots, c.info.Root)
		}
	}
	e.runMu.Unlock()
	for _, root := range roots {
		if err := e.store.Touch(ctx, root); err != nil && !errors.Is(err, storage.ErrNotFound) && ctx.Err() == nil {
			e.log.WarnContext(ctx, "mageflow: keep the graph of a running task alive", slog.String("root", root), slog.Any("error", err))
		}
	}
}

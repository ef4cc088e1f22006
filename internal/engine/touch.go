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

// track registers attempt c as running, until untrack: first in the
// list of running attempts, which costs no allocation and no hashing.
func (e *Engine) track(c *taskContext) {
	c.touched = time.Now()
	e.runMu.Lock()
	c.prev, c.next, c.tracked = nil, e.running, true
	if e.running != nil {
		e.running.prev = c
	}
	e.running = c
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
	if c.tracked {
		if c.prev != nil {
			c.prev.next = c.next
		} else {
			e.running = c.next
		}
		if c.next != nil {
			c.next.prev = c.prev
		}
		c.prev, c.next, c.tracked = nil, nil, false
	}
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
	for c := e.running; c != nil; c = c.next {
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

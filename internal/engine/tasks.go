package engine

import (
	"context"
	"log/slog"
	"reflect"
	"time"

	"github.com/mageflow-go/mageflow/storage"
)

// tasksEvery is how often a running worker records its tasks again, so
// that a store that lets the list expire (storage/redis, after a week)
// keeps those of the workers that run.
const tasksEvery = time.Hour

// firstTasksWait bounds the worker's start's wait for its tasks to be
// recorded: a store that does not answer by then gets them from the
// loop (seeTasks).
const firstTasksWait = 2 * time.Second

// seeTasks records the tasks registered here in a store that keeps them
// (storage.Tasks), for the tools that list them, every tasksEvery until
// ctx ends; first at once unless the worker's start recorded them
// (recorded). It runs beside the worker: a store that cannot be reached
// delays the listing, not the work.
func (e *Engine) seeTasks(ctx context.Context, x storage.Tasks, recorded bool) {
	for {
		if !recorded {
			err := e.retry(ctx, "see tasks", func() error { return e.recordTasks(ctx, x) })
			if err != nil && ctx.Err() == nil {
				e.log.WarnContext(ctx, "mageflow: could not record the worker's tasks in the store", slog.Any("error", err))
			}
		}
		recorded = false
		if !sleep(ctx, tasksEvery) {
			return
		}
	}
}

// recordTasks records the tasks registered here once.
func (e *Engine) recordTasks(ctx context.Context, x storage.Tasks) error {
	now := time.Now()
	e.mu.RLock()
	tasks := make([]storage.TaskInfo, 0, len(e.tasks))
	for name, def := range e.tasks {
		tasks = append(tasks, storage.TaskInfo{Name: name, In: typeName(def.In), Out: typeName(def.Out), Seen: now})
	}
	e.mu.RUnlock()
	return x.SeeTasks(ctx, tasks)
}

// typeName is t as the tools show it ("main.Order", "[]string"), "" for
// none.
func typeName(t reflect.Type) string {
	if t == nil {
		return ""
	}
	return t.String()
}

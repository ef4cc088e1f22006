package engine

import (
	"cmp"
	"context"
	"log/slog"
	"reflect"
	"slices"
	"time"

	"github.com/mageflow-go/mageflow/storage"
)

// tasksEvery is how often a running worker records its tasks again, so
// that a store that lets the list expire (storage/redis, after a week)
// keeps those of the workers that run.
const tasksEvery = time.Hour

// seeTasks records the tasks registered here in a store that keeps them
// (storage.Tasks), for the tools that list them, as the worker starts and
// every tasksEvery until ctx ends. It runs beside the worker: a store
// that cannot be reached delays the listing, not the work.
func (e *Engine) seeTasks(ctx context.Context, x storage.Tasks) {
	for {
		e.recordTasks(ctx, x)
		if !sleep(ctx, tasksEvery) {
			return
		}
	}
}

// recordTasks records the tasks registered here once.
func (e *Engine) recordTasks(ctx context.Context, x storage.Tasks) {
	now := time.Now()
	e.mu.RLock()
	tasks := make([]storage.TaskInfo, 0, len(e.tasks))
	for name, def := range e.tasks {
		tasks = append(tasks, storage.TaskInfo{Name: name, In: typeName(def.In), Out: typeName(def.Out), Seen: now})
	}
	e.mu.RUnlock()
	slices.SortFunc(tasks, func(a, b storage.TaskInfo) int { return cmp.Compare(a.Name, b.Name) })
	err := e.retry(ctx, "see tasks", func() error { return x.SeeTasks(ctx, tasks) })
	if err != nil && ctx.Err() == nil {
		e.log.WarnContext(ctx, "mageflow: could not record the worker's tasks in the store", slog.Any("error", err))
	}
}

// typeName is t as the tools show it ("main.Order", "[]string"), "" for
// none.
func typeName(t reflect.Type) string {
	if t == nil {
		return ""
	}
	return t.String()
}

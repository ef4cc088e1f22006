package storage

import (
	"context"
	"time"
)

// TaskInfo is a task that a worker of a store registered.
type TaskInfo struct {
	Name string `json:"name"`
	// In and Out are the Go types of the task's input and output.
	In  string `json:"in"`
	Out string `json:"out"`
	// Seen is when a worker that registered the task last started.
	Seen time.Time `json:"seen"`
}

// Tasks is implemented by stores that keep the tasks their workers
// registered, for the tools (mageflow mcp): a worker records its tasks
// when it starts, and again every hour while it runs. The list grows with
// the names of tasks, not with the flows; a task no worker registers any
// more stays listed, with the time it was last seen, until the store lets
// the list expire (storage/redis: redis.TasksTTL after the last record).
type Tasks interface {
	// SeeTasks records tasks as registered by a worker that starts at
	// their Seen time.
	SeeTasks(ctx context.Context, tasks []TaskInfo) error
	// Tasks returns the tasks recorded, by name.
	Tasks(ctx context.Context) ([]TaskInfo, error)
}

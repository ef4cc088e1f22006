package task

import (
	"context"

	"github.com/mageflow-go/mageflow/internal/graph"
)

// RunInfo describes the running task to its own code (MageFlow's
// with_signature).
type RunInfo struct {
	// Record is the id of the task's stored record.
	Record string
	// Root is the id of the flow the task belongs to.
	Root string
	// Task is the task's name.
	Task string
	// RunID is the backend's run id; it is the same for every attempt.
	RunID string
	// Attempt counts from 1; MaxAttempts is the last one.
	Attempt     int
	MaxAttempts int
}

// Info returns the information of the task running with ctx; ok is false
// outside a task run.
func Info(ctx context.Context) (info RunInfo, ok bool) {
	switch v := ctx.Value(graph.InfoKey{}).(type) {
	case RunInfo:
		return v, true
	case *RunInfo:
		return *v, true
	}
	return RunInfo{}, false
}

// WithInfo returns ctx carrying info. The engine calls it before running a
// task; tests of a task's function may call it to fake a run.
func WithInfo(ctx context.Context, info RunInfo) context.Context {
	return context.WithValue(ctx, graph.InfoKey{}, info)
}

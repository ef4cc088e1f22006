// Package task defines tasks: named, typed functions that mageflow runs on a
// backend, and the smallest kind of flow.
//
//	double := task.New("double", func(ctx context.Context, n int) (int, error) {
//		return 2 * n, nil
//	}, task.WithRetries(3))
//
// A task's name is its lasting identity across deploys: a flow started by
// one version of a service finds the task by name in the workers of the
// next. Inputs and outputs travel as JSON, so they must be types that
// encoding/json round-trips.
//
// Inside a running task, [Info] tells the task which record, run and
// attempt it is. An error wrapped with [NonRetryable] fails the task at
// once, without retries; a panic becomes a failure that carries the stack.
package task

package redis

import (
	"cmp"
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/mageflow-go/mageflow/storage"
)

var _ storage.Tasks = (*Store)(nil)

// tasksKey is the hash of the tasks workers registered: name to
// {"in","out","seen" (ms)}. It holds a field per task name, however many
// flows run, and expires TasksTTL after a worker last recorded its tasks
// (workers record them as they start, and again every hour).
func (s *Store) tasksKey() string { return s.prefix + ":tasks" }

// TasksTTL is how long the tasks workers registered (storage.Tasks) stay
// listed after the last worker recorded them.
const TasksTTL = 7 * 24 * time.Hour

// taskValue is a task's field in the hash.
type taskValue struct {
	In   string `json:"in"`
	Out  string `json:"out"`
	Seen int64  `json:"seen"`
}

// SeeTasks implements storage.Tasks: one round trip, an HSET of every
// task and the hash's TTL (TasksTTL) set again, pipelined (not in a
// MULTI, which the worker's ACL user may not run).
func (s *Store) SeeTasks(ctx context.Context, tasks []storage.TaskInfo) error {
	if len(tasks) == 0 {
		return nil
	}
	args := make([]any, 0, 2*len(tasks))
	for _, t := range tasks {
		v, err := json.Marshal(taskValue{In: t.In, Out: t.Out, Seen: t.Seen.UnixMilli()})
		if err != nil {
			return fmt.Errorf("storage/redis: see tasks: %w", err)
		}
		args = append(args, t.Name, v)
	}
	key := s.tasksKey()
	_, err := s.c.Pipelined(ctx, func(p goredis.Pipeliner) error {
		p.HSet(ctx, key, args...)
		p.PExpire(ctx, key, TasksTTL)
		return nil
	})
	if err != nil {
		return translate("see tasks", key, err)
	}
	return nil
}

// Tasks implements storage.Tasks: one HGETALL.
func (s *Store) Tasks(ctx context.Context) ([]storage.TaskInfo, error) {
	key := s.tasksKey()
	m, err := s.c.HGetAll(ctx, key).Result()
	if err != nil {
		return nil, translate("tasks", key, err)
	}
	out := make([]storage.TaskInfo, 0, len(m))
	for name, raw := range m {
		var v taskValue
		if err := json.Unmarshal([]byte(raw), &v); err != nil {
			return nil, fmt.Errorf("storage/redis: tasks: field %q of %s: %w: %w", name, key, err, storage.ErrCorrupt)
		}
		out = append(out, storage.TaskInfo{Name: name, In: v.In, Out: v.Out, Seen: time.UnixMilli(v.Seen)})
	}
	slices.SortFunc(out, func(a, b storage.TaskInfo) int { return cmp.Compare(a.Name, b.Name) })
	return out, nil
}

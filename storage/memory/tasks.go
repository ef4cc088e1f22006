package memory

import (
	"cmp"
	"context"
	"fmt"
	"maps"
	"slices"

	"github.com/mageflow-go/mageflow/storage"
)

var _ storage.Tasks = (*Store)(nil)

// SeeTasks implements storage.Tasks.
func (s *Store) SeeTasks(ctx context.Context, tasks []storage.TaskInfo) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("storage/memory: see tasks: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.tasks == nil {
		s.tasks = make(map[string]storage.TaskInfo)
	}
	for _, t := range tasks {
		s.tasks[t.Name] = t // the latest record wins, as on Redis
	}
	return nil
}

// Tasks implements storage.Tasks.
func (s *Store) Tasks(ctx context.Context) ([]storage.TaskInfo, error) {
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("storage/memory: tasks: %w", err)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.SortedFunc(maps.Values(s.tasks), func(a, b storage.TaskInfo) int { return cmp.Compare(a.Name, b.Name) }), nil
}

package storagetest

import (
	"slices"
	"testing"
	"time"

	"github.com/mageflow-go/mageflow/storage"
)

// tasksCases check storage.Tasks on stores that implement it.
func tasksCases() []testCase {
	return []testCase{
		{
			Name: "TasksListsWhatWorkersRegistered",
			Rule: "A store that implements Tasks lists every task SeeTasks recorded, by name, once each, with its types and the time of the latest SeeTasks that named it.",
			Test: testTasks,
		},
	}
}

func testTasks(t *testing.T, e *env) {
	x, ok := e.s.(storage.Tasks)
	if !ok {
		t.Skip("the store does not implement storage.Tasks")
	}
	got, err := x.Tasks(e.ctx)
	if err != nil || len(got) != 0 {
		t.Fatalf("Tasks of a new store = %v, %v; want none", got, err)
	}
	first := time.UnixMilli(time.Now().UnixMilli()).Add(-time.Hour)
	later := first.Add(time.Minute)
	if err := x.SeeTasks(e.ctx, []storage.TaskInfo{
		{Name: "resize", In: "string", Out: "[]uint8", Seen: first},
		{Name: "charge", In: "main.Order", Out: "main.Receipt", Seen: first},
	}); err != nil {
		t.Fatal(err)
	}
	if err := x.SeeTasks(e.ctx, []storage.TaskInfo{{Name: "resize", In: "string", Out: "[]uint8", Seen: later}}); err != nil {
		t.Fatal(err)
	}
	if err := x.SeeTasks(e.ctx, nil); err != nil {
		t.Fatalf("SeeTasks of no task: %v", err)
	}
	got, err = x.Tasks(e.ctx)
	if err != nil {
		t.Fatal(err)
	}
	want := []storage.TaskInfo{
		{Name: "charge", In: "main.Order", Out: "main.Receipt", Seen: first},
		{Name: "resize", In: "string", Out: "[]uint8", Seen: later},
	}
	if !slices.EqualFunc(got, want, func(a, b storage.TaskInfo) bool {
		return a.Name == b.Name && a.In == b.In && a.Out == b.Out && a.Seen.Equal(b.Seen)
	}) {
		t.Fatalf("Tasks = %+v; want %+v", got, want)
	}
}

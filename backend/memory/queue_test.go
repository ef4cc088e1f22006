package memory

import "testing"

func TestQueueIsFIFOAcrossCompaction(t *testing.T) {
	t.Parallel()
	var q queue
	runs := make([]*run, 5000)
	for i := range runs {
		runs[i] = &run{attempt: i}
	}
	next := 0
	for i, r := range runs {
		q.push(r)
		if i%3 == 0 { // pop more slowly than push, so popped slots pile up
			if got := q.pop(); got != runs[next] {
				t.Fatalf("pop = run %d, want %d", got.attempt, next)
			}
			next++
		}
	}
	for q.len() > 0 {
		if got := q.pop(); got != runs[next] {
			t.Fatalf("pop = run %d, want %d", got.attempt, next)
		}
		next++
	}
	if next != len(runs) {
		t.Fatalf("popped %d runs, want %d", next, len(runs))
	}
}

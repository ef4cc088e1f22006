package storagetest

import (
	"testing"
	"time"

	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
)

// notifyDeadline bounds the wait for an Ended channel to close.
const notifyDeadline = 5 * time.Second

// notifierCases check storage.Notifier on stores that implement it.
func notifierCases() []testCase {
	return []testCase{
		{
			Name: "NotifierEnded",
			Rule: "A store that implements Notifier closes Ended(id) once record id is terminal, and at once for a terminal or missing record.",
			Test: testNotifierEnded,
		},
	}
}

func testNotifierEnded(t *testing.T, e *env) {
	n, ok := e.s.(storage.Notifier)
	if !ok {
		t.Skip("store does not implement storage.Notifier")
	}
	closed := func(ch <-chan struct{}) bool {
		select {
		case <-ch:
			return true
		default:
			return false
		}
	}
	g := e.graph(chain(task(taskInc), task(taskInc)))
	ds := e.start(g, `1`)
	ended := n.Ended(g.root)
	if closed(ended) {
		t.Fatalf("Ended(root) closed while the chain runs")
	}
	e.drain(ds)
	select {
	case <-ended:
	case <-time.After(notifyDeadline):
		t.Fatalf("Ended(root) still open %v after the chain ended", notifyDeadline)
	}
	if !closed(n.Ended(g.root)) {
		t.Errorf("Ended of a done record is not closed at once")
	}
	if !closed(n.Ended(sig.ChildID(g.root, 0))) {
		t.Errorf("Ended of a done step is not closed at once")
	}
	if !closed(n.Ended(sig.NewRootID(time.Now()))) {
		t.Errorf("Ended of a missing record is not closed at once")
	}
}

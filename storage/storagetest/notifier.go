package storagetest

import (
	"context"
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
			Rule: "A store that implements Notifier closes Ended(ctx, id) once record id is terminal, promptly for a terminal or missing record, and when ctx ends; not before.",
			Test: testNotifierEnded,
		},
	}
}

func testNotifierEnded(t *testing.T, e *env) {
	n, ok := e.s.(storage.Notifier)
	if !ok {
		t.Skip("store does not implement storage.Notifier")
	}
	closes := func(what string, ch <-chan struct{}) {
		t.Helper()
		select {
		case <-ch:
		case <-time.After(notifyDeadline):
			t.Fatalf("Ended(%s) still open after %v", what, notifyDeadline)
		}
	}
	open := func(what string, ch <-chan struct{}) {
		t.Helper()
		select {
		case <-ch:
			t.Fatalf("Ended(%s) closed too early", what)
		case <-time.After(50 * time.Millisecond):
		}
	}
	g := e.graph(chain(task(taskInc), task(taskInc)))
	ds := e.start(g, `1`)
	ended := n.Ended(e.ctx, g.root)
	open("root of a running chain", ended)
	e.drain(ds)
	closes("root after the chain ended", ended)
	closes("a done root", n.Ended(e.ctx, g.root))
	closes("a done step", n.Ended(e.ctx, sig.ChildID(g.root, 0)))
	closes("a missing record", n.Ended(e.ctx, sig.NewRootID(time.Now())))

	h := e.graph(task(taskInc))
	e.start(h, `1`)
	ctx, cancel := context.WithCancel(e.ctx)
	waiting := n.Ended(ctx, h.root)
	open("a pending task", waiting)
	cancel()
	closes("a pending task after its context ended", waiting)
}

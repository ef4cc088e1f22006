package flowtest

import (
	"context"

	"github.com/mageflow-go/mageflow/backend/memory"
	"github.com/mageflow-go/mageflow/internal/graph"
	"github.com/mageflow-go/mageflow/task"
)

// Stub makes e run fn wherever a flow runs tk (any task of tk's name): the
// flow, its records and its dispatches are the same, only the function
// differs. tk is registered if it was not. A later Stub of the same name
// replaces this one.
func Stub[In, Out any](e *Env, tk task.Task[In, Out], fn func(ctx context.Context, in In) (Out, error)) {
	e.t.Helper()
	repl := task.New(tk.Name(), fn)
	if err := graph.TaskDefOf(repl.TaskDef()).Err; err != nil {
		e.t.Fatalf("flowtest: stub %q: %v", tk.Name(), err)
		return
	}
	e.Register(tk)
	e.mu.Lock()
	defer e.mu.Unlock()
	e.stubs[tk.Name()] = graph.TaskDefOf(repl.TaskDef()).Invoke
}

// FailOnAttempt makes attempt n (from 1) of every run of tk fail with err
// instead of running it; a nil err means an error saying the failure was
// injected. The failure is retried like any other while attempts remain,
// unless err is marked with task.NonRetryable.
func (e *Env) FailOnAttempt(tk Named, n int, err error) {
	e.t.Helper()
	if n < 1 {
		e.t.Fatalf("flowtest: FailOnAttempt %q: attempt %d; attempts count from 1", tk.Name(), n)
		return
	}
	if err == nil {
		err = injected(tk.Name(), n)
	}
	e.mu.Lock()
	defer e.mu.Unlock()
	if e.fails[tk.Name()] == nil {
		e.fails[tk.Name()] = make(map[int]error)
	}
	e.fails[tk.Name()][n] = err
}

// DeliverTwice makes the next times dispatches of tk (once when times is
// below 1) be delivered twice, concurrently, as a queue that publishes
// twice would. The task may run twice; the flow must not change.
func (e *Env) DeliverTwice(tk Named, times int) {
	e.Backend.Inject(memory.Fault{Task: tk.Name(), Kind: memory.DuplicateDelivery, Times: times})
}

// CrashAfterComplete makes the next times runs of tk (once when times is
// below 1) that dispatch what follows them lose those dispatches, as when
// a worker dies after the task's result was stored and before the next
// tasks were sent; the backend then delivers the run again, and the flow
// must go on as if nothing happened.
func (e *Env) CrashAfterComplete(tk Named, times int) {
	e.Backend.Inject(memory.Fault{Task: tk.Name(), Kind: memory.CrashBeforeDispatch, Times: times})
}

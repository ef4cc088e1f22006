package flowsuite

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/mageflow-go/mageflow"
	"github.com/mageflow-go/mageflow/flow"
	"github.com/mageflow-go/mageflow/middleware"
	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
	"github.com/mageflow-go/mageflow/task"
)

// mwKey is the context key under which a test middleware passes its name
// on to the task.
type mwKey string

// tracer is a middleware of the tests: it notes each execution's and
// start's order and what it saw, passes a context value on, carries a
// pair to what the execution causes, and hears of ends.
type tracer struct {
	name string
	mu   *sync.Mutex // shared by the tracers of a test, with log
	log  *[]string   // in call order
	seen []middleware.Execution
	errs []error
	ends []middleware.End
	strt []middleware.Start
	// panicOn panics in Execute for that task; refuse returns that
	// error without running it.
	panicOn, refuseOn string
}

func (m *tracer) note(s string) {
	m.mu.Lock()
	defer m.mu.Unlock()
	*m.log = append(*m.log, s)
}

func (m *tracer) Execute(ctx context.Context, x *middleware.Execution, next func(context.Context) error) error {
	m.note(m.name + ">" + x.Task)
	switch x.Task {
	case m.panicOn:
		panic("middleware " + m.name + " broke")
	case m.refuseOn:
		return task.NonRetryable(errors.New("refused by middleware " + m.name))
	}
	x.Carry("trace-"+m.name, x.Record)
	err := next(context.WithValue(ctx, mwKey(m.name), m.name))
	m.mu.Lock()
	m.seen = append(m.seen, *x)
	m.errs = append(m.errs, err)
	m.mu.Unlock()
	m.note("<" + m.name + x.Task)
	return err
}

func (m *tracer) Start(ctx context.Context, s *middleware.Start, next func(context.Context) error) error {
	s.Carry("trace-"+m.name, "start")
	m.mu.Lock()
	m.strt = append(m.strt, *s)
	m.mu.Unlock()
	if v, ok := ctx.Value(mwKey(m.name)).(string); ok {
		// started inside a task this middleware wrapped: say so
		m.mu.Lock()
		m.strt[len(m.strt)-1].Name += " inside " + v
		m.mu.Unlock()
	}
	return next(ctx)
}

func (m *tracer) Ended(ctx context.Context, e middleware.End) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.ends = append(m.ends, e)
}

// executions returns what m saw of task name's executions.
func (m *tracer) executions(name string) (xs []middleware.Execution, errs []error) {
	m.mu.Lock()
	defer m.mu.Unlock()
	for i, x := range m.seen {
		if x.Task == name {
			xs, errs = append(xs, x), append(errs, m.errs[i])
		}
	}
	return xs, errs
}

// Middlewares wrap every execution in the order they were installed, the
// first outermost; the task runs with the context they pass; each sees
// the task, its record, root, parent, attempt, and the outcome (the
// result, or the attempt's error), attempt after attempt.
func testMiddlewareWrapsEveryExecutionInOrder(t *testing.T, h Harness) {
	t.Parallel()
	var log []string
	var mu sync.Mutex
	a, b := &tracer{name: "a", log: &log, mu: &mu}, &tracer{name: "b", log: &log, mu: &mu}
	var tries atomic.Int32
	flaky := task.New("flaky", func(ctx context.Context, n int) (int, error) {
		if ctx.Value(mwKey("a")) != "a" || ctx.Value(mwKey("b")) != "b" {
			return 0, task.NonRetryable(errors.New("the task's context lacks the middlewares' values"))
		}
		if tries.Add(1) == 1 {
			return 0, errors.New("first attempt fails")
		}
		return n * 10, nil
	}, task.WithRetries(2))
	e := h.setupWith(t, []mageflow.Option{mageflow.WithMiddleware(a), mageflow.WithMiddleware(b)}, flaky, double)
	ctx := testCtx(t)
	run, err := flow.Start(ctx, e.Client, flow.Then(double, flaky), 1)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := run.Wait(ctx); err != nil || out != 20 {
		t.Fatalf("Wait = %d, %v; want 20", out, err)
	}
	a.mu.Lock()
	got := strings.Join(log, " ")
	a.mu.Unlock()
	if want := "a>double b>double <bdouble <adouble a>flaky b>flaky <bflaky <aflaky a>flaky b>flaky <bflaky <aflaky"; got != want {
		t.Errorf("order of the middlewares:\n%s\nwant\n%s", got, want)
	}
	for _, m := range []*tracer{a, b} {
		xs, errs := m.executions("flaky")
		if len(xs) != 2 {
			t.Fatalf("middleware %s saw %d executions of flaky, want 2", m.name, len(xs))
		}
		step := sig.ChildID(run.ID(), 1)
		for i, x := range xs {
			if x.Record != step || x.Root != run.ID() || x.Parent != run.ID() || x.Attempt != i+1 || x.MaxAttempts != 3 || x.RunID == "" {
				t.Errorf("middleware %s, attempt %d: %+v; want record %s of root %s, parent the chain, attempt %d of 3, a run id", m.name, i+1, x, step, run.ID(), i+1)
			}
		}
		if errs[0] == nil || !strings.Contains(errs[0].Error(), "first attempt fails") || errs[1] != nil || string(xs[1].Result) != "20" {
			t.Errorf("middleware %s saw outcomes %v, result %s; want the first attempt's error, then 20", m.name, errs, xs[1].Result)
		}
	}
}

// A panic in a middleware fails the attempt as a panic in the task does;
// a middleware that returns an error without running the task fails the
// attempt with it; the worker goes on.
func testMiddlewarePanicsAndRefusals(t *testing.T, h Harness) {
	t.Parallel()
	var log []string
	var ran atomic.Int32
	fragile := task.New("fragile", func(ctx context.Context, n int) (int, error) { ran.Add(1); return n, nil })
	guarded := task.New("guarded", func(ctx context.Context, n int) (int, error) { ran.Add(1); return n, nil })
	m := &tracer{name: "m", log: &log, mu: new(sync.Mutex), panicOn: "fragile", refuseOn: "guarded"}
	e := h.setupWith(t, []mageflow.Option{mageflow.WithMiddleware(m)}, fragile, guarded, double)
	ctx := testCtx(t)
	run, err := flow.Start(ctx, e.Client, fragile, 1)
	if err != nil {
		t.Fatal(err)
	}
	_, err = run.Wait(ctx)
	var fe *flow.FailedError
	if !errors.As(err, &fe) || fe.Info.Kind != "panic" || !strings.Contains(fe.Info.Message, "middleware m broke") || !strings.Contains(fe.Info.Stack, "flowsuite/middleware.go") {
		t.Fatalf("a middleware that panics: %v (%+v), want a panic failure with its stack", err, fe)
	}
	refused, err := flow.Start(ctx, e.Client, guarded, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := refused.Wait(ctx); !errors.As(err, &fe) || !strings.Contains(fe.Info.Message, "refused by middleware m") {
		t.Fatalf("a middleware that refuses: %v, want its error", err)
	}
	if n := ran.Load(); n != 0 {
		t.Errorf("the tasks ran %d times behind a middleware that panics or refuses", n)
	}
	ok, err := flow.Start(ctx, e.Client, double, 2)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := ok.Wait(ctx); err != nil || out != 4 {
		t.Fatalf("after the middleware's panic: %d, %v", out, err)
	}
}

// What a start carries (Start.Carry) is stored with the flow and reaches
// its first dispatch; what an execution carries (Execution.Carry)
// reaches the dispatches it causes: the next step. A flow started inside
// a task is started with the task's context (a trace joins the task's),
// and its Start names the task. Ended hears of each flow's end once.
func testMiddlewareCarriesAndHearsEnds(t *testing.T, h Harness) {
	t.Parallel()
	var log []string
	m := &tracer{name: "m", log: &log, mu: new(sync.Mutex)}
	var inner atomic.Value // the id of the flow started inside a task
	var e Env
	starter := task.New("starter", func(ctx context.Context, n int) (int, error) {
		r, err := flow.Start(ctx, e.Client, double, n)
		if err != nil {
			return 0, err
		}
		inner.Store(r.ID())
		return r.Wait(ctx)
	})
	boom := task.New("boom", func(ctx context.Context, n int) (int, error) { return 0, task.NonRetryable(errors.New("boom")) })
	e = h.setupWith(t, []mageflow.Option{mageflow.WithMiddleware(m)}, starter, double, boom)
	ctx := testCtx(t)
	run, err := flow.Start(ctx, e.Client, flow.Named("carried", flow.Then(starter, double)), 3, flow.WithMetadata(map[string]string{"k": "v"}))
	if err != nil {
		t.Fatal(err)
	}
	if out, err := run.Wait(ctx); err != nil || out != 12 {
		t.Fatalf("Wait = %d, %v; want 12", out, err)
	}
	failed, err := flow.Start(ctx, e.Client, boom, 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := failed.Wait(ctx); err == nil {
		t.Fatal("boom did not fail")
	}
	root, err := e.Store.Get(ctx, run.ID())
	if err != nil || root.Metadata["trace-m"] != "start" || root.Metadata["k"] != "v" {
		t.Errorf("the flow's stored metadata: %v (%v); want what the start carried, and its own", root.Metadata, err)
	}
	step0, step1 := sig.ChildID(run.ID(), 0), sig.ChildID(run.ID(), 1)
	check := func(task, record, key, want string) {
		t.Helper()
		xs, _ := m.executions(task)
		for _, x := range xs {
			if x.Record == record {
				if x.Metadata[key] != want || x.Metadata["k"] != "v" && x.Root == run.ID() {
					t.Errorf("execution of %s (%s): metadata %v; want %s=%s", task, record, x.Metadata, key, want)
				}
				return
			}
		}
		t.Errorf("no execution of %s as %s seen", task, record)
	}
	check("starter", step0, "trace-m", "start") // the start's
	check("double", step1, "trace-m", step0)    // the step before's
	id, _ := inner.Load().(string)
	check("double", id, "trace-m", "start") // its own start's
	m.mu.Lock()
	starts := fmt.Sprint(m.strt)
	var innerStart *middleware.Start
	for i := range m.strt {
		if m.strt[i].Root == id {
			innerStart = &m.strt[i]
		}
	}
	ends := map[string][]sig.Status{}
	for _, en := range m.ends {
		ends[en.Root] = append(ends[en.Root], en.Status)
	}
	m.mu.Unlock()
	if innerStart == nil || innerStart.Parent != step0 || innerStart.Name != "double inside m" || innerStart.Kind != sig.KindTask {
		t.Errorf("the start of the flow inside the task: %+v (starts %s); want its parent %s and the task's context", innerStart, starts, step0)
	}
	Eventually(t, "the ends heard", func() bool {
		m.mu.Lock()
		defer m.mu.Unlock()
		return len(m.ends) >= 3
	})
	m.mu.Lock()
	ends = map[string][]sig.Status{}
	for _, en := range m.ends {
		ends[en.Root] = append(ends[en.Root], en.Status)
		if en.Root == run.ID() && (en.Name != "carried" || en.Metadata["k"] != "v" || en.Ended.Before(en.Created)) {
			t.Errorf("the end of %s: %+v", run.ID(), en)
		}
	}
	m.mu.Unlock()
	if fmt.Sprint(ends[run.ID()]) != "[done]" || fmt.Sprint(ends[id]) != "[done]" || fmt.Sprint(ends[failed.ID()]) != "[failed]" {
		t.Errorf("ends heard: %v; want each flow's once, with its status", ends)
	}
}

// badStarter runs tasks as they are, and breaks starts as mode says.
type badStarter struct{ mode string }

func (badStarter) Execute(ctx context.Context, x *middleware.Execution, next func(context.Context) error) error {
	return next(ctx)
}

func (s badStarter) Start(ctx context.Context, st *middleware.Start, next func(context.Context) error) error {
	switch s.mode {
	case "skip":
		return nil
	case "twice":
		_ = next(ctx)
		return next(ctx)
	case "panic":
		panic("starter broke")
	}
	_ = next(ctx) // swallow
	return nil
}

// A starter cannot make a start succeed that did not: one that does not
// run it, panics, or hides its error makes Start fail; one that runs it
// twice is refused the second time.
func testStartersCannotHideAFailedStart(t *testing.T, h Harness) {
	t.Parallel()
	ctx := testCtx(t)
	for _, mode := range []string{"skip", "twice", "panic", "swallow"} {
		opts := []mageflow.Option{mageflow.WithMiddleware(badStarter{mode})}
		e := h.setupWith(t, opts, double)
		if mode == "swallow" {
			// a store that refuses to store the flow: the starter hides it
			e = h.Faulty(t, opts, Faults{Store: func(s storage.Store) storage.Store { return refusingCreate{s} }}, double)
		}
		if _, err := flow.Start(ctx, e.Client, double, 1); err == nil {
			t.Errorf("a starter that %ss: Start succeeded", mode)
		}
	}
}

// refusingCreate is a store that refuses to store graphs.
type refusingCreate struct{ storage.Store }

func (refusingCreate) CreateGraph(context.Context, storage.Graph) (storage.Effects, error) {
	return storage.Effects{}, fmt.Errorf("flowsuite: this store stores nothing: %w", storage.ErrCorrupt) // an answer, not retried
}

package otelmageflow_test

import (
	"context"
	"errors"
	"sync/atomic"
	"testing"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"
	"go.opentelemetry.io/otel/trace"

	"github.com/mageflow-go/mageflow"
	membackend "github.com/mageflow-go/mageflow/backend/memory"
	"github.com/mageflow-go/mageflow/flow"
	"github.com/mageflow-go/mageflow/flowsuite"
	otelmageflow "github.com/mageflow-go/mageflow/otel"
	"github.com/mageflow-go/mageflow/sig"
	memstore "github.com/mageflow-go/mageflow/storage/memory"
	"github.com/mageflow-go/mageflow/task"
)

// env is a client on the memory backend and store with the middleware,
// its spans recorded and its metrics read by hand.
type env struct {
	c      *mageflow.Client
	spans  *tracetest.SpanRecorder
	reader *sdkmetric.ManualReader
}

func newEnv(t *testing.T, tasks ...task.Registrable) env {
	t.Helper()
	spans := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(spans))
	reader := sdkmetric.NewManualReader()
	mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(reader))
	m := otelmageflow.New(otelmageflow.WithTracerProvider(tp), otelmageflow.WithMeterProvider(mp))
	e := flowsuite.NewEnv(t, membackend.New(), flowsuite.Store{Store: memstore.New()}, []mageflow.Option{mageflow.WithMiddleware(m)}, tasks...)
	return env{c: e.Client, spans: spans, reader: reader}
}

var double = task.New("double", func(ctx context.Context, n int) (int, error) { return 2 * n, nil })

func attr(s sdktrace.ReadOnlySpan, k attribute.Key) string {
	for _, a := range s.Attributes() {
		if a.Key == k {
			return a.Value.String()
		}
	}
	return ""
}

// spansOf returns the ended spans of flow root: its start and its tasks'.
func spansOf(e env, root string) (start sdktrace.ReadOnlySpan, tasks []sdktrace.ReadOnlySpan) {
	for _, s := range e.spans.Ended() {
		if attr(s, otelmageflow.AttrFlowID) != root {
			continue
		}
		switch attr(s, "messaging.operation.name") {
		case otelmageflow.OpStart:
			start = s
		case otelmageflow.OpProcess:
			tasks = append(tasks, s)
		}
	}
	return start, tasks
}

// fanOuts returns the ended fan-out spans of flow root.
func fanOuts(e env, root string) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range e.spans.Ended() {
		if attr(s, otelmageflow.AttrFlowID) == root && attr(s, "messaging.operation.name") == otelmageflow.OpFanOut {
			out = append(out, s)
		}
	}
	return out
}

// byRecord returns the task spans of record id, in attempt order.
func byRecord(tasks []sdktrace.ReadOnlySpan, id string) []sdktrace.ReadOnlySpan {
	var out []sdktrace.ReadOnlySpan
	for _, s := range tasks {
		if attr(s, otelmageflow.AttrRecord) == id {
			out = append(out, s)
		}
	}
	return out
}

func wait[Out any](t *testing.T, r *flow.Run[Out]) (Out, error) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	return r.Wait(ctx)
}

// A chain is one trace: the start, then each step a child of the step
// before it, with the task, record, flow, attempt and outcome.
func TestAChainIsOneTrace(t *testing.T) {
	e := newEnv(t, double)
	run, err := flow.Start(context.Background(), e.c, flow.Named("quadruple", flow.Then(double, double)), 1)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := wait(t, run); err != nil || out != 4 {
		t.Fatalf("Wait = %d, %v", out, err)
	}
	start, tasks := spansOf(e, run.ID())
	if start == nil || len(tasks) != 2 {
		t.Fatalf("spans: start %v, %d task spans; want a start and 2", start, len(tasks))
	}
	s0, s1 := byRecord(tasks, sig.ChildID(run.ID(), 0)), byRecord(tasks, sig.ChildID(run.ID(), 1))
	if len(s0) != 1 || len(s1) != 1 {
		t.Fatalf("spans per step: %d, %d", len(s0), len(s1))
	}
	trace := start.SpanContext().TraceID()
	for _, s := range tasks {
		if s.SpanContext().TraceID() != trace {
			t.Errorf("span %s of %s in trace %s, want the start's %s", s.Name(), attr(s, otelmageflow.AttrRecord), s.SpanContext().TraceID(), trace)
		}
		if attr(s, otelmageflow.AttrTask) != "double" || attr(s, otelmageflow.AttrFlowName) != "quadruple" || attr(s, otelmageflow.AttrAttempt) != "1" || attr(s, otelmageflow.AttrOutcome) != otelmageflow.OutcomeDone {
			t.Errorf("attributes of %s: %v", attr(s, otelmageflow.AttrRecord), s.Attributes())
		}
	}
	if s0[0].Parent().SpanID() != start.SpanContext().SpanID() {
		t.Errorf("the first step's parent is %s, want the start %s", s0[0].Parent().SpanID(), start.SpanContext().SpanID())
	}
	if s1[0].Parent().SpanID() != s0[0].SpanContext().SpanID() {
		t.Errorf("the second step's parent is %s, want the first step %s", s1[0].Parent().SpanID(), s0[0].SpanContext().SpanID())
	}

	// a second start of a flow of the caller's id starts nothing: it is
	// not counted
	for range 2 {
		r, err := flow.Start(context.Background(), e.c, flow.Named("once", flow.Then(double, double)), 1, flow.WithID("order-42"))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := wait(t, r); err != nil {
			t.Fatal(err)
		}
	}
	var rm metricdata.ResourceMetrics
	if err := e.reader.Collect(context.Background(), &rm); err != nil {
		t.Fatal(err)
	}
	if n := sums(rm)["mageflow.flow.started name=once"]; n != 1 {
		t.Errorf("flows started with one id, twice: counted %d, want 1", n)
	}
}

// A swarm's items are children of its fan-out span, a child of the
// start; a failed item's span holds
// its error; a retried task has a span per attempt, and the metrics count
// each outcome, the retry, the flows started and ended.
func TestASwarmWithAFailureAndARetry(t *testing.T) {
	boom := task.New("boom", func(ctx context.Context, n int) (int, error) {
		return 0, task.NonRetryable(errors.New("card declined"))
	})
	var tries atomic.Int32
	flaky := task.New("flaky", func(ctx context.Context, n int) (int, error) {
		if tries.Add(1) == 1 {
			return 0, errors.New("first attempt fails")
		}
		return n, nil
	}, task.WithRetries(1), task.WithBackoff(time.Millisecond, time.Millisecond))
	e := newEnv(t, double, boom, flaky)
	run, err := flow.Start(context.Background(), e.c, flow.Named("batch", flow.Swarm[int, int](double, boom, flaky)), 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := wait(t, run); err != nil {
		t.Fatalf("Wait: %v (the swarm tolerates failures)", err)
	}
	start, tasks := spansOf(e, run.ID())
	if start == nil || len(tasks) != 4 {
		t.Fatalf("spans: start %v, %d task spans; want a start and 4 (3 items, one retried)", start, len(tasks))
	}
	fans := fanOuts(e, run.ID())
	if len(fans) != 1 || fans[0].Parent().SpanID() != start.SpanContext().SpanID() || attr(fans[0], otelmageflow.AttrSwarm) != "batch" || fans[0].Name() != "fan_out batch" {
		t.Fatalf("fan-out spans: %v; want one, named fan_out batch, a child of the start", fans)
	}
	for _, s := range tasks {
		if s.Parent().SpanID() != fans[0].SpanContext().SpanID() || s.SpanContext().TraceID() != start.SpanContext().TraceID() {
			t.Errorf("item %s: parent %s, want the fan-out %s", attr(s, otelmageflow.AttrRecord), s.Parent().SpanID(), fans[0].SpanContext().SpanID())
		}
	}
	failed := byRecord(tasks, sig.ChildID(run.ID(), 1))
	if len(failed) != 1 || failed[0].Status().Code != codes.Error || attr(failed[0], otelmageflow.AttrOutcome) != otelmageflow.OutcomeFailed || len(failed[0].Events()) == 0 {
		t.Errorf("the failed item's span: %+v", failed)
	}
	retried := byRecord(tasks, sig.ChildID(run.ID(), 2))
	if len(retried) != 2 || attr(retried[0], otelmageflow.AttrOutcome) != otelmageflow.OutcomeRetry || attr(retried[1], otelmageflow.AttrOutcome) != otelmageflow.OutcomeDone || attr(retried[1], otelmageflow.AttrAttempt) != "2" {
		t.Errorf("the retried item's spans: %d", len(retried))
	}

	var rm metricdata.ResourceMetrics
	counts := map[string]int64{}
	flowsuite.Eventually(t, "the flow's end counted", func() bool {
		if err := e.reader.Collect(context.Background(), &rm); err != nil {
			t.Fatal(err)
		}
		counts = sums(rm)
		return counts["mageflow.flow.ended name=batch status=done"] == 1
	})
	// a failure's error.type is the type of the task's error
	boomType := "error.type=*errors.errorString"
	for k, want := range map[string]int64{
		"messaging.client.consumed.messages task=double outcome=done":                                1,
		"messaging.client.consumed.messages task=boom outcome=failed " + boomType:                    1,
		"messaging.client.consumed.messages task=flaky outcome=retry error.type=*errors.errorString": 1,
		"messaging.client.consumed.messages task=flaky outcome=done":                                 1,
		"mageflow.task.retries task=flaky":                                                           1,
		"mageflow.task.in_flight task=double":                                                        0,
		"mageflow.swarm.items_in_flight swarm.name=batch":                                            0,
		"mageflow.flow.started name=batch":                                                           1,
		"messaging.process.duration task=boom outcome=failed " + boomType:                            1, // observations
		"mageflow.task.queue_latency task=double":                                                    1,
	} {
		if n, ok := counts[k]; !ok || n != want {
			t.Errorf("%s = %d (%v), want %d (all: %v)", k, n, ok, want, counts)
		}
	}
}

// A flow started inside a task joins the task's trace: its start is a
// child of the task's span.
func TestAFlowStartedInATaskJoinsItsTrace(t *testing.T) {
	var c *mageflow.Client
	var inner atomic.Value
	starter := task.New("starter", func(ctx context.Context, n int) (int, error) {
		r, err := flow.Start(ctx, c, double, n)
		if err != nil {
			return 0, err
		}
		inner.Store(r.ID())
		return r.Wait(ctx)
	})
	e := newEnv(t, double, starter)
	c = e.c
	run, err := flow.Start(context.Background(), e.c, starter, 3)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := wait(t, run); err != nil || out != 6 {
		t.Fatalf("Wait = %d, %v", out, err)
	}
	outerStart, outer := spansOf(e, run.ID())
	id, _ := inner.Load().(string)
	innerStart, innerTasks := spansOf(e, id)
	if outerStart == nil || len(outer) != 1 || innerStart == nil || len(innerTasks) != 1 {
		t.Fatalf("spans: outer %v %d, inner %v %d", outerStart, len(outer), innerStart, len(innerTasks))
	}
	if innerStart.Parent().SpanID() != outer[0].SpanContext().SpanID() || innerStart.SpanContext().TraceID() != outerStart.SpanContext().TraceID() {
		t.Errorf("the inner start's parent %s (trace %s), want the starter's span %s (trace %s)", innerStart.Parent().SpanID(), innerStart.SpanContext().TraceID(), outer[0].SpanContext().SpanID(), outerStart.SpanContext().TraceID())
	}
	if innerTasks[0].Parent().SpanID() != innerStart.SpanContext().SpanID() {
		t.Errorf("the inner task's parent %s, want the inner start %s", innerTasks[0].Parent().SpanID(), innerStart.SpanContext().SpanID())
	}
	if attr(innerStart, otelmageflow.AttrParent) != run.ID() {
		t.Errorf("the inner start's parent record: %q, want %s", attr(innerStart, otelmageflow.AttrParent), run.ID())
	}
	if innerStart.SpanKind() != trace.SpanKindProducer || innerTasks[0].SpanKind() != trace.SpanKindConsumer {
		t.Errorf("span kinds: start %v, task %v; want producer and consumer", innerStart.SpanKind(), innerTasks[0].SpanKind())
	}
}

// A swarm after a chain's step fans out from that step's span, and every
// item is a child of the swarm's span, those a concurrency limit starts
// later (each linked to the sibling whose end started it) included.
func TestASwarmInAChainParentsItsItems(t *testing.T) {
	sum := task.New("sum", func(ctx context.Context, xs []int) (int, error) {
		s := 0
		for _, x := range xs {
			s += x
		}
		return s, nil
	})
	e := newEnv(t, double, sum)
	items := flow.Named("items", flow.Swarm(double, double, double).WithConfig(flow.SwarmConfig{MaxConcurrency: 1}))
	run, err := flow.Start(context.Background(), e.c, flow.Then(flow.Then(double, items), sum), 1)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := wait(t, run); err != nil || out != 12 {
		t.Fatalf("Wait = %d, %v", out, err)
	}
	_, tasks := spansOf(e, run.ID())
	step0 := byRecord(tasks, sig.ChildID(run.ID(), 0))
	fans := fanOuts(e, run.ID())
	if len(step0) != 1 || len(fans) != 1 || fans[0].Parent().SpanID() != step0[0].SpanContext().SpanID() {
		t.Fatalf("fan-outs %v, first step %v; want one fan-out, a child of the first step", fans, step0)
	}
	sw := sig.ChildID(run.ID(), 1)
	var prev sdktrace.ReadOnlySpan
	for i := range 3 {
		s := byRecord(tasks, sig.ChildID(sw, i))
		if len(s) != 1 {
			t.Fatalf("item %d: %d spans", i, len(s))
		}
		if s[0].Parent().SpanID() != fans[0].SpanContext().SpanID() || attr(s[0], otelmageflow.AttrSwarm) != "items" {
			t.Errorf("item %d: parent %s, swarm %q; want the fan-out %s, items", i, s[0].Parent().SpanID(), attr(s[0], otelmageflow.AttrSwarm), fans[0].SpanContext().SpanID())
		}
		if prev != nil && (len(s[0].Links()) != 1 || s[0].Links()[0].SpanContext.SpanID() != prev.SpanContext().SpanID()) {
			t.Errorf("item %d: links %v; want the item before it, whose end started it", i, s[0].Links())
		}
		prev = s[0]
	}
	last := byRecord(tasks, sig.ChildID(run.ID(), 2))
	if len(last) != 1 || last[0].Parent().SpanID() != prev.SpanContext().SpanID() {
		t.Errorf("the step after the swarm: %v; want a child of the last item's span", last)
	}
}

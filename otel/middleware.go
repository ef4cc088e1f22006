package otelmageflow

import (
	"context"
	"strconv"
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	"go.opentelemetry.io/otel/trace"

	"github.com/mageflow-go/mageflow/middleware"
	"github.com/mageflow-go/mageflow/task"
)

// scope names the tracer and the meter.
const scope = "github.com/mageflow-go/mageflow/otel"

// Keys of a flow's metadata the middleware writes, besides the
// propagator's ("traceparent", "tracestate").
const (
	// FlowNameKey holds the flow's name, for the attributes of its tasks'
	// spans and metrics.
	FlowNameKey = "mageflow.flow"
	// sentKey holds when the dispatch was made (Unix milliseconds), for
	// the queue latency.
	sentKey = "mageflow.sent"
)

// Attributes of the spans and metrics.
const (
	AttrTask     = attribute.Key("mageflow.task")
	AttrRecord   = attribute.Key("mageflow.record")
	AttrParent   = attribute.Key("mageflow.parent")
	AttrFlowID   = attribute.Key("mageflow.flow.id")
	AttrFlowName = attribute.Key("mageflow.flow.name")
	AttrFlowKind = attribute.Key("mageflow.flow.kind")
	AttrAttempt  = attribute.Key("mageflow.attempt")
	AttrRunID    = attribute.Key("mageflow.run.id")
	AttrOutcome  = attribute.Key("mageflow.outcome")
	AttrStatus   = attribute.Key("mageflow.status")
)

// Outcomes of an attempt (AttrOutcome).
const (
	OutcomeDone   = "done"   // the task returned its result
	OutcomeRetry  = "retry"  // it failed, and runs again
	OutcomeFailed = "failed" // it failed for good
)

// Middleware traces and measures flows; install it with
// mageflow.WithMiddleware. It is a middleware.Middleware, a
// middleware.Starter and a middleware.Ender.
type Middleware struct {
	tracer trace.Tracer
	prop   propagation.TextMapPropagator
	now    func() time.Time

	executions metric.Int64Counter
	duration   metric.Float64Histogram
	retries    metric.Int64Counter
	latency    metric.Float64Histogram
	inFlight   metric.Int64UpDownCounter
	started    metric.Int64Counter
	ended      metric.Int64Counter

	// the attribute sets of the metrics, made once per task and outcome
	byTask, byOutcome sync.Map // string (task, or task and outcome) -> metric.MeasurementOption
}

// taskAttrs returns the measurement option of task's metrics.
func (m *Middleware) taskAttrs(task string) metric.MeasurementOption {
	if o, ok := m.byTask.Load(task); ok {
		return o.(metric.MeasurementOption)
	}
	o := metric.WithAttributeSet(attribute.NewSet(AttrTask.String(task)))
	m.byTask.Store(task, o)
	return o
}

// outcomeAttrs returns the measurement option of task's metrics by
// outcome.
func (m *Middleware) outcomeAttrs(task, outcome string) metric.MeasurementOption {
	key := outcome + "\x00" + task
	if o, ok := m.byOutcome.Load(key); ok {
		return o.(metric.MeasurementOption)
	}
	o := metric.WithAttributeSet(attribute.NewSet(AttrTask.String(task), AttrOutcome.String(outcome)))
	m.byOutcome.Store(key, o)
	return o
}

var (
	_ middleware.Middleware = (*Middleware)(nil)
	_ middleware.Starter    = (*Middleware)(nil)
	_ middleware.Ender      = (*Middleware)(nil)
)

// Option configures the middleware.
type Option func(*config)

type config struct {
	tp   trace.TracerProvider
	mp   metric.MeterProvider
	prop propagation.TextMapPropagator
}

// WithTracerProvider makes the spans with tp (default: otel's global).
func WithTracerProvider(tp trace.TracerProvider) Option { return func(c *config) { c.tp = tp } }

// WithMeterProvider makes the metrics with mp (default: otel's global).
func WithMeterProvider(mp metric.MeterProvider) Option { return func(c *config) { c.mp = mp } }

// WithPropagator carries the trace context with p (default: W3C trace
// context, propagation.TraceContext).
func WithPropagator(p propagation.TextMapPropagator) Option { return func(c *config) { c.prop = p } }

// New returns the middleware.
func New(opts ...Option) *Middleware {
	c := config{tp: otel.GetTracerProvider(), mp: otel.GetMeterProvider(), prop: propagation.TraceContext{}}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	meter := c.mp.Meter(scope)
	m := &Middleware{tracer: c.tp.Tracer(scope), prop: c.prop, now: time.Now}
	var err error
	note := func(e error) {
		if e != nil && err == nil {
			err = e
		}
	}
	var e error
	m.executions, e = meter.Int64Counter("mageflow.task.executions", metric.WithDescription("Attempts of tasks, by task and outcome."), metric.WithUnit("{attempt}"))
	note(e)
	m.duration, e = meter.Float64Histogram("mageflow.task.duration", metric.WithDescription("Duration of the attempts of tasks, by task and outcome."), metric.WithUnit("s"))
	note(e)
	m.retries, e = meter.Int64Counter("mageflow.task.retries", metric.WithDescription("Attempts of tasks after their first, by task."), metric.WithUnit("{attempt}"))
	note(e)
	m.latency, e = meter.Float64Histogram("mageflow.task.queue_latency", metric.WithDescription("Time from the dispatch that caused an attempt to its start, by task."), metric.WithUnit("s"))
	note(e)
	m.inFlight, e = meter.Int64UpDownCounter("mageflow.task.in_flight", metric.WithDescription("Attempts of tasks running, by task."), metric.WithUnit("{attempt}"))
	note(e)
	m.started, e = meter.Int64Counter("mageflow.flow.started", metric.WithDescription("Flows started, by name and kind."), metric.WithUnit("{flow}"))
	note(e)
	m.ended, e = meter.Int64Counter("mageflow.flow.ended", metric.WithDescription("Flows ended, by name, kind and status."), metric.WithUnit("{flow}"))
	note(e)
	if err != nil {
		otel.Handle(err)
	}
	return m
}

// Start implements middleware.Starter: the start's span, whose context
// the flow carries.
func (m *Middleware) Start(ctx context.Context, s *middleware.Start, next func(context.Context) error) error {
	attrs := []attribute.KeyValue{AttrFlowID.String(s.Root), AttrFlowName.String(s.Name), AttrFlowKind.String(string(s.Kind))}
	if s.Parent != "" {
		attrs = append(attrs, AttrParent.String(s.Parent))
	}
	ctx, span := m.tracer.Start(ctx, "mageflow.start", trace.WithSpanKind(trace.SpanKindProducer), trace.WithAttributes(attrs...))
	defer span.End()
	carrier := propagation.MapCarrier{}
	m.prop.Inject(ctx, carrier)
	for k, v := range carrier {
		s.Carry(k, v)
	}
	s.Carry(FlowNameKey, s.Name)
	s.Send(sentKey, strconv.FormatInt(m.now().UnixMilli(), 10)) // not stored: a resumed flow's dispatch is sent later
	err := next(ctx)
	if err != nil {
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
		return err
	}
	if !s.Existed { // a start that found its flow stored started nothing
		m.started.Add(ctx, 1, metric.WithAttributes(AttrFlowName.String(s.Name), AttrFlowKind.String(string(s.Kind))))
	}
	return nil
}

// Execute implements middleware.Middleware: the attempt's span, a child
// of the span whose context its dispatch carried, and its metrics.
func (m *Middleware) Execute(ctx context.Context, x *middleware.Execution, next func(context.Context) error) error {
	begin := m.now()
	ctx = m.prop.Extract(ctx, propagation.MapCarrier(x.Metadata))
	flowName := x.Metadata[FlowNameKey]
	attrs := []attribute.KeyValue{
		AttrTask.String(x.Task), AttrRecord.String(x.Record), AttrFlowID.String(x.Root), AttrFlowName.String(flowName),
		AttrAttempt.Int(x.Attempt), AttrRunID.String(x.RunID),
	}
	if x.Parent != "" {
		attrs = append(attrs, AttrParent.String(x.Parent))
	}
	ctx, span := m.tracer.Start(ctx, "mageflow.task", trace.WithSpanKind(trace.SpanKindConsumer), trace.WithAttributes(attrs...))
	defer span.End()
	byTask := m.taskAttrs(x.Task)
	if sent, err := strconv.ParseInt(x.Metadata[sentKey], 10, 64); err == nil {
		m.latency.Record(ctx, max(0, begin.Sub(time.UnixMilli(sent)).Seconds()), byTask)
	}
	if x.Attempt > 1 {
		m.retries.Add(ctx, 1, byTask)
	}
	m.inFlight.Add(ctx, 1, byTask)
	defer m.inFlight.Add(ctx, -1, byTask)
	err := next(ctx)

	// what this attempt causes (the next step) is a child of its span
	carrier := propagation.MapCarrier{}
	m.prop.Inject(ctx, carrier)
	for k, v := range carrier {
		x.Carry(k, v)
	}
	x.Carry(sentKey, strconv.FormatInt(m.now().UnixMilli(), 10))

	outcome := OutcomeDone
	if err != nil {
		outcome = OutcomeRetry
		if task.IsNonRetryable(err) || x.Attempt >= x.MaxAttempts {
			outcome = OutcomeFailed
		}
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
	}
	span.SetAttributes(AttrOutcome.String(outcome))
	both := m.outcomeAttrs(x.Task, outcome)
	m.executions.Add(ctx, 1, both)
	m.duration.Record(ctx, m.now().Sub(begin).Seconds(), both)
	return err
}

// Ended implements middleware.Ender: the flows that ended.
func (m *Middleware) Ended(ctx context.Context, e middleware.End) {
	m.ended.Add(ctx, 1, metric.WithAttributes(AttrFlowName.String(e.Name), AttrFlowKind.String(string(e.Kind)), AttrStatus.String(string(e.Status))))
}

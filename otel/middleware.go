package otelmageflow

import (
	"sync"
	"time"

	"go.opentelemetry.io/otel"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/semconv/v1.43.0/messagingconv"
	"go.opentelemetry.io/otel/trace"

	"github.com/mageflow-go/mageflow/middleware"
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
	// swarmIDKey and swarmNameKey hold, for a swarm's items, the swarm's
	// record and name; the swarm span's context is under swarmCtxPrefix.
	swarmIDKey     = "mageflow.swarm.id"
	swarmNameKey   = "mageflow.swarm.name"
	swarmCtxPrefix = "mageflow.swarm.ctx."
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
	AttrSwarm    = attribute.Key("mageflow.swarm.name")
)

// The operations of the spans (messaging.operation.name, and the first
// word of the span's name, as the messaging conventions have it).
const (
	OpStart   = "start"   // a flow's start
	OpFanOut  = "fan_out" // a swarm starting its items
	OpProcess = "process" // an attempt of a task
)

// system is the spans' and metrics' messaging.system.
const system = "mageflow"

// Outcomes of an attempt (AttrOutcome).
const (
	OutcomeDone   = "done"   // the task returned its result
	OutcomeRetry  = "retry"  // it failed, and runs again
	OutcomeFailed = "failed" // it failed for good
)

// Middleware traces and measures flows; install it with
// mageflow.WithMiddleware. It is a middleware.Middleware, a
// middleware.Starter, a middleware.Ender and a middleware.Fanner.
type Middleware struct {
	tracer trace.Tracer
	prop   propagation.TextMapPropagator
	now    func() time.Time

	executions metric.Int64Counter
	duration   metric.Float64Histogram
	retries    metric.Int64Counter
	latency    metric.Float64Histogram
	inFlight   metric.Int64UpDownCounter
	items      metric.Int64UpDownCounter
	started    metric.Int64Counter
	ended      metric.Int64Counter

	// the attribute sets of the metrics, made once per task, outcome and
	// error type, and per swarm
	byTask, byOutcome, bySwarm sync.Map // string -> metric.MeasurementOption
}

// attrSet returns the measurement option cache holds under key, made
// of attrs() the first time.
func attrSet(cache *sync.Map, key string, attrs func() []attribute.KeyValue) metric.MeasurementOption {
	if o, ok := cache.Load(key); ok {
		return o.(metric.MeasurementOption)
	}
	o := metric.WithAttributeSet(attribute.NewSet(attrs()...))
	cache.Store(key, o)
	return o
}

// taskAttrs returns the measurement option of task's metrics.
func (m *Middleware) taskAttrs(task string) metric.MeasurementOption {
	return attrSet(&m.byTask, task, func() []attribute.KeyValue { return []attribute.KeyValue{AttrTask.String(task)} })
}

// outcomeAttrs returns the measurement option of task's metrics by
// outcome and error type (errType, "" for none), with the messaging
// conventions' attributes.
func (m *Middleware) outcomeAttrs(task, outcome, errType string) metric.MeasurementOption {
	return attrSet(&m.byOutcome, outcome+"\x00"+task+"\x00"+errType, func() []attribute.KeyValue {
		attrs := []attribute.KeyValue{
			semconv.MessagingSystemKey.String(system), semconv.MessagingOperationNameKey.String(OpProcess),
			semconv.MessagingDestinationNameKey.String(task), AttrTask.String(task), AttrOutcome.String(outcome),
		}
		if errType != "" {
			attrs = append(attrs, semconv.ErrorTypeKey.String(errType))
		}
		return attrs
	})
}

// swarmAttrs returns the measurement option of swarm's metrics.
func (m *Middleware) swarmAttrs(swarm string) metric.MeasurementOption {
	return attrSet(&m.bySwarm, swarm, func() []attribute.KeyValue { return []attribute.KeyValue{AttrSwarm.String(swarm)} })
}

var (
	_ middleware.Middleware = (*Middleware)(nil)
	_ middleware.Starter    = (*Middleware)(nil)
	_ middleware.Ender      = (*Middleware)(nil)
	_ middleware.Fanner     = (*Middleware)(nil)
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
	// the messaging conventions' names, where they have one
	consumed, e := messagingconv.NewClientConsumedMessages(meter)
	note(e)
	m.executions = consumed.Inst()
	duration, e := messagingconv.NewProcessDuration(meter)
	note(e)
	m.duration = duration.Inst()
	m.retries, e = meter.Int64Counter("mageflow.task.retries", metric.WithDescription("Attempts of tasks after their first, by task."), metric.WithUnit("{attempt}"))
	note(e)
	m.latency, e = meter.Float64Histogram("mageflow.task.queue_latency", metric.WithDescription("Time from the dispatch that caused an attempt to its start, by task."), metric.WithUnit("s"))
	note(e)
	m.inFlight, e = meter.Int64UpDownCounter("mageflow.task.in_flight", metric.WithDescription("Attempts of tasks running, by task."), metric.WithUnit("{attempt}"))
	note(e)
	m.items, e = meter.Int64UpDownCounter("mageflow.swarm.items_in_flight", metric.WithDescription("Attempts of swarms' items running, by swarm."), metric.WithUnit("{attempt}"))
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

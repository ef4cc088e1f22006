package otelmageflow

import (
	"context"
	"strconv"
	"time"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/mageflow-go/mageflow/middleware"
	"github.com/mageflow-go/mageflow/task"
)

// Execute implements middleware.Middleware: the attempt's span, and its
// metrics. The span is a child of the span whose context its dispatch
// carried (the start, the step before), or, for a swarm's item, of the
// swarm's span, linked to the span of the sibling whose end started it.
func (m *Middleware) Execute(ctx context.Context, x *middleware.Execution, next func(context.Context) error) error {
	begin := m.now()
	ctx = m.prop.Extract(ctx, propagation.MapCarrier(x.Metadata))
	flowName := x.Metadata[FlowNameKey]
	attrs := []attribute.KeyValue{
		semconv.MessagingSystemKey.String(system), semconv.MessagingOperationTypeProcess, semconv.MessagingOperationNameKey.String(OpProcess),
		semconv.MessagingDestinationNameKey.String(x.Task), semconv.MessagingMessageIDKey.String(x.RunID),
		AttrTask.String(x.Task), AttrRecord.String(x.Record), AttrFlowID.String(x.Root), AttrFlowName.String(flowName),
		AttrAttempt.Int(x.Attempt), AttrRunID.String(x.RunID),
	}
	opts := []trace.SpanStartOption{trace.WithSpanKind(trace.SpanKindConsumer)}
	swarm := ""
	if x.Parent != "" {
		attrs = append(attrs, AttrParent.String(x.Parent))
		if x.Metadata[swarmIDKey] == x.Parent {
			swarm = x.Metadata[swarmNameKey]
			attrs = append(attrs, AttrSwarm.String(swarm))
			cause := trace.SpanContextFromContext(ctx)
			if sctx := m.prop.Extract(ctx, swarmCarrier(x.Metadata)); trace.SpanContextFromContext(sctx).IsValid() {
				ctx = sctx
				if s := trace.SpanContextFromContext(sctx); cause.IsValid() && !cause.Equal(s) {
					opts = append(opts, trace.WithLinks(trace.Link{SpanContext: cause}))
				}
			}
		}
	}
	opts = append(opts, trace.WithAttributes(attrs...))
	ctx, span := m.tracer.Start(ctx, OpProcess+" "+x.Task, opts...)
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
	if swarm != "" {
		bySwarm := m.swarmAttrs(swarm)
		m.items.Add(ctx, 1, bySwarm)
		defer m.items.Add(ctx, -1, bySwarm)
	}
	err := next(ctx)

	// what this attempt causes (the next step) is a child of its span
	carrier := propagation.MapCarrier{}
	m.prop.Inject(ctx, carrier)
	for k, v := range carrier {
		x.Carry(k, v)
	}
	x.Carry(sentKey, strconv.FormatInt(m.now().UnixMilli(), 10))

	outcome, errType := OutcomeDone, ""
	if err != nil {
		outcome = OutcomeRetry
		if task.IsNonRetryable(err) || x.Attempt >= x.MaxAttempts {
			outcome = OutcomeFailed
		}
		errType = errorType(err)
		span.RecordError(err)
		span.SetStatus(codes.Error, err.Error())
		span.SetAttributes(semconv.ErrorTypeKey.String(errType))
	}
	span.SetAttributes(AttrOutcome.String(outcome))
	both := m.outcomeAttrs(x.Task, outcome, errType)
	m.executions.Add(ctx, 1, both)
	m.duration.Record(ctx, m.now().Sub(begin).Seconds(), both)
	return err
}

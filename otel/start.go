package otelmageflow

import (
	"context"
	"strconv"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/codes"
	"go.opentelemetry.io/otel/metric"
	"go.opentelemetry.io/otel/propagation"
	semconv "go.opentelemetry.io/otel/semconv/v1.43.0"
	"go.opentelemetry.io/otel/trace"

	"github.com/mageflow-go/mageflow/middleware"
)

// Start implements middleware.Starter: the start's span, whose context
// the flow carries.
func (m *Middleware) Start(ctx context.Context, s *middleware.Start, next func(context.Context) error) error {
	attrs := []attribute.KeyValue{
		semconv.MessagingSystemKey.String(system), semconv.MessagingOperationTypeSend, semconv.MessagingOperationNameKey.String(OpStart),
		semconv.MessagingDestinationNameKey.String(s.Name),
		AttrFlowID.String(s.Root), AttrFlowName.String(s.Name), AttrFlowKind.String(string(s.Kind)),
	}
	if s.Parent != "" {
		attrs = append(attrs, AttrParent.String(s.Parent))
	}
	ctx, span := m.tracer.Start(ctx, OpStart+" "+s.Name, trace.WithSpanKind(trace.SpanKindProducer), trace.WithAttributes(attrs...))
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

// FanOut implements middleware.Fanner: the swarm's span, a child of the
// span of what started the swarm (its flow's start, the step before it)
// and the parent of its items' spans, which its context goes to. The
// span marks the fan-out (it ends as FanOut returns); the items' own
// spans say how long the swarm ran.
func (m *Middleware) FanOut(ctx context.Context, f *middleware.FanOut) {
	ctx = m.prop.Extract(ctx, propagation.MapCarrier(f.Metadata))
	ctx, span := m.tracer.Start(ctx, OpFanOut+" "+f.Name, trace.WithSpanKind(trace.SpanKindProducer), trace.WithAttributes(
		semconv.MessagingSystemKey.String(system), semconv.MessagingOperationTypeSend, semconv.MessagingOperationNameKey.String(OpFanOut),
		semconv.MessagingDestinationNameKey.String(f.Name),
		AttrRecord.String(f.Swarm), AttrFlowID.String(f.Root), AttrFlowName.String(f.Metadata[FlowNameKey]), AttrSwarm.String(f.Name),
	))
	defer span.End()
	carrier := propagation.MapCarrier{}
	m.prop.Inject(ctx, carrier)
	// the swarm's own keys first: an item finds its swarm's span by them,
	// whichever sibling's end dispatched it
	if !f.Carry(swarmIDKey, f.Swarm) || !f.Carry(swarmNameKey, f.Name) {
		return
	}
	for k, v := range carrier {
		f.Carry(swarmCtxPrefix+k, v)
	}
	for k, v := range carrier { // a chain item's first step: a child of the span
		f.Carry(k, v)
	}
}

// swarmCarrier reads and writes the swarm span's context in a dispatch's
// metadata, under swarmCtxPrefix.
type swarmCarrier map[string]string

func (c swarmCarrier) Get(key string) string { return c[swarmCtxPrefix+key] }

func (c swarmCarrier) Set(key, value string) { c[swarmCtxPrefix+key] = value }

func (c swarmCarrier) Keys() []string {
	var keys []string
	for k := range c {
		if len(k) > len(swarmCtxPrefix) && k[:len(swarmCtxPrefix)] == swarmCtxPrefix {
			keys = append(keys, k[len(swarmCtxPrefix):])
		}
	}
	return keys
}

// Ended implements middleware.Ender: the flows that ended.
func (m *Middleware) Ended(ctx context.Context, e middleware.End) {
	m.ended.Add(ctx, 1, metric.WithAttributes(AttrFlowName.String(e.Name), AttrFlowKind.String(string(e.Kind)), AttrStatus.String(string(e.Status))))
}

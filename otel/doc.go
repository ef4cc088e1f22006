// Package otelmageflow traces and measures mageflow flows with
// OpenTelemetry: a mageflow middleware (mageflow.WithMiddleware) that
// makes one trace per flow, across every process that runs its tasks and
// on every backend, and the metrics of its tasks and flows.
//
//	m := otelmageflow.New() // the global tracer and meter providers
//	c, err := mageflow.New(b, store, mageflow.WithMiddleware(m))
//
// Traces. Starting a flow makes a span ("start <flow>"), a child of the
// caller's: a flow started inside a task joins that task's trace. Each
// attempt of a task makes a span ("process <task>"), with the task, its
// record, the flow's id and name, the attempt and its outcome as
// attributes, and the error recorded. A swarm starting its items makes a
// span ("fan_out <swarm>"), the parent of every item's span. The trace
// context travels in the flow's dispatches (as its metadata, which
// Hatchet shows as run metadata), so that the spans of one flow form one
// trace wherever its tasks ran: a chain's step is a child of the step
// before it, a flow's first task a child of the start, a swarm's fan-out
// a child of what started the swarm (the start, the step before it), and
// a swarm's item a child of the fan-out, linked, when a concurrency limit
// started it as another item ended, to that item's span. The spans follow
// OpenTelemetry's messaging conventions (messaging.system "mageflow",
// messaging.operation.name start, fan_out or process,
// messaging.destination.name the flow, swarm or task, error.type) and
// name their container (mageflow.parent). A dispatch a worker's recovery,
// a resume or a retry sends carries the start's context, stored with the
// flow (a flow signed before it was started stores none: those dispatches
// start a trace of their own). The middleware stores "traceparent" (and
// "tracestate") and "mageflow.flow" (the flow's name) with the flow,
// among its metadata; a swarm's fan-out adds its id, name and span
// context to the metadata of its items (and of what they cause, the
// step after the swarm for one, which leave them unused) (the innermost swarm's, for an item of a swarm in a swarm's
// item: an outer item a later slot starts is then a child of the span
// that started it, not of its swarm's).
//
// Metrics, by task, outcome, flow name and status, with the messaging
// conventions' names where they have one:
//   - messaging.client.consumed.messages: attempts of tasks (counter, by
//     task, outcome and, for a failure, error.type: "timeout", "panic",
//     or the type of the task's error);
//   - messaging.process.duration: their duration (histogram, seconds);
//   - mageflow.task.retries: attempts after the first (counter);
//   - mageflow.task.queue_latency: from the dispatch that caused the
//     attempt to its start (histogram, seconds);
//   - mageflow.task.in_flight: attempts running (up-down counter);
//   - mageflow.swarm.items_in_flight: attempts of a swarm's items
//     running, by swarm name (up-down counter);
//   - mageflow.flow.started and mageflow.flow.ended: flows (counters).
//
// The flows' metrics are labeled with their name (flow.Named), and the
// swarms' with theirs: name flows and swarms by what they do
// ("checkout"), not by what they do it to, or the series (and the
// middleware's cache of their attribute sets) grow without bound. A start that finds its flow stored already (a
// second start with flow.WithID, a retried task's) is not counted.
package otelmageflow

// Package otelmageflow traces and measures mageflow flows with
// OpenTelemetry: a mageflow middleware (mageflow.WithMiddleware) that
// makes one trace per flow, across every process that runs its tasks and
// on every backend, and the metrics of its tasks and flows.
//
//	m := otelmageflow.New() // the global tracer and meter providers
//	c, err := mageflow.New(b, store, mageflow.WithMiddleware(m))
//
// Traces. Starting a flow makes a span ("mageflow.start"), a child of the
// caller's: a flow started inside a task joins that task's trace. Each
// attempt of a task makes a span ("mageflow.task"), with the task, its
// record, the flow's id and name, the attempt and its outcome as
// attributes, and the error recorded. The trace context travels in the
// flow's dispatches (as its metadata, which Hatchet shows as run
// metadata), so that the spans of one flow form one trace wherever its
// tasks ran: a task is the child of the span whose attempt dispatched it.
// A chain's step is a child of the step before it; a flow's first tasks
// (the items a swarm starts at once among them) are children of the
// start, and a swarm's item started when another ended is a child of
// that one; every span names its container (mageflow.parent). A dispatch
// a worker's recovery, a resume or a retry sends carries the start's
// context, stored with the flow (a flow signed before it was started
// stores none: those dispatches start a trace of their own). The
// middleware stores "traceparent" (and "tracestate") and "mageflow.flow"
// (the flow's name) with the flow, among its metadata.
//
// Metrics, by task, outcome, flow name and status:
//   - mageflow.task.executions: attempts of tasks (counter);
//   - mageflow.task.duration: their duration (histogram, seconds);
//   - mageflow.task.retries: attempts after the first (counter);
//   - mageflow.task.queue_latency: from the dispatch that caused the
//     attempt to its start (histogram, seconds);
//   - mageflow.task.in_flight: attempts running (up-down counter);
//   - mageflow.flow.started and mageflow.flow.ended: flows (counters).
//
// The flows' metrics are labeled with their name (flow.Named): name flows
// by what they do ("checkout"), not by what they do it to, or the series
// grow without bound. A start that finds its flow stored already (a
// second start with flow.WithID, a retried task's) is not counted.
package otelmageflow

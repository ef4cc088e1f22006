// Package mageflow runs type-checked workflow graphs on a task queue.
//
// Tasks (package task) compose with the combinators of package flow into
// flows whose every edge the compiler checks. A [Client] holds the task
// registry, a backend that executes tasks (backend/memory in process,
// backend/hatchet on a Hatchet engine) and a store that keeps the state of
// started flows (storage/memory, storage/redis):
//
//	c, _ := mageflow.New(membackend.New(), memstore.New())
//	_ = c.Register(double, show)
//	stop, _ := c.StartWorker(ctx)
//	defer stop(ctx)
//	run, _ := flow.Start(ctx, c, flow.Then(double, show), 21)
//	out, _ := run.Wait(ctx) // "42"
//
// # Guarantees
//
// A started flow is stored whole before anything runs. Every transition
// (a task claimed, completed or failed; a chain advancing; a swarm starting
// items, completing or failing) is one atomic store operation, and the
// dispatches it decides are kept in an outbox until sent. So user task code
// runs at least once per attempt, as on every queue, while every transition
// and every callback takes effect exactly once, and nothing accepted by
// flow.Start is lost while the store keeps its data.
//
// # Errors
//
// The errors to match with errors.Is are this package's, whatever the
// backend and store: [ErrNotFound] (no flow has the id), [ErrStarted] (a
// signed flow started again), [ErrNotPaused] (Resume of a flow that is not
// paused), [ErrNotFailed] (Retry of a flow in which nothing failed),
// [ErrFinished] (an operation on a flow that ended),
// [ErrCanceled] (a canceled flow), [ErrSwarmClosed] (items added to a
// closed swarm), [ErrInvalidFlow] (a flow refused before anything was
// stored, with the reason) and [ErrUnknownTask] (a task no worker
// registered). A
// failed flow's Wait returns a *flow.FailedError (errors.As), with the
// failure's ErrorInfo.
package mageflow

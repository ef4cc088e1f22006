// Package backend is the seam between mageflow's engine and the task queue
// that executes tasks.
//
// A [Backend] knows tasks by name. The engine registers a [Handler] for each
// task this process executes, dispatches runs by name with a JSON payload,
// metadata and a dedupe key, cancels runs, and starts the worker that calls
// the handlers. Generics stop above this package: here there are only names
// and bytes.
//
// # Contract
//
// Implementations are safe for concurrent use. Delivery is at least once: a
// run may be delivered again after a worker died, and a dispatch may be
// delivered twice; the engine's claim drops the extra deliveries. Dispatch
// deduplicates by [Dispatch.Key]: a second dispatch with a key already seen
// creates no run and returns the existing run's id without error.
//
// A handler's error makes the backend retry the run while attempts remain
// (MaxAttempts counts the first one), waiting the task's backoff between
// attempts, unless the error is marked with [Final] or the run was
// canceled. Every attempt of a run has the same RunID and an Attempt number
// starting at 1. The context given to a handler is canceled when the run is
// canceled, when its timeout passes, and when stopping the worker gives up
// waiting for it; handlers pass it on to Dispatch.
//
// Dispatch returns an error wrapping [ErrUnknownTask] when no worker knows
// the task name. Cancelling ctx abandons a call; a Dispatch so abandoned may
// or may not have been accepted.
package backend

// Package memory is an in-process [backend.Backend] for development and
// tests. It is not for production: runs live in memory and are lost when the
// process ends, and nothing is shared between processes.
//
// A [Backend] runs handlers on a bounded pool of goroutines (see
// [WithWorkers]) fed by an unbounded queue, so [Backend.Dispatch] never
// blocks, even when a handler dispatches from inside the pool. Each dispatch
// creates a run with a fresh id; a failed attempt is retried with the same
// run id after the task's backoff, up to the task's MaxAttempts, unless the
// error is marked with [backend.Final]. A panic in a handler is recovered and
// treated as an error.
//
// Dispatches with a non-empty [backend.Dispatch.Key] are deduplicated while
// the run of the key's first dispatch has not ended; the Backend forgets the
// key with the run, so it does not grow with the dispatches it saw. A
// repeat after the end is a new run, which the store's claim refuses in a
// flow.
//
// A Backend is a [backend.Continuer]: the dispatch a handler makes as its
// last act ([backend.Tail]) runs on the handler's own worker once the
// handler returned, and [Backend.NextRun] names that run beforehand, so
// that the engine has the store claim it in the operation that completes
// the handler's task; [backend.Dispatch.Run] gives the run that id.
//
// # Faults
//
// [Backend.Inject] makes the backend misbehave the way a real queue may, so
// tests can check that the engine copes: a dispatch delivered twice
// ([DuplicateDelivery]), a run delivered again after it succeeded
// ([Redeliver]) and a worker that dies after its task completed but before it
// sent the follow-up dispatches ([CrashBeforeDispatch]). [Backend.Stats]
// counts what happened.
package memory

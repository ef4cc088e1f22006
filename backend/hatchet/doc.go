// Package hatchet is the Hatchet [backend.Backend] (import it as
// hatchetbackend): mageflow's tasks run as Hatchet tasks, on Hatchet's
// workers, queues, retries and dashboard.
//
//	hc, err := hatchetbackend.NewClient() // HATCHET_CLIENT_* from the environment
//	b, err := hatchetbackend.New(hc, hatchetbackend.WithWorkerName("orders"))
//	store, err := redisstore.New(rc)
//	c, err := mageflow.New(b, store)
//
// It lives in a module of its own so that users of the other backends do
// not download Hatchet's dependencies.
//
// # How tasks map
//
// Every registered task becomes a Hatchet standalone task of the same name
// (a durable one for task.Durable), created when the worker starts. A run's
// input is the JSON object {"payload": <the task's input as JSON text>,
// "key": <dedupe key>}: the dashboard shows the input, and the SDK, which
// holds inputs as map[string]any, cannot round its numbers (integers past
// 2^53 keep every digit); the record and root ids travel in the run's
// additional metadata (mageflow-record, mageflow-root). Workers read the
// older envelope, {"in": <the task's input>}, too; workers from before
// {"payload"} do not read the new one, so upgrade workers before the
// processes that start flows. Dispatches are deduplicated by Hatchet's
// idempotency keys, evaluated from the input's "key" for [DedupeWindow].
// Retries are Hatchet's (task.WithRetries), and the attempt number is
// Hatchet's retry count plus one; task.NonRetryable errors become Hatchet
// non-retryable errors. A task's timeout (or [WithDefaultTimeout]) is
// enforced in the handler's context. Hatchet's execution timeout is a lease
// ([WithLease]), renewed while the task runs: a run assigned to a worker
// that never starts it is delivered again when its lease runs out. Hatchet
// gets two retries more than the task's for that; the handler still sees at
// most the task's attempts fail. Cancel cancels the Hatchet run through the
// REST API.
//
// Inside a task, [Context] returns Hatchet's own context (MageFlow's
// with_ctx); the context the task receives is a plain one, so that flows
// started from a task are not made child runs by accident.
//
// # Sharp edges of the SDK handled here
//
//   - Running a name no worker registered returns a run that never ends:
//     Dispatch and Known check names against the engine first and return
//     backend.ErrUnknownTask.
//   - Triggering a run ignores its context: Dispatch and Cancel return
//     when the caller's context ends, whatever the SDK does.
//   - The SDK panics on bad configuration and on bad task definitions:
//     [NewClient] and Start turn those panics into errors.
//   - A worker whose connection to the engine fails for good (five tries,
//     five seconds apart) panics in the SDK's own goroutine, which no
//     caller can recover; run workers under a supervisor that restarts
//     them, as for any crash.
package hatchet

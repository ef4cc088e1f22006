// Package flow composes tasks into typed workflow graphs and starts them.
//
// A [Flow] goes from In to Out. A task.Task[In, Out] is one; the
// combinators build bigger ones, and the compiler checks every edge:
//
//	f := flow.Then(double, show)                 // Flow[int, string]
//	s := flow.Swarm(double, double, double)      // Flow[int, []int]
//	g := flow.OnError(flow.OnSuccess(f, notify), alert)
//
// Chains and swarms nest anywhere a flow is accepted: a chain inside a
// swarm, a swarm as a chain step, a chain as a callback. Type arguments are
// inferred at call sites; a step whose input type differs from the previous
// step's output does not compile.
//
// [Start] stores a flow and dispatches its first tasks; [Sign] stores it to
// start later; [SignSwarm] stores a swarm that accepts items while it runs.
// A [Run] waits for the result (Wait); every handle ([Run], [Sig],
// [SwarmSig]) controls the lifecycle (Status, Suspend, Interrupt, Resume,
// Cancel) and runs a failed flow again from where it failed (Retry).
//
// # Errors
//
// The errors to match are the root package's: mageflow.ErrNotFound (no
// flow has the id), mageflow.ErrStarted (a signed flow started again),
// mageflow.ErrNotPaused (Resume of a flow not paused),
// mageflow.ErrNotFailed (Retry of a flow in which nothing failed),
// mageflow.ErrFinished (an operation on a flow that ended),
// mageflow.ErrCanceled (Wait on, or Start of, a canceled flow),
// mageflow.ErrSwarmClosed (Add to a closed swarm),
// mageflow.ErrInvalidFlow (a flow refused before anything was stored,
// with the reason) and mageflow.ErrUnknownTask (a task no worker
// registered); a failed flow's Wait returns a [*FailedError].
//
// Values travel as JSON between tasks, so inputs and outputs must be types
// that encoding/json round-trips.
//
// # Lifecycle
//
// A handle's operations apply to every node of its flow. How each moves a
// node (a task, chain or swarm):
//
//	status        Suspend      Interrupt    Resume           Cancel
//	pending       suspended    interrupted  ErrNotPaused     canceled
//	active        suspended    interrupted  ErrNotPaused     canceled
//	suspended     (no change)  interrupted  its last status  canceled
//	interrupted   (no change)  (no change)  its last status  canceled
//	done, failed  ErrFinished  ErrFinished  ErrFinished      ErrFinished
//	canceled      ErrFinished  ErrFinished  ErrFinished      (no change)
//
// What each means for the flow:
//
//   - Suspend is graceful: a task that has not started does not start (its
//     input is kept); a running task finishes, but its chain or swarm does
//     not advance, and its callbacks wait.
//   - Interrupt also stops running tasks (their context is canceled; on
//     Hatchet their runs are canceled). A task that stops (it returns an
//     error, such as ctx.Err()) runs again on Resume, as its next attempt
//     (the stopped one counts, and the rerun runs even if it was the
//     last); one that returns its result anyway has completed.
//   - Resume continues where the flow stopped, once: held tasks are
//     dispatched, chains advance past steps that finished meanwhile, swarms
//     fill their free slots (the concurrency cap still holds) and complete
//     or fail if they should. A task whose retry arrived while the flow
//     was paused keeps the attempts it made: it runs only the retries it
//     has left, numbered on (task.Info's Attempt). Resuming a flow that is
//     not paused is an error wrapping mageflow.ErrNotPaused.
//   - Cancel is final: nothing more runs, running tasks are stopped, error
//     callbacks do not fire, Wait returns an error wrapping
//     mageflow.ErrCanceled, and the flow's records get the done TTL.
//   - Retry applies to a flow that ended with something failed (its root,
//     or a callback): it runs again from where it failed. Done parts do
//     not run again; a failed task runs with its stored input and all its
//     attempts; a chain continues at its failed step; a swarm that failed
//     at its limit runs the items that did not finish, counting failures
//     from zero. Callbacks fire once for each end. Retry of a flow that
//     runs or did not fail wraps mageflow.ErrNotFailed; of a canceled one,
//     mageflow.ErrCanceled.
//
// Suspending twice is fine, and so is canceling twice; other operations
// on a flow that ended, but Retry, return an error wrapping
// mageflow.ErrFinished. Retry is the one for a flow that ended failed
// (done, failed: it runs again what failed; canceled: ErrCanceled;
// pending, active, paused: ErrNotFailed).
// A flow whose body has its outcome has not ended while its callbacks run
// or wait (a root task that ended while the flow was paused holds them):
// Resume fires held callbacks, and Cancel stops them. Such a flow keeps
// its outcome: after that Cancel, Wait returns the body's result or
// failure, not mageflow.ErrCanceled.
//
// Every operation may be repeated after an error: what the store
// recorded is kept there until the backend has it (a resume's dispatches,
// an interrupt's or a cancel's stopped runs), and a worker's recovery
// delivers what the caller's process could not.
package flow

// Package storage is the seam between mageflow's engine and the place where
// the records of started graphs live.
//
// A [Store] offers one atomic operation per protocol transition: creating a
// graph (and entering it), claiming a task for a backend run, completing or
// failing it, adding items to and closing a swarm, applying a lifecycle
// operation, and acknowledging sent dispatches. Each transition decides,
// inside the same atomic operation, everything that follows from it: the
// next chain step, the next swarm items, container completion or failure,
// callbacks, and the end of the graph. The dispatches it decides are written
// to the outbox of the record that transitioned and returned as [Effects],
// together with the cancels of running tasks' runs and of the flows tasks
// started; the engine delivers them and acknowledges them with
// [Store.Ack]. A transition's lone dispatch (one start, no cancels) is
// written to its target's own outbox instead, and [Effects].Source names
// the target: the target's claim takes it there, in the write it makes
// anyway, and the sender's Lone names the target so that a replay finds
// it. What stays in an outbox is owed:
// each store keeps, in the same operation, an index of the records whose
// outbox holds effects, so that [Store.Due] finds what is owed at a cost
// that grows with it, not with the stored graphs, and any worker
// delivers it ([Store.Owed]). A transition replayed after a crash returns
// the effects still owed, so nothing decided is lost and nothing is
// decided twice.
//
// # Claims made ahead
//
// A store that is an [Aheader] also completes a task and claims the task
// that completion dispatches alone (the next chain step, the next swarm
// item) in one operation, for a run the caller names: a worker whose
// backend runs that dispatch on the same worker (backend.Continuer) then
// runs the task without a store call to claim it, so that a step costs
// one operation instead of two. The target's record is Active with a
// lease on the claim ([sig.Record.AheadUntil], the recovery grace), and
// its dispatch stays owed, whatever acknowledges it: if the worker dies
// before the run starts, any worker delivers it again after the grace,
// and that delivery's claim, once the lease is over, takes the claim
// over (during the lease, a delivery of another run is a duplicate). A
// run that lasts confirms its claim ([Aheader.Confirm]) well before the
// lease ends (the engine: every quarter of the grace, and before a
// retry's backoff); a claim by the run does too, and so does the run's
// end. The lease is read on the callers' clocks, as every time the
// stores keep.
//
// # Contract
//
// Implementations are safe for concurrent use by many goroutines and
// processes. Each method is atomic: when it returns an error, nothing it
// would have written is visible. Cancelling ctx abandons the call; the
// operation may or may not have been applied, and callers retry it (every
// transition is idempotent for the same run id).
//
// Errors: [ErrNotFound] when a record is missing or expired, [ErrExists]
// when a graph's root already exists, [ErrNotOwner] when a run completes or
// fails a task claimed by another run, [ErrCanceled] when the record was
// canceled, [ErrConflict] when a swarm changed under an AddItems, [ErrState]
// when an operation does not apply to the record's status or kind. Anything
// else wraps the cause (an unreachable server, a corrupt value).
//
// Payloads are JSON. Stores assemble a few of them from stored parts: a
// swarm's result is the JSON array of its Done items' results in item
// order; an error callback's input is {"input": <failed node's input>,
// "error": <ErrorInfo>}; a task with bound args receives
// {"args": <args>, "in": <input>}. The helpers of package
// storage/transition implement these rules for stores written in Go;
// package storagetest checks any store against them.
//
// A graph's records live and expire together, so that no record is ever
// left without the records it refers to: the graph expires its ActiveTTL
// after its latest write while it runs, and its DoneTTL after it ended (the
// root is terminal and its Live count is zero). Both TTLs are given at
// creation and kept on the root record; every record read carries the
// graph's expiry in ExpiresAt.
package storage

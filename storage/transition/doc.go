// Package transition is the protocol of mageflow's stores, written once in Go:
// what each transition of a stored graph changes and which dispatches it
// decides. A store written in Go (storage/memory) runs these functions inside
// its own atomic section over a [Tx]; a store that runs server-side scripts
// (storage/redis) implements the same rules in its scripts, and
// storage/storagetest checks that both agree.
//
// # Rules
//
// Entering node X with input v (enter): X.Input = v, X.Entered = true, the
// root's Live count goes up by one. If X is paused (Suspended or
// Interrupted) the entry is held: LastStatus becomes Pending and nothing
// else happens until the graph is resumed. Otherwise:
//   - a task is dispatched: Gen+1, an outbox entry with key "<id>#<gen>",
//     the task name, and payload v (or {"args":A,"in":v} when the task has
//     bound args A); the task stays Pending until a run claims it;
//   - a chain becomes Active, Cursor 0, and enters step 0 with v;
//   - a swarm becomes Active and fills: while fewer than MaxConcurrency
//     (default 30) items run and items remain, item Next is entered with
//     the swarm's input, Next and Running go up.
//
// Completing X with result r: X becomes Done with Result r and ends (the
// root's Live goes down). Every success callback is entered with r. Then its
// container hears of it:
//   - chain P, Active: the next step is entered with r; after the last step,
//     P completes with r;
//   - swarm P: Running-1, Done+1; if P is Active it fills, and when it is
//     Closed and every item ended it completes with the JSON array of its
//     Done items' results in item order.
//
// Failing X with error info E: X becomes Failed with E and ends. Every error
// callback is entered with {"input": X.Input, "error": E}. Its container:
//   - chain P, Active: P fails with E;
//   - swarm P: Running-1, Failed+1; if P is Active and StopAfterNFailures > 0
//     and Failed reached it, P fails (once) with E, its Kind "swarm" and
//     its message saying so; otherwise it fills and may complete as above.
//
// A container that is paused or ended when a child ends only counts
// (swarm accounting); a paused one decides on resume (reconcile): a chain
// whose current step is Done advances, one whose step Failed fails; a swarm
// checks its failure limit, fills and checks completion.
//
// Expiry belongs to the graph: every transition sets it to now + the
// graph's ActiveTTL, until the graph ends (its root is terminal and Live is
// zero); then the root is marked Finished and the graph expires its DoneTTL
// later. Writes after that (acks) leave the expiry alone.
//
// Lifecycle (Apply on the root): suspend turns Pending and Active records
// Suspended; interrupt turns Pending, Active and Suspended records
// Interrupted and cancels the runs of tasks that were running; resume puts
// every paused record back to its LastStatus (an interrupted or held task is
// dispatched again with a new Gen, a held container is entered, an Active
// container reconciles); cancel turns every non-terminal record Canceled,
// cancels running tasks' runs, fires no callback, and ends the graph.
//
// Retry (Apply with sig.OpRetry) applies to a graph that ended, was not
// canceled, and in which something failed. A failed root is revived and
// entered again with its input; otherwise every failed callback under
// the root (of a node that keeps its end) is. Reviving a failed or
// stopped node makes it an unentered Pending node that continues where
// it stopped once entered: a task is dispatched again (a new Gen) with
// Attempts 0; a chain restarts at its Cursor, entering that step with the
// input it had; a swarm keeps its done items (and runs their stopped or
// failed callbacks again), revives the others, sets Next to its first
// item not done and counts Running and Failed from zero, and fills on
// entry, skipping done items. A revived node's callbacks are reset
// (unentered, as stored), so that they fire for its next end. The root
// is no longer Finished, and the graph gets its active TTL again.
package transition

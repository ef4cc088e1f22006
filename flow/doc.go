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
// Their handles ([Run], [Sig], [SwarmSig]) wait for the result and control
// the lifecycle (Status, Suspend, Interrupt, Resume, Cancel).
//
// Values travel as JSON between tasks, so inputs and outputs must be types
// that encoding/json round-trips.
package flow

package middleware

import "context"

// Fanner is a Middleware that also hears of each swarm a flow starts, in
// the process that sends its first items, before it sends them: what it
// carries (FanOut.Carry) goes with those items' dispatches and, since
// each dispatch carries what caused it, with the items the swarm starts
// later as earlier ones end. A trace middleware makes the swarm's span
// there, the parent of its items' spans. FanOut runs on the worker's
// path and should return quickly; a panic in it is logged, and the items
// are sent without what it carried.
//
// A swarm started again (resumed after a suspend, retried) is heard
// again. Items a swarm starts after a worker's recovery resent what a
// lost process owed carry the flow's stored metadata instead.
type Fanner interface {
	FanOut(ctx context.Context, f *FanOut)
}

// FanOut is a swarm starting its items.
type FanOut struct {
	// Swarm is the swarm's record id; Root is its flow's id.
	Swarm, Root string
	// Name is the name the tools show for the swarm: flow.Named's, else
	// its kind.
	Name string
	// Metadata is what the items' dispatches carry before the fanners
	// carry theirs: the flow's metadata, with what the operation that
	// starts the swarm carried (the attempt of the step before it, for
	// one).
	Metadata map[string]string

	carried map[string]string
}

// Carry sets the pair key=value in the metadata of the swarm's items'
// dispatches, in place of the pair they would carry. It reports whether
// the pair is carried, within the bounds Execution.Carry says.
func (f *FanOut) Carry(key, value string) bool { return carry(&f.carried, key, value) }

// Carried returns the pairs Carry set (the engine merges them).
func (f *FanOut) Carried() map[string]string { return f.carried }

package middleware

import "context"

// Fanner is a Middleware that also hears of swarms sending items: an
// operation that starts a swarm (its flow's start or the step before it
// ending, a resume, a retry) or adds items to a running one tells the
// fanners, in the process that sends the items, before it sends them,
// once per swarm and operation. What a fanner carries (FanOut.Carry)
// goes with the dispatches of the swarm's items (a chain item's first
// step, for a chain item) and, since each dispatch carries what caused
// it, with the items the swarm starts later as earlier ones end. A trace
// middleware makes the swarm's span there, the parent of its items'.
// The fanners run in order, each seeing what those before it carried; a
// swarm in another swarm's item starts from what the outer one's
// fanners carried.
//
// FanOut runs on the worker's path and should return quickly. A panic in
// it is logged, and what that fanner carried is dropped; the others
// still run. The dispatches a worker's recovery sends again, for a
// process that died owing them, carry the flow's stored metadata
// instead.
type Fanner interface {
	FanOut(ctx context.Context, f *FanOut)
}

// FanOut is a swarm sending items.
type FanOut struct {
	// Swarm is the swarm's record id; Root is its flow's id.
	Swarm, Root string
	// Name is the name the tools show for the swarm: flow.Named's, else
	// its kind.
	Name string
	// Metadata is what the items' dispatches carry before this fanner
	// carries its pairs (a copy): the flow's metadata, with what the
	// operation that starts the swarm carried (the attempt of the step
	// before it, for one) and what the fanners before this one carried.
	Metadata map[string]string

	carried map[string]string
}

// Carry sets the pair key=value in the metadata of the swarm's items'
// dispatches, in place of the pair they would carry. It reports whether
// the pair is carried, within the bounds Execution.Carry says (at most
// MaxCarried pairs for each fanner).
func (f *FanOut) Carry(key, value string) bool { return carry(&f.carried, key, value) }

// Carried returns the pairs Carry set (the engine merges them).
func (f *FanOut) Carried() map[string]string { return f.carried }

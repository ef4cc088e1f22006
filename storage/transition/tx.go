package transition

import (
	"time"

	"github.com/mageflow-go/mageflow/sig"
)

// Tx is a store's atomic section as the transitions see it. Every record
// returned by Get is a working copy that the store writes back when the
// transition returns without error, and discards otherwise.
type Tx interface {
	// Get returns the working copy of record id, or an error wrapping
	// storage.ErrNotFound. Two Gets of one id return the same copy.
	Get(id string) (*sig.Record, error)
	// Read returns record id, or an error wrapping storage.ErrNotFound,
	// for reading only: the transition does not change it, so the store
	// need not prepare to write it back.
	Read(id string) (*sig.Record, error)
	// Insert adds a new record; it is written back like the others.
	Insert(r *sig.Record) error
	// Exists reports whether record id exists.
	Exists(id string) (bool, error)
	// IDs returns the ids of every record of the graph rooted at root, in
	// creation order.
	IDs(root string) ([]string, error)
	// Expire sets when the graph rooted at root expires.
	Expire(root string, at time.Time)
	// Now is the transition's clock.
	Now() time.Time
}

// ChildTx is implemented by a Tx that finds the children of a container
// without building their ids: GetChild(parent, i) is
// Get(sig.ChildID(parent, i)) and ReadChild(parent, i) is
// Read(sig.ChildID(parent, i)), answers and errors alike. The transitions
// use it when the Tx has it.
type ChildTx interface {
	GetChild(parent string, i int) (*sig.Record, error)
	ReadChild(parent string, i int) (*sig.Record, error)
}

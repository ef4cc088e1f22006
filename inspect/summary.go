package inspect

import (
	"time"

	"github.com/mageflow-go/mageflow/sig"
)

// Summary describes one flow: a graph's root.
type Summary struct {
	ID string
	// Name is the flow's name (flow.Named), else its kind or task name.
	Name string
	Kind sig.Kind
	// Metadata are the pairs flow.WithMetadata stored with the flow.
	Metadata map[string]string
	Status   sig.Status
	// Done counts the steps or items that ended (failed ones included),
	// Failed those that failed, Total all of them; a task counts as one.
	Done, Failed, Total int
	// Finished is set once the flow and its callbacks ended.
	Finished bool
	Created  time.Time
	Updated  time.Time
	Ended    time.Time
	// Expires is when the flow's records expire: their active TTL after
	// their latest write while the flow runs (a worker keeps the graph of a
	// running task alive, but nothing keeps a paused flow alive), their
	// done TTL after it ended.
	Expires time.Time
	// Error is the flow's failure, if it failed.
	Error *sig.ErrorInfo
}

// Summarize describes root record r.
func Summarize(r *sig.Record) Summary {
	s := Summary{
		ID: r.ID, Name: NameOf(r), Kind: r.Kind, Metadata: r.Metadata, Status: r.Status, Finished: r.Finished,
		Created: r.CreatedAt, Updated: r.UpdatedAt, Ended: r.EndedAt, Expires: r.ExpiresAt, Error: r.Error,
	}
	s.Done, s.Failed, s.Total = Progress(r)
	return s
}

// NameOf returns the name the tools show for record r: its Label
// (flow.Named), else its Name (the task's, or "chain" or "swarm").
func NameOf(r *sig.Record) string { return r.DisplayName() }

// Progress returns how many of r's steps or items ended and failed, out
// of how many, from the counts r keeps: it reads no child.
func Progress(r *sig.Record) (done, failed, total int) {
	switch r.Kind {
	case sig.KindSwarm:
		if st := r.Swarm; st != nil {
			return st.Done + st.Failed, st.Failed, r.Children
		}
		return 0, 0, r.Children
	case sig.KindChain:
		done = r.Cursor
		switch r.Status {
		case sig.Done:
			done = r.Children
		case sig.Failed:
			done, failed = r.Cursor+1, 1
		}
		return min(done, r.Children), failed, r.Children
	}
	switch r.Status {
	case sig.Done:
		return 1, 0, 1
	case sig.Failed:
		return 1, 1, 1
	}
	return 0, 0, 1
}

package inspect

import (
	"encoding/json"
	"time"

	"github.com/mageflow-go/mageflow/sig"
)

// The JSON of a listing and of a tree is the same shape everywhere (the
// command's --json, the viewer's API): snake_case names, payloads as the
// JSON they are, durations in milliseconds, no zero times.

// summaryJSON is a Summary as JSON.
type summaryJSON struct {
	ID       string            `json:"id"`
	Name     string            `json:"name"`
	Kind     sig.Kind          `json:"kind"`
	Status   sig.Status        `json:"status"`
	Done     int               `json:"done"`
	Failed   int               `json:"failed"`
	Total    int               `json:"total"`
	Finished bool              `json:"finished"`
	Created  *time.Time        `json:"created,omitempty"`
	Updated  *time.Time        `json:"updated,omitempty"`
	Ended    *time.Time        `json:"ended,omitempty"`
	Duration *int64            `json:"duration_ms,omitempty"`
	Expires  *time.Time        `json:"expires,omitempty"`
	Error    *sig.ErrorInfo    `json:"error,omitempty"`
	Metadata map[string]string `json:"metadata,omitempty"`
}

// MarshalJSON encodes s with snake_case names, without zero times, and
// with the flow's duration (created to ended) in milliseconds.
func (s Summary) MarshalJSON() ([]byte, error) {
	return json.Marshal(summaryJSON{
		ID: s.ID, Name: s.Name, Kind: s.Kind, Status: s.Status, Done: s.Done, Failed: s.Failed, Total: s.Total,
		Finished: s.Finished, Created: when(s.Created), Updated: when(s.Updated), Ended: when(s.Ended),
		Duration: duration(s.Created, s.Ended), Expires: when(s.Expires), Error: s.Error, Metadata: s.Metadata,
	})
}

// nodeJSON is a Node as JSON: its record's fields that say what the node
// is and did, and what hangs under it.
type nodeJSON struct {
	ID       string            `json:"id"`
	Kind     sig.Kind          `json:"kind"`
	Name     string            `json:"name"`
	Task     string            `json:"task,omitempty"`
	Role     sig.Role          `json:"role"`
	Index    int               `json:"index"`
	Status   sig.Status        `json:"status"`
	Attempts int               `json:"attempts,omitempty"`
	Done     int               `json:"done"`
	Failed   int               `json:"failed"`
	Total    int               `json:"total"`
	Running  *int              `json:"running,omitempty"`
	Closed   *bool             `json:"closed,omitempty"`
	Created  *time.Time        `json:"created,omitempty"`
	Updated  *time.Time        `json:"updated,omitempty"`
	Ended    *time.Time        `json:"ended,omitempty"`
	Duration *int64            `json:"duration_ms,omitempty"`
	Expires  *time.Time        `json:"expires,omitempty"`
	Finished *bool             `json:"finished,omitempty"`
	Args     json.RawMessage   `json:"args,omitempty"`
	Input    json.RawMessage   `json:"input,omitempty"`
	Result   json.RawMessage   `json:"result,omitempty"`
	Error    *sig.ErrorInfo    `json:"error,omitempty"`
	Metadata map[string]string `json:"metadata,omitempty"`
	// StartedFlows are the ids of the flows a task started inside it (in
	// its latest epoch), which may have expired since.
	StartedFlows []string `json:"started_flows,omitempty"`
	Children     []*Node  `json:"children,omitempty"`
	More         int      `json:"more,omitempty"`
	// FailedMore are failed items among those More counts.
	FailedMore []*Node `json:"failed_more,omitempty"`
	OnSuccess  []*Node `json:"on_success,omitempty"`
	OnError    []*Node `json:"on_error,omitempty"`
	// WillNotFire marks a callback that will not fire.
	WillNotFire bool `json:"will_not_fire,omitempty"`
}

// MarshalJSON encodes n with snake_case names, its payloads as JSON,
// without zero times, and with its duration (created to ended) in
// milliseconds.
func (n *Node) MarshalJSON() ([]byte, error) {
	r := n.Record
	done, failed, total := Progress(r)
	j := nodeJSON{
		ID: r.ID, Kind: r.Kind, Name: NameOf(r), Role: r.Role, Index: r.Index, Status: r.Status, Attempts: r.Attempts,
		Done: done, Failed: failed, Total: total,
		Created: when(r.CreatedAt), Updated: when(r.UpdatedAt), Ended: when(r.EndedAt), Duration: duration(r.CreatedAt, r.EndedAt),
		Args: raw(r.Args), Input: raw(r.Input), Result: raw(r.Result), Error: r.Error, Metadata: r.Metadata,
		Children: n.Children, More: n.More, FailedMore: n.FailedMore, OnSuccess: n.OnSuccess, OnError: n.OnError,
		WillNotFire: n.WillNotFire,
	}
	if r.Kind == sig.KindTask {
		j.Task = r.Name
		for i := 1; i <= r.Spawned; i++ {
			j.StartedFlows = append(j.StartedFlows, sig.DerivedRootID(sig.SpawnBase(r.ID, r.Epoch), i))
		}
	}
	if st := r.Swarm; st != nil {
		running, closed := st.Running, st.Closed
		j.Running, j.Closed = &running, &closed
	}
	if r.Role == sig.RoleRoot {
		fin := r.Finished
		j.Finished, j.Expires = &fin, when(r.ExpiresAt)
	}
	return json.Marshal(j)
}

func when(t time.Time) *time.Time {
	if t.IsZero() {
		return nil
	}
	return &t
}

func duration(from, to time.Time) *int64 {
	if from.IsZero() || to.IsZero() {
		return nil
	}
	ms := to.Sub(from).Milliseconds()
	return &ms
}

// raw is payload b as JSON, or nothing for none (or what is not JSON).
func raw(b []byte) json.RawMessage {
	if len(b) == 0 || !json.Valid(b) {
		return nil
	}
	return json.RawMessage(b)
}

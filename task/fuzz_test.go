package task_test

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"testing"

	"github.com/mageflow-go/mageflow/flow"
	"github.com/mageflow-go/mageflow/internal/graph"
	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage/transition"
	"github.com/mageflow-go/mageflow/task"
)

// order is a task input as users write them.
type order struct {
	ID    int64             `json:"id"`
	Items []string          `json:"items"`
	Tags  map[string]string `json:"tags,omitempty"`
	Paid  *bool             `json:"paid"`
}

// FuzzInvoke feeds a delivered payload to the erased task the backends
// call, for the input types payloads are decoded into: a plain struct,
// bound args (flow.Args), an error callback's input (flow.Failure) and a
// swarm's results (a slice). Any payload either runs the task or fails
// with a *task.DecodeError that is not retried, never a panic; and a
// payload the task decodes is given to it as decoded (its output, the
// value it got, encodes as the payload's value does).
func FuzzInvoke(f *testing.F) {
	in, _ := json.Marshal(order{ID: 7, Items: []string{"a", "b"}, Tags: map[string]string{"k": "v"}})
	f.Add(in)
	f.Add(transition.TaskPayload([]byte(`{"id":1,"items":["x"]}`), in))
	f.Add(transition.TaskPayload(nil, in))
	f.Add(transition.FailurePayload(in, sig.ErrorInfo{Task: "charge", Message: "declined", Attempts: 3, Kind: sig.ErrorTask}))
	f.Add(transition.ListPayload([][]byte{in, nil, []byte(`{"id":2}`)}))
	f.Add([]byte(`null`))
	f.Add([]byte(`{"id":1e400}`))
	f.Fuzz(func(t *testing.T, payload []byte) {
		invoke[order](t, payload)
		invoke[flow.Args[order, []int]](t, payload)
		invoke[flow.Failure[order]](t, payload)
		invoke[[]*order](t, payload)
	})
}

// invoke runs an identity task of input In on payload and checks the
// outcome.
func invoke[In any](t *testing.T, payload []byte) {
	t.Helper()
	echo := task.New("echo", func(ctx context.Context, in In) (In, error) { return in, nil })
	out, err := graph.TaskDefOf(echo.TaskDef()).Invoke(context.Background(), payload)
	if err != nil {
		var de *task.DecodeError
		if !errors.As(err, &de) || de.Task != "echo" || !task.IsNonRetryable(err) {
			t.Fatalf("Invoke(%q) into %T: %v (%T), want a non-retryable *task.DecodeError", payload, *new(In), err, err)
		}
		return
	}
	var want In
	if err := json.Unmarshal(payload, &want); err != nil {
		t.Fatalf("Invoke(%q) into %T ran, yet the payload does not decode: %v", payload, want, err)
	}
	if b, _ := json.Marshal(want); !bytes.Equal(out, b) {
		t.Fatalf("Invoke(%q) into %T: the task got %s, the payload holds %s", payload, want, out, b)
	}
}

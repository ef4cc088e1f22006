package backendtest

import (
	"context"
	"errors"
	"testing"

	"github.com/mageflow-go/mageflow/backend"
)

// testDispatchBatch sends a batch of a backend.Batcher: new runs, a
// dispatch of a task no worker knows, and one whose key a running run
// holds.
func testDispatchBatch(t *testing.T, h *harness) {
	bb, ok := h.b.(backend.Batcher)
	if !ok {
		t.Skip("the backend sends one dispatch at a time (no backend.Batcher)")
	}
	release := make(chan struct{})
	handler, got := recorder(succeed)
	name := h.register(backend.TaskSpec{Name: "batch"}, func(ctx context.Context, d backend.Delivery) error {
		err := handler(ctx, d)
		if d.Meta["hold"] == "yes" {
			select {
			case <-release:
			case <-ctx.Done():
			}
		}
		return err
	})
	h.start()
	defer close(release)

	held := h.dispatch(backend.Dispatch{Task: name, Payload: []byte(`{"n":0}`), Key: h.prefix + "-held", Meta: map[string]string{"hold": "yes"}})
	if d := recv(t, got, "the held run's delivery"); d.RunID != held {
		t.Fatalf("RunID = %q, want %q", d.RunID, held)
	}
	ds := []backend.Dispatch{
		{Task: name, Payload: []byte(`{"n":1}`), Key: h.prefix + "-1", Record: "record-1", Root: "root-1", Meta: map[string]string{"i": "1"}},
		{Task: h.name("nobody"), Payload: []byte(`{"n":2}`), Key: h.prefix + "-2"},
		{Task: name, Payload: []byte(`{"n":0}`), Key: h.prefix + "-held", Meta: map[string]string{"hold": "yes"}},
		{Task: name, Payload: []byte(`{"n":3}`), Key: h.prefix + "-3", Record: "record-3", Root: "root-3", Meta: map[string]string{"i": "3"}},
	}
	ids, errs := bb.DispatchBatch(h.ctx(), ds)
	if len(ids) != len(ds) || len(errs) != len(ds) {
		t.Fatalf("DispatchBatch returned %d ids and %d errors for %d dispatches", len(ids), len(errs), len(ds))
	}
	for i, err := range errs {
		switch {
		case i == 1 && !errors.Is(err, backend.ErrUnknownTask):
			t.Errorf("the dispatch of an unknown task: %v, want ErrUnknownTask", err)
		case i != 1 && err != nil:
			t.Errorf("dispatch %d: %v", i, err)
		}
	}
	if ids[2] != held {
		t.Errorf("the dispatch of the held run's key: run %q, want %q", ids[2], held)
	}
	seen := map[string]backend.Delivery{}
	for range 2 {
		d := recv(t, got, "a delivery of the batch")
		seen[d.Meta["i"]] = d
	}
	for _, i := range []int{0, 3} {
		d, ok := seen[ds[i].Meta["i"]]
		switch {
		case !ok:
			t.Errorf("dispatch %d not delivered (deliveries %v)", i, seen)
		case d.RunID != ids[i] || !jsonEqual(d.Payload, ds[i].Payload) || d.Record != ds[i].Record || d.Root != ds[i].Root:
			t.Errorf("dispatch %d delivered as %+v; want run %s, payload %s, record %s, root %s", i, d, ids[i], ds[i].Payload, ds[i].Record, ds[i].Root)
		}
	}
	quiet(t, got, "another delivery")
}

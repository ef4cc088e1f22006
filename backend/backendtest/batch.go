package backendtest

import (
	"context"
	"errors"
	"testing"

	"github.com/mageflow-go/mageflow/backend"
)

// testDispatchBatch sends batches of a backend.Batcher: new runs; then
// new runs, a dispatch of a task no worker knows, and one whose key a
// running run holds.
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

	// a batch of new runs
	fresh := []backend.Dispatch{
		{Task: name, Payload: []byte(`{"n":10}`), Meta: map[string]string{"i": "10"}},
		{Task: name, Payload: []byte(`{"n":11}`), Key: h.prefix + "-11", Meta: map[string]string{"i": "11"}},
		{Task: name, Payload: []byte(`{"n":12}`), Key: h.prefix + "-12", Meta: map[string]string{"i": "12"}},
	}
	fids, ferrs := bb.DispatchBatch(h.ctx(), fresh)
	if len(fids) != len(fresh) || len(ferrs) != len(fresh) {
		t.Fatalf("DispatchBatch returned %d ids and %d errors for %d dispatches", len(fids), len(ferrs), len(fresh))
	}
	byMeta := map[string]backend.Delivery{}
	for range fresh {
		d := recv(t, got, "a delivery of the batch of new runs")
		byMeta[d.Meta["i"]] = d
	}
	for i, d := range fresh {
		switch got, ok := byMeta[d.Meta["i"]]; {
		case ferrs[i] != nil:
			t.Errorf("new run %d: %v", i, ferrs[i])
		case !ok || got.RunID != fids[i] || !jsonEqual(got.Payload, d.Payload):
			t.Errorf("new run %d delivered as %+v (%v); want run %s, payload %s", i, got, ok, fids[i], d.Payload)
		}
	}

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

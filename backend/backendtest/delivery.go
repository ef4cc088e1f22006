package backendtest

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"reflect"
	"testing"

	"github.com/mageflow-go/mageflow/backend"
)

func testDelivers(t *testing.T, h *harness) {
	handler, got := recorder(succeed)
	name := h.register(backend.TaskSpec{Name: "deliver", Retries: 2}, handler)
	h.start()

	payload := []byte(`{"n":42,"s":"hi"}`)
	meta := map[string]string{"custom": "value"}
	id := h.dispatch(backend.Dispatch{Task: name, Payload: payload, Record: "record-1", Root: "root-1", Meta: meta})

	d := recv(t, got, "delivery")
	if d.Task != name {
		t.Errorf("Task = %q, want %q", d.Task, name)
	}
	if !jsonEqual(d.Payload, payload) {
		t.Errorf("Payload = %s, want %s", d.Payload, payload)
	}
	if d.Record != "record-1" || d.Root != "root-1" {
		t.Errorf("Record, Root = %q, %q; want record-1, root-1", d.Record, d.Root)
	}
	for k, v := range meta {
		if d.Meta[k] != v {
			t.Errorf("Meta[%q] = %q, want %q (Meta = %v)", k, d.Meta[k], v, d.Meta)
		}
	}
	if d.RunID != id {
		t.Errorf("RunID = %q, want the id Dispatch returned, %q", d.RunID, id)
	}
	quiet(t, got, "second delivery")
}

func testPayloadExact(t *testing.T, h *harness) {
	handler, got := recorder(succeed)
	name := h.register(backend.TaskSpec{Name: "exact"}, handler)
	h.start()

	// ids past 2^53 (9007199254740993 is 2^53+1), as int64 and uint64 ids
	// often are, keep every digit
	payload := []byte(`{"id":9007199254740993,"min":-9223372036854775807,"max":18446744073709551615,"ids":[9007199254740995],"s":"<&>"}`)
	h.dispatch(backend.Dispatch{Task: name, Payload: payload})
	d := recv(t, got, "delivery")
	if !reflect.DeepEqual(exactValue(t, d.Payload), exactValue(t, payload)) {
		t.Errorf("Payload = %s, want %s", d.Payload, payload)
	}
}

// exactValue is the JSON value v with its numbers as written.
func exactValue(t *testing.T, v []byte) any {
	t.Helper()
	dec := json.NewDecoder(bytes.NewReader(v))
	dec.UseNumber()
	var x any
	if err := dec.Decode(&x); err != nil {
		t.Fatalf("payload %s: %v", v, err)
	}
	return x
}

func testAttemptNumbers(t *testing.T, h *harness) {
	type task struct {
		name    string
		retries int
		got     <-chan backend.Delivery
	}
	var tasks []task
	for _, retries := range []int{0, 3} {
		handler, got := recorder(succeed)
		name := h.register(backend.TaskSpec{Name: fmt.Sprintf("attempts-%d", retries), Retries: retries}, handler)
		tasks = append(tasks, task{name, retries, got})
	}
	h.start()

	for _, tk := range tasks {
		h.dispatch(backend.Dispatch{Task: tk.name, Payload: []byte(`{}`)})
	}
	for _, tk := range tasks {
		d := recv(t, tk.got, "delivery")
		if d.Attempt != 1 || d.MaxAttempts != tk.retries+1 {
			t.Errorf("Retries %d: Attempt, MaxAttempts = %d, %d; want 1, %d", tk.retries, d.Attempt, d.MaxAttempts, tk.retries+1)
		}
	}
}

func testDedupeKey(t *testing.T, h *harness) {
	// The first run stays running until the second dispatch: backends may
	// forget a key once its run ended.
	release := make(chan struct{})
	handler, got := recorder(succeed)
	name := h.register(backend.TaskSpec{Name: "dedupe"}, func(ctx context.Context, d backend.Delivery) error {
		err := handler(ctx, d)
		select {
		case <-release:
		case <-ctx.Done():
		}
		return err
	})
	h.start()

	key := h.prefix + "-key"
	first := h.dispatch(backend.Dispatch{Task: name, Payload: []byte(`{"n":1}`), Key: key})
	if d := recv(t, got, "delivery"); d.RunID != first {
		t.Errorf("RunID = %q, want %q", d.RunID, first)
	}
	second := h.dispatch(backend.Dispatch{Task: name, Payload: []byte(`{"n":1}`), Key: key})
	close(release)
	if first != second {
		t.Errorf("run ids = %q, %q; want the same", first, second)
	}
	quiet(t, got, "second delivery")
}

func testDispatchFromHandler(t *testing.T, h *harness) {
	childHandler, child := recorder(succeed)
	childName := h.register(backend.TaskSpec{Name: "child"}, childHandler)
	errs := make(chan error, 8)
	parentName := h.register(backend.TaskSpec{Name: "parent"}, func(ctx context.Context, d backend.Delivery) error {
		_, err := h.b.Dispatch(ctx, backend.Dispatch{Task: childName, Payload: []byte(`{"from":"parent"}`)})
		select {
		case errs <- err:
		default:
		}
		return err
	})
	h.start()

	h.dispatch(backend.Dispatch{Task: parentName, Payload: []byte(`{}`)})
	if err := recv(t, errs, "dispatch from the handler"); err != nil {
		t.Fatalf("Dispatch from the handler: %v", err)
	}
	d := recv(t, child, "delivery of the child")
	if !jsonEqual(d.Payload, []byte(`{"from":"parent"}`)) {
		t.Errorf("child Payload = %s", d.Payload)
	}
}

// jsonEqual reports whether a and b are the same JSON value, or the same
// bytes when either is not JSON.
func jsonEqual(a, b []byte) bool {
	var va, vb any
	if json.Unmarshal(a, &va) != nil || json.Unmarshal(b, &vb) != nil {
		return bytes.Equal(a, b)
	}
	return reflect.DeepEqual(va, vb)
}

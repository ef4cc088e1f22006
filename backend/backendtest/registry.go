package backendtest

import (
	"errors"
	"testing"

	"github.com/mageflow-go/mageflow/backend"
)

func testUnknownTask(t *testing.T, h *harness) {
	handler, _ := recorder(succeed)
	h.register(backend.TaskSpec{Name: "registered"}, handler)
	h.start()

	unknown := h.name("never-registered")
	_, err := h.b.Dispatch(h.ctx(), backend.Dispatch{Task: unknown, Payload: []byte(`{}`)})
	if !errors.Is(err, backend.ErrUnknownTask) {
		t.Fatalf("Dispatch(%q) = %v, want an error wrapping backend.ErrUnknownTask", unknown, err)
	}
}

func testKnown(t *testing.T, h *harness) {
	handler, _ := recorder(succeed)
	name := h.register(backend.TaskSpec{Name: "known"}, handler)
	h.start()

	for _, tc := range []struct {
		name string
		want bool
	}{{name, true}, {h.name("unknown"), false}} {
		got, err := h.b.Known(h.ctx(), tc.name)
		if err != nil || got != tc.want {
			t.Errorf("Known(%q) = %v, %v; want %v, nil", tc.name, got, err, tc.want)
		}
	}
}

func testRegisterTwice(t *testing.T, h *harness) {
	handler, _ := recorder(succeed)
	name := h.register(backend.TaskSpec{Name: "twice"}, handler)
	if err := h.b.Register(backend.TaskSpec{Name: name}, handler); err == nil {
		t.Fatalf("second Register(%q) = nil, want an error", name)
	}
	h.start()
}

func testRegisterAfterStart(t *testing.T, h *harness) {
	handler, _ := recorder(succeed)
	h.register(backend.TaskSpec{Name: "before"}, handler)
	h.start()
	late := h.name("after")
	if err := h.b.Register(backend.TaskSpec{Name: late}, handler); !errors.Is(err, backend.ErrWorkerStarted) {
		t.Fatalf("Register(%q) after Start = %v, want an error wrapping backend.ErrWorkerStarted", late, err)
	}
}

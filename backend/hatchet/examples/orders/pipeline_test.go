package main

import (
	"errors"
	"io"
	"testing"

	"github.com/mageflow-go/mageflow/flow"
	"github.com/mageflow-go/mageflow/flowtest"
)

// The pipeline that runs on Hatchet in production is tested here in
// memory, with package flowtest: no engine, no Redis.

func TestPipelineInMemory(t *testing.T) {
	tk := newTasks(io.Discard)
	e := flowtest.New(t)
	e.Register(tk.all()...)

	receipt, err := flowtest.Run(t, e, tk.pipeline(), Order{ID: "A-1", Items: 3, Cents: 8640})
	want := "receipt: price €86.40, 3 items reserved, address deliverable"
	if err != nil || receipt != want {
		t.Fatalf("Run = %q, %v; want %q", receipt, err, want)
	}
	flowtest.AssertSwarmDispatched(t, e, tk.price, tk.stock, tk.address)
	flowtest.AssertTaskDispatched(t, e, tk.email, flowtest.Exact(want))
	flowtest.AssertTaskNotDispatched(t, e, tk.alert)
	// orders-stock fails its first attempt and is retried at once.
	if st := e.Backend.Stats(); st.Retried != 1 {
		t.Errorf("%d retries; want 1", st.Retried)
	}
}

func TestPipelineInMemoryRejectsAnEmptyOrder(t *testing.T) {
	tk := newTasks(io.Discard)
	e := flowtest.New(t)
	e.Register(tk.all()...)

	_, err := flowtest.Run(t, e, tk.pipeline(), Order{ID: "B-2", Items: 0})
	var failed *flow.FailedError
	if !errors.As(err, &failed) || failed.Info.Task != "orders-validate" {
		t.Fatalf("Run error = %v; want orders-validate failed", err)
	}
	flowtest.AssertTaskDispatched(t, e, tk.alert, flowtest.Partial(flow.Failure[Order]{Input: Order{ID: "B-2"}}))
	flowtest.AssertTaskNotDispatched(t, e, tk.price)
}

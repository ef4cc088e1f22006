package main

import (
	"context"
	"errors"
	"io"
	"testing"

	"github.com/mageflow-go/mageflow/flow"
	"github.com/mageflow-go/mageflow/flowtest"
)

// These tests show package flowtest: the pipeline runs in memory, and the
// tests assert what it dispatched.

var kettle = Order{ID: "A-1", Items: []Item{{SKU: "KETTLE", Qty: 1, Cents: 39_90}}}

func TestPipelineDispatchesTheChecksAndTheReceipt(t *testing.T) {
	s := newShop(&printer{w: io.Discard})
	e := flowtest.New(t)
	e.Register(s.tasks()...)

	receipt, err := flowtest.Run(t, e, s.pipeline(), kettle)
	if err != nil || receipt.TotalCents != 39_90+4_90 {
		t.Fatalf("Run = %+v, %v; want the kettle and shipping", receipt, err)
	}
	flowtest.AssertChainDispatched(t, e, s.validate, s.scoreFraud, flowtest.Label("swarm"), s.makeReceipt)
	flowtest.AssertSwarmDispatched(t, e, s.quotePrice, s.checkAddress, s.reserveStock, s.shipping)
	// The bound argument travels with the input.
	flowtest.AssertTaskDispatched(t, e, s.reserveStock, flowtest.Partial(flow.Args[string, Order]{Args: "BER-1"}))
	flowtest.AssertTaskDispatched(t, e, s.emailReceipt, flowtest.Partial(Receipt{Order: "A-1", TotalCents: 44_80}))
	flowtest.AssertTaskNotDispatched(t, e, s.alertOps)
}

func TestPipelineAlertsOpsWhenTheFraudCheckRejects(t *testing.T) {
	s := newShop(&printer{w: io.Discard})
	e := flowtest.New(t)
	e.Register(s.tasks()...)
	flowtest.Stub(e, s.scoreFraud, func(ctx context.Context, o Order) (Order, error) {
		return o, errors.New("fraud service: down")
	})

	_, err := flowtest.Run(t, e, s.pipeline(), kettle)
	var failed *flow.FailedError
	if !errors.As(err, &failed) || failed.Info.Task != "score-fraud" || failed.Info.Attempts != 3 {
		t.Fatalf("Run error = %v; want score-fraud failed after its 3 attempts", err)
	}
	flowtest.AssertTaskDispatched(t, e, s.alertOps, flowtest.Where("names the failed task", func(f flow.Failure[Order]) bool {
		return f.Input.ID == "A-1" && f.Error.Task == "score-fraud"
	}))
	flowtest.AssertTaskNotDispatched(t, e, s.quotePrice)
	flowtest.AssertTaskNotDispatched(t, e, s.emailReceipt)
}

func TestPipelineSurvivesCrashesAndDuplicates(t *testing.T) {
	s := newShop(&printer{w: io.Discard})
	e := flowtest.New(t)
	e.Register(s.tasks()...)
	e.CrashAfterComplete(s.validate, 1)
	e.CrashAfterComplete(s.makeReceipt, 1)
	e.DeliverTwice(s.quotePrice, 1)

	receipt, err := flowtest.Run(t, e, s.pipeline(), kettle)
	if err != nil || receipt.TotalCents != 44_80 {
		t.Fatalf("Run = %+v, %v", receipt, err)
	}
	if st := e.Backend.Stats(); st.FaultsFired != 3 {
		t.Errorf("%d faults fired; want 3", st.FaultsFired)
	}
	n := 0
	for _, d := range e.Dispatches() {
		if d.Task == s.emailReceipt.Name() {
			n++
		}
	}
	if n != 1 {
		t.Errorf("email-receipt dispatched %d times; want once", n)
	}
}

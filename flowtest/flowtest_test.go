package flowtest_test

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mageflow-go/mageflow"
	"github.com/mageflow-go/mageflow/flow"
	"github.com/mageflow-go/mageflow/flowtest"
	"github.com/mageflow-go/mageflow/storage"
	"github.com/mageflow-go/mageflow/task"
)

func TestRunReturnsOutputAndRecordsDispatches(t *testing.T) {
	e := flowtest.New(t)
	e.Register(reserve, price, charge)
	out, err := flowtest.Run(t, e, checkout, Order{ID: 7, Items: []string{"a", "b"}})
	if err != nil || out != "charged 20 for order 7" {
		t.Fatalf("Run = %q, %v; want the charge's output", out, err)
	}
	flowtest.AssertTaskDispatched(t, e, reserve, flowtest.Exact(Order{ID: 7, Items: []string{"a", "b"}}))
	flowtest.AssertTaskDispatched(t, e, charge, flowtest.Partial(Payment{Order: 7}))
	got, ok := flowtest.AssertTaskDispatched(t, e, charge, flowtest.Where("amount above 10", func(p Payment) bool { return p.Amount > 10 }))
	if !ok || got != (Payment{Order: 7, Amount: 20, Card: "visa"}) {
		t.Errorf("matched input = %+v, %v", got, ok)
	}
	flowtest.AssertChainDispatched(t, e, reserve, price, charge)
	if ds := e.Dispatches(); len(ds) != 3 || ds[0].Task != "reserve" || ds[2].Task != "charge" || ds[0].Root != ds[2].Root {
		t.Errorf("Dispatches = %v; want reserve, price, charge of one run", ds)
	}
}

func TestAssertTaskDispatchedSaysWhatDiffered(t *testing.T) {
	e := flowtest.New(t)
	e.Register(reserve, price, charge)
	if _, err := flowtest.Run(t, e, checkout, Order{ID: 7, Items: []string{"a"}}); err != nil {
		t.Fatal(err)
	}
	fake := &fakeTB{}
	if _, ok := flowtest.AssertTaskDispatched(fake, e, charge, flowtest.Partial(Payment{Order: 8})); ok {
		t.Fatal("a partial match on another order matched")
	}
	msg := fake.report()
	for _, want := range []string{`task "charge" was dispatched 1 times, never with input partially`, "-want +got", "Order:", "-", "8", "+", "7"} {
		if !strings.Contains(msg, want) {
			t.Errorf("report lacks %q:\n%s", want, msg)
		}
	}
	// Zero fields of the partial value are not compared; set fields are,
	// including ones the match does not mention being different.
	if strings.Contains(msg, "visa") {
		t.Errorf("report compares a field the partial value left zero:\n%s", msg)
	}

	fake = &fakeTB{}
	flowtest.AssertTaskDispatched(fake, e, double, flowtest.Anything[int]())
	if msg := fake.report(); !strings.Contains(msg, `task "double" was not dispatched`) || !strings.Contains(msg, "reserve ×1, price ×1, charge ×1") {
		t.Errorf("report of a task never dispatched:\n%s", msg)
	}

	fake = &fakeTB{}
	flowtest.AssertTaskDispatched(fake, e, reserve, flowtest.Exact(Order{ID: 7, Items: []string{"a"}, Note: "gift"}))
	if msg := fake.report(); !strings.Contains(msg, "Note") || !strings.Contains(msg, "gift") {
		t.Errorf("exact match report lacks the differing field:\n%s", msg)
	}
}

func TestAssertNothingDispatchedAndClear(t *testing.T) {
	e := flowtest.New(t)
	e.Register(double)
	flowtest.AssertNothingDispatched(t, e)
	if _, err := flowtest.Run(t, e, double, 2); err != nil {
		t.Fatal(err)
	}
	fake := &fakeTB{}
	if flowtest.AssertNothingDispatched(fake, e) {
		t.Fatal("AssertNothingDispatched passed after a run")
	}
	if msg := fake.report(); !strings.Contains(msg, "want nothing dispatched; got 1: double(2)") {
		t.Errorf("report: %s", msg)
	}
	flowtest.AssertTaskNotDispatched(t, e, sum)
	fake = &fakeTB{}
	if flowtest.AssertTaskNotDispatched(fake, e, double) {
		t.Fatal("AssertTaskNotDispatched passed for a dispatched task")
	}
	if msg := fake.report(); !strings.Contains(msg, `want task "double" not dispatched; it was, 1 times: double(2)`) {
		t.Errorf("report: %s", msg)
	}
	e.Clear()
	flowtest.AssertNothingDispatched(t, e)
	fake = &fakeTB{}
	flowtest.AssertTaskDispatched(fake, e, double, flowtest.Exact(2))
	if fake.report() == "" {
		t.Error("a dispatch from before Clear still matched")
	}
}

func TestAssertSwarmDispatched(t *testing.T) {
	e := flowtest.New(t)
	e.Register(double, sum)
	f := flow.Then(flow.Swarm(double, double, flow.Then(double, double)).WithConfig(flow.SwarmConfig{MaxConcurrency: 1}), sum)
	out, err := flowtest.Run(t, e, f, 3)
	if err != nil || out != 24 {
		t.Fatalf("Run = %d, %v; want 6+6+12", out, err)
	}
	rec, ok := flowtest.AssertSwarmDispatched(t, e, double, double, flowtest.Label("chain"))
	if ok && (rec.Swarm == nil || rec.Swarm.Done != 3) {
		t.Errorf("swarm record = %+v; want 3 items done", rec.Swarm)
	}
	flowtest.AssertChainDispatched(t, e, flowtest.Label("swarm"), sum)
	flowtest.AssertChainDispatched(t, e, double, double)

	fake := &fakeTB{}
	flowtest.AssertSwarmDispatched(fake, e, double, double)
	if msg := fake.report(); !strings.Contains(msg, "no swarm with items [double double] was dispatched; swarms started with items: [double double chain]") {
		t.Errorf("report: %s", msg)
	}
	fake = &fakeTB{}
	e.Clear()
	flowtest.AssertChainDispatched(fake, e, double)
	if msg := fake.report(); !strings.Contains(msg, "no chain started (dispatched: nothing)") {
		t.Errorf("report: %s", msg)
	}
}

func TestStubReplacesATask(t *testing.T) {
	e := flowtest.New(t)
	e.Register(reserve, price)
	// charge is not registered: the stub registers it.
	flowtest.Stub(e, charge, func(ctx context.Context, p Payment) (string, error) {
		return "stubbed " + p.Card, nil
	})
	out, err := flowtest.Run(t, e, checkout, Order{ID: 1})
	if err != nil || out != "stubbed visa" {
		t.Fatalf("Run = %q, %v; want the stub's output", out, err)
	}
	flowtest.AssertTaskDispatched(t, e, charge, flowtest.Partial(Payment{Order: 1}))
}

func TestFailOnAttempt(t *testing.T) {
	var runs atomic.Int32
	flaky := task.New("flaky", func(ctx context.Context, n int) (int, error) {
		runs.Add(1)
		return n + 1, nil
	}, task.WithRetries(2), task.WithBackoff(time.Hour, time.Hour))

	e := flowtest.New(t)
	e.Register(flaky)
	e.FailOnAttempt(flaky, 1, nil)
	e.FailOnAttempt(flaky, 2, nil)
	// The backoff of an hour is not waited: an Env retries at once.
	out, err := flowtest.Run(t, e, flaky, 1)
	if err != nil || out != 2 {
		t.Fatalf("Run = %d, %v; want 2 after two injected failures", out, err)
	}
	if n := runs.Load(); n != 1 {
		t.Errorf("the task's function ran %d times; want 1 (attempts 1 and 2 were failed for it)", n)
	}
	if s := e.Backend.Stats(); s.Retried != 2 {
		t.Errorf("retries = %d; want 2", s.Retried)
	}

	e.FailOnAttempt(flaky, 3, task.NonRetryable(errors.New("card declined")))
	_, err = flowtest.Run(t, e, flaky, 1)
	var fe *flow.FailedError
	if !errors.As(err, &fe) || fe.Info.Message != "card declined" || fe.Info.Attempts != 3 {
		t.Fatalf("Run = %v; want the injected failure on attempt 3", err)
	}
}

func TestDeliverTwiceRunsTheFlowOnce(t *testing.T) {
	var charged atomic.Int32
	once := task.New("charge-once", func(ctx context.Context, p Payment) (string, error) {
		charged.Add(1)
		return "ok", nil
	})
	e := flowtest.New(t)
	e.Register(reserve, price, once)
	e.DeliverTwice(once, 1)
	out, err := flowtest.Run(t, e, flow.Then(flow.Then(reserve, price), once), Order{ID: 3})
	if err != nil || out != "ok" {
		t.Fatalf("Run = %q, %v", out, err)
	}
	if n := charged.Load(); n != 1 {
		t.Errorf("task delivered twice ran %d times; want 1", n)
	}
	if s := e.Backend.Stats(); s.FaultsFired != 1 || s.Dispatched != 4 {
		t.Errorf("stats = %+v; want the fault fired once, and 4 runs", s)
	}
	if n := len(e.Dispatches()); n != 3 {
		t.Errorf("%d dispatches recorded; want 3 (the duplicate is a delivery, not a dispatch)", n)
	}
}

func TestCrashAfterCompleteLosesNothing(t *testing.T) {
	e := flowtest.New(t)
	e.Register(reserve, price, charge)
	e.CrashAfterComplete(reserve, 1)
	e.CrashAfterComplete(price, 1)
	out, err := flowtest.Run(t, e, checkout, Order{ID: 4, Items: []string{"x"}})
	if err != nil || out != "charged 10 for order 4" {
		t.Fatalf("Run = %q, %v", out, err)
	}
	if s := e.Backend.Stats(); s.FaultsFired != 2 || s.Redelivered != 2 {
		t.Errorf("stats = %+v; want 2 crashes and 2 redeliveries", s)
	}
	flowtest.AssertChainDispatched(t, e, reserve, price, charge)
}

func TestClockExpiresRecords(t *testing.T) {
	e := flowtest.New(t, flowtest.WithClientOptions(mageflow.WithTTL(time.Hour, time.Minute)))
	e.Register(double)
	r, err := flow.Start(t.Context(), e.Client, double, 1)
	if err != nil {
		t.Fatal(err)
	}
	e.Quiesce()
	if rec := e.Record(r.ID()); !rec.Finished {
		t.Fatalf("record %+v; want finished", rec)
	}
	e.Clock.Advance(59 * time.Second)
	e.Record(r.ID())
	e.Clock.Advance(time.Second)
	if _, err := e.Store.Get(t.Context(), r.ID()); !errors.Is(err, storage.ErrNotFound) {
		t.Fatalf("Get after the done TTL = %v; want ErrNotFound", err)
	}
}

func TestQuiesceFailsWhenWorkNeverEnds(t *testing.T) {
	release := make(chan struct{})
	block := task.New("block", func(ctx context.Context, n int) (int, error) {
		<-release
		return n, nil
	})
	fake := &fakeTB{}
	e := flowtest.New(fake, flowtest.WithTimeout(20*time.Millisecond))
	e.Register(block)
	if _, err := flow.Start(t.Context(), e.Client, block, 1); err != nil {
		t.Fatal(err)
	}
	e.Quiesce()
	if msg := fake.report(); !strings.Contains(msg, "FATAL flowtest: still running after 20ms") || !strings.Contains(msg, "block(1)") {
		t.Errorf("report: %s", msg)
	}
	close(release)
	for _, c := range fake.cleanups {
		c()
	}
}

func TestRunFailsOnAnUnknownTask(t *testing.T) {
	fake := &fakeTB{}
	e := flowtest.New(t)
	flowtest.Run(fake, e, double, 1)
	if msg := fake.report(); !strings.Contains(msg, "FATAL flowtest: start:") || !strings.Contains(msg, "unknown task") {
		t.Errorf("report: %s", msg)
	}
}

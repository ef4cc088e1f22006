package flowtest_test

import (
	"context"
	"errors"
	"fmt"
	"testing"

	"github.com/mageflow-go/mageflow/flow"
	"github.com/mageflow-go/mageflow/flowtest"
	"github.com/mageflow-go/mageflow/task"
)

// printTB stands in for the *testing.T a test would pass: it prints what
// the helpers report.
type printTB struct {
	testing.TB // nil: the helpers call only the methods below
	cleanups   []func()
}

func (p *printTB) Helper()                           {}
func (p *printTB) Errorf(format string, args ...any) { fmt.Printf("ERROR "+format+"\n", args...) }
func (p *printTB) Fatalf(format string, args ...any) { fmt.Printf("FATAL "+format+"\n", args...) }
func (p *printTB) Cleanup(f func())                  { p.cleanups = append(p.cleanups, f) }
func (p *printTB) done() {
	for _, f := range p.cleanups {
		f()
	}
}

func Example() {
	t := &printTB{} // in a test: t *testing.T
	defer t.done()

	e := flowtest.New(t)
	e.Register(double, sum)
	total, err := flowtest.Run(t, e, flow.Then(flow.Swarm(double, double, double), sum), 5)
	fmt.Println(total, err)

	_, ok := flowtest.AssertTaskDispatched(t, e, double, flowtest.Exact(5))
	fmt.Println("double(5) dispatched:", ok)
	_, ok = flowtest.AssertSwarmDispatched(t, e, double, double, double)
	fmt.Println("swarm of three doubles:", ok)
	// Output:
	// 30 <nil>
	// double(5) dispatched: true
	// swarm of three doubles: true
}

func ExampleStub() {
	t := &printTB{}
	defer t.done()

	e := flowtest.New(t)
	e.Register(reserve, price)
	// The payment provider is not called in tests.
	flowtest.Stub(e, charge, func(ctx context.Context, p Payment) (string, error) {
		if p.Amount > 100 {
			return "", errors.New("declined")
		}
		return "approved", nil
	})
	out, err := flowtest.Run(t, e, checkout, Order{ID: 1, Items: []string{"tea"}})
	fmt.Println(out, err)
	// Output:
	// approved <nil>
}

func ExampleEnv_CrashAfterComplete() {
	t := &printTB{}
	defer t.done()

	e := flowtest.New(t)
	e.Register(reserve, price, charge)
	// The worker dies after price's result is stored and before charge is
	// sent; the run is delivered again and the flow goes on once.
	e.CrashAfterComplete(price, 1)
	out, err := flowtest.Run(t, e, checkout, Order{ID: 2, Items: []string{"tea", "cup"}})
	fmt.Println(out, err)
	fmt.Println("redeliveries:", e.Backend.Stats().Redelivered)
	// Output:
	// charged 20 for order 2 <nil>
	// redeliveries: 1
}

// A test fails a flow, fixes the stub and retries the flow: only the
// failed step runs again.
func ExampleRetry() {
	t := &printTB{}
	defer t.done()

	e := flowtest.New(t)
	e.Register(reserve, price)
	flowtest.Stub(e, charge, func(ctx context.Context, p Payment) (string, error) {
		return "", task.NonRetryable(errors.New("provider down"))
	})
	run := flowtest.Start(t, e, checkout, Order{ID: 3, Items: []string{"tea"}})
	_, err := run.Wait(context.Background())
	fmt.Println("failed:", err != nil)

	flowtest.Stub(e, charge, func(ctx context.Context, p Payment) (string, error) {
		return fmt.Sprintf("charged %d", p.Amount), nil
	})
	e.Clear()
	out, err := flowtest.Retry(t, e, run)
	fmt.Println(out, err)
	for _, d := range e.Dispatches() {
		fmt.Println("ran again:", d.Task, string(d.Input))
	}
	// Output:
	// failed: true
	// charged 10 <nil>
	// ran again: charge {"Order":3,"Amount":10,"Card":"visa"}
}

package flowtest_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"

	"github.com/mageflow-go/mageflow/flow"
	"github.com/mageflow-go/mageflow/task"
)

// Order and Payment are the inputs of the tasks below.
type Order struct {
	ID    int
	Items []string
	Note  string
}

type Payment struct {
	Order  int
	Amount int
	Card   string
}

var (
	reserve = task.New("reserve", func(ctx context.Context, o Order) (Order, error) { return o, nil })
	price   = task.New("price", func(ctx context.Context, o Order) (Payment, error) {
		return Payment{Order: o.ID, Amount: 10 * len(o.Items), Card: "visa"}, nil
	})
	charge = task.New("charge", func(ctx context.Context, p Payment) (string, error) {
		return fmt.Sprintf("charged %d for order %d", p.Amount, p.Order), nil
	})
	checkout = flow.Then(flow.Then(reserve, price), charge)

	double = task.New("double", func(ctx context.Context, n int) (int, error) { return 2 * n, nil })
	sum    = task.New("sum", func(ctx context.Context, xs []int) (int, error) {
		s := 0
		for _, x := range xs {
			s += x
		}
		return s, nil
	})
)

// fakeTB records what the helpers report, so that their failures can be
// tested.
type fakeTB struct {
	testing.TB // nil: the helpers call only the methods below
	mu         sync.Mutex
	errors     []string
	fatal      string
	cleanups   []func()
}

func (f *fakeTB) Helper() {}

func (f *fakeTB) Errorf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.errors = append(f.errors, fmt.Sprintf(format, args...))
}

func (f *fakeTB) Fatalf(format string, args ...any) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.fatal = fmt.Sprintf(format, args...)
}

func (f *fakeTB) Cleanup(fn func()) { f.cleanups = append(f.cleanups, fn) }

// report returns everything reported, one line per report.
func (f *fakeTB) report() string {
	f.mu.Lock()
	defer f.mu.Unlock()
	s := strings.Join(f.errors, "\n")
	if f.fatal != "" {
		s += "\nFATAL " + f.fatal
	}
	return s
}

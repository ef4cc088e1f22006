package hatchet_test

import (
	"context"
	"testing"
	"time"

	"github.com/mageflow-go/mageflow/backend"
	hatchetbackend "github.com/mageflow-go/mageflow/backend/hatchet"
)

// A task that runs longer than the lease keeps it: the backend renews it,
// and Hatchet does not take the run back and deliver it again.
func TestLeaseRenewedWhileTaskRuns(t *testing.T) {
	if testing.Short() {
		t.Skip("runs a task for 8 s on a local engine")
	}
	b := newBackendWith(t, hatchetbackend.WithLease(3*time.Second))
	name := "lease-" + t.Name()
	attempts := make(chan int, 4)
	ended := make(chan error, 4) // nil: the work was done
	err := b.Register(backend.TaskSpec{Name: name, Retries: 2}, func(ctx context.Context, d backend.Delivery) error {
		attempts <- d.Attempt
		work := time.NewTimer(8 * time.Second) // longer than the lease
		defer work.Stop()
		select {
		case <-work.C:
			ended <- nil
			return nil
		case <-ctx.Done():
			ended <- ctx.Err()
			return ctx.Err()
		}
	})
	if err != nil {
		t.Fatal(err)
	}
	stop, err := b.Start(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer stop(context.Background())
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if _, err := b.Dispatch(ctx, backend.Dispatch{Task: name, Payload: []byte(`1`), Key: name}); err != nil {
		t.Fatal(err)
	}
	if a := <-attempts; a != 1 {
		t.Fatalf("first delivery is attempt %d", a)
	}
	if err := <-ended; err != nil {
		t.Fatalf("the run was stopped before its work was done (%v): the lease was not renewed", err)
	}
	select {
	case a := <-attempts:
		t.Fatalf("delivered again (attempt %d) while the first ran", a)
	default:
	}
}

func TestWithLeaseRejectsShortLeases(t *testing.T) {
	if err := hatchetbackend.WithLease(time.Second)(&hatchetbackend.Backend{}); err == nil {
		t.Error("WithLease(1s) accepted")
	}
}

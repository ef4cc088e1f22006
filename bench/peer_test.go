package bench

import (
	"context"
	"errors"
	"testing"
)

// peer is one framework running the side-by-side workloads: a chain of
// no-op steps, and a group of no-op items with a callback that takes
// their results. Preparing a workload is not timed; running it is.
type peer interface {
	// chain readies a chain of n steps that each add 1; run starts it
	// with 0 and returns the chain's result, n when all went well.
	chain(tb testing.TB, n int) (run func(ctx context.Context) (int, error))
	// chord readies n items that each turn 0 into 1, with a callback that
	// sums their results; run starts them and returns the sum once the
	// callback has run, or an error wrapping errNoCallback when ctx ends
	// first.
	chord(tb testing.TB, n int) (run func(ctx context.Context) (int, error))
	// stop stops the worker, waiting for the tasks it runs. Later calls
	// do nothing.
	stop(tb testing.TB)
	// callbacks returns how many times a chord callback has run.
	callbacks() int64
}

// errNoCallback is wrapped by the error of a chord whose callback did not
// run in time.
var errNoCallback = errors.New("chord callback did not run")

// peers makes each framework, by the name its sub-benchmarks carry.
var peers = []struct {
	name string
	new  func(tb testing.TB) peer
}{
	{"machinery", func(tb testing.TB) peer { return newMachinery(tb) }},
	{"mageflow", func(tb testing.TB) peer { return newMageflow(tb) }},
}

// drain empties c of what an earlier run left in it.
func drain[T any](c chan T) {
	for {
		select {
		case <-c:
		default:
			return
		}
	}
}

package bench

import (
	"context"
	"errors"
	"strconv"
	"testing"
	"time"
)

// chainBound is how long a chain of the benchmarks may take.
const chainBound = 5 * time.Minute

// BenchmarkChain1000 measures a chain of 1,000 no-op steps, from starting
// it to reading its result: on machinery with a Redis broker and result
// backend, on mageflow with the memory backend and the Redis store. Each
// iteration runs the whole chain; use -benchtime 1x -count N.
func BenchmarkChain1000(b *testing.B) {
	const steps = 1000
	for _, pe := range peers {
		b.Run(pe.name, func(b *testing.B) {
			p := pe.new(b)
			b.ResetTimer()
			for range b.N {
				b.StopTimer()
				run := p.chain(b, steps)
				ctx, cancel := context.WithTimeout(context.Background(), chainBound)
				b.StartTimer()
				out, err := run(ctx)
				b.StopTimer()
				cancel()
				if err != nil || out != steps {
					b.Fatalf("chain of %d = %d, %v; want %d", steps, out, err, steps)
				}
			}
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N*steps), "ns/step")
		})
	}
}

// BenchmarkGroupChord measures a group of no-op tasks with a callback
// taking their results, from submitting it until the callback has run: a
// machinery group with a chord callback, and a mageflow swarm (at most 100
// items at once) with an OnSuccess callback. tasks/s counts the items and
// the callback; callbacks is how many times the callback ran per
// iteration (1 is right, 0 means it did not run within the bound, which
// the log then says). Each iteration runs the whole group; use
// -benchtime 1x -count N.
func BenchmarkGroupChord(b *testing.B) {
	for _, size := range []struct {
		n     int
		bound time.Duration
	}{{2000, 5 * time.Minute}, {5000, 10 * time.Minute}} {
		b.Run(strconv.Itoa(size.n), func(b *testing.B) {
			for _, pe := range peers {
				b.Run(pe.name, func(b *testing.B) {
					benchChord(b, pe.new(b), size.n, size.bound)
				})
			}
		})
	}
}

func benchChord(b *testing.B, p peer, n int, bound time.Duration) {
	b.ResetTimer()
	for range b.N {
		b.StopTimer()
		run := p.chord(b, n)
		ctx, cancel := context.WithTimeout(context.Background(), bound)
		b.StartTimer()
		sum, err := run(ctx)
		b.StopTimer()
		cancel()
		if errors.Is(err, errNoCallback) {
			b.Logf("%v (bound %v)", err, bound)
			b.ReportMetric(0, "callbacks")
			return
		}
		if err != nil || sum != n {
			b.Fatalf("group of %d: callback saw %d, %v; want %d", n, sum, err, n)
		}
	}
	elapsed := b.Elapsed()
	p.stop(b) // waits for the tasks still running, so that late callbacks count
	b.ReportMetric(float64(b.N*(n+1))/elapsed.Seconds(), "tasks/s")
	b.ReportMetric(float64(p.callbacks())/float64(b.N), "callbacks")
}

// TestPeersAgree runs small forms of the benchmarks' workloads on both
// frameworks and checks their results.
func TestPeersAgree(t *testing.T) {
	t.Parallel()
	for _, pe := range peers {
		t.Run(pe.name, func(t *testing.T) {
			t.Parallel()
			p := pe.new(t)
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if out, err := p.chain(t, 20)(ctx); err != nil || out != 20 {
				t.Errorf("chain of 20 = %d, %v; want 20", out, err)
			}
			if sum, err := p.chord(t, 50)(ctx); err != nil || sum != 50 {
				t.Errorf("group of 50: callback saw %d, %v; want 50", sum, err)
			}
			p.stop(t)
			if got := p.callbacks(); got != 1 {
				t.Errorf("callback ran %d times; want 1", got)
			}
		})
	}
}

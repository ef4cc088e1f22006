package flow_test

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"sync/atomic"

	"github.com/mageflow-go/mageflow"
	membackend "github.com/mageflow-go/mageflow/backend/memory"
	"github.com/mageflow-go/mageflow/flow"
	"github.com/mageflow-go/mageflow/inspect"
	"github.com/mageflow-go/mageflow/sig"
	memstore "github.com/mageflow-go/mageflow/storage/memory"
	"github.com/mageflow-go/mageflow/task"
)

// The examples below run on the embedded default: the in-memory backend and
// store. Each builds its own client, registers the tasks its worker runs and
// starts that worker.

func ExampleThen() {
	ctx := context.Background()
	twice := task.New("twice", func(ctx context.Context, n int) (int, error) { return 2 * n, nil })
	format := task.New("format", func(ctx context.Context, n int) (string, error) { return "n=" + strconv.Itoa(n), nil })

	c, _ := mageflow.New(membackend.New(), memstore.New())
	_ = c.Register(twice, format)
	stop, _ := c.StartWorker(ctx)
	defer stop(ctx)

	// twice's output (int) is format's input: a Flow[int, string].
	run, err := flow.Start(ctx, c, flow.Then(twice, format), 21)
	if err != nil {
		fmt.Println(err)
		return
	}
	out, err := run.Wait(ctx)
	fmt.Println(out, err)
	// Output: n=42 <nil>
}

func ExampleChain() {
	ctx := context.Background()
	twice := task.New("twice", func(ctx context.Context, n int) (int, error) { return 2 * n, nil })
	plusOne := task.New("plus-one", func(ctx context.Context, n int) (int, error) { return n + 1, nil })

	c, _ := mageflow.New(membackend.New(), memstore.New())
	_ = c.Register(twice, plusOne)
	stop, _ := c.StartWorker(ctx)
	defer stop(ctx)

	// Steps of one type chain without nesting: ((5*2)+1)*2.
	run, err := flow.Start(ctx, c, flow.Chain(twice, plusOne, twice), 5)
	if err != nil {
		fmt.Println(err)
		return
	}
	out, err := run.Wait(ctx)
	fmt.Println(out, err)
	// Output: 22 <nil>
}

func ExampleSwarm() {
	ctx := context.Background()
	twice := task.New("twice", func(ctx context.Context, n int) (int, error) { return 2 * n, nil })
	plusOne := task.New("plus-one", func(ctx context.Context, n int) (int, error) { return n + 1, nil })

	c, _ := mageflow.New(membackend.New(), memstore.New())
	_ = c.Register(twice, plusOne)
	stop, _ := c.StartWorker(ctx)
	defer stop(ctx)

	// Every item receives the swarm's input; at most two run at once. A
	// chain can be an item. The output is in item order, whatever order
	// the items finish in.
	s := flow.Swarm(twice, plusOne, flow.Then(twice, twice)).
		WithConfig(flow.SwarmConfig{MaxConcurrency: 2})
	run, err := flow.Start(ctx, c, s, 10)
	if err != nil {
		fmt.Println(err)
		return
	}
	out, err := run.Wait(ctx)
	fmt.Println(out, err)
	// Output: [20 11 40] <nil>
}

func ExampleOnSuccess() {
	ctx := context.Background()
	twice := task.New("twice", func(ctx context.Context, n int) (int, error) { return 2 * n, nil })
	sent := make(chan int, 1)
	notify := task.New("notify", func(ctx context.Context, n int) (struct{}, error) {
		sent <- n
		return struct{}{}, nil
	})

	c, _ := mageflow.New(membackend.New(), memstore.New())
	_ = c.Register(twice, notify)
	stop, _ := c.StartWorker(ctx)
	defer stop(ctx)

	// notify receives twice's output; the flow's output stays twice's.
	run, err := flow.Start(ctx, c, flow.OnSuccess(twice, notify), 21)
	if err != nil {
		fmt.Println(err)
		return
	}
	out, err := run.Wait(ctx)
	fmt.Println("result:", out, err)
	// The callback may still be running when Wait returns.
	fmt.Println("notified:", <-sent)
	// Output:
	// result: 42 <nil>
	// notified: 42
}

func ExampleOnError() {
	ctx := context.Background()
	invert := task.New("invert", func(ctx context.Context, n int) (float64, error) {
		if n == 0 {
			return 0, task.NonRetryable(errors.New("division by zero"))
		}
		return 1 / float64(n), nil
	}, task.WithRetries(3))
	alerts := make(chan flow.Failure[int], 1)
	alert := task.New("alert", func(ctx context.Context, f flow.Failure[int]) (struct{}, error) {
		alerts <- f
		return struct{}{}, nil
	})

	c, _ := mageflow.New(membackend.New(), memstore.New())
	_ = c.Register(invert, alert)
	stop, _ := c.StartWorker(ctx)
	defer stop(ctx)

	// alert runs when invert fails for good, with invert's input.
	run, err := flow.Start(ctx, c, flow.OnError(invert, alert), 0)
	if err != nil {
		fmt.Println(err)
		return
	}
	_, err = run.Wait(ctx)
	var failed *flow.FailedError
	if errors.As(err, &failed) {
		fmt.Println("run failed:", failed.Info)
	}
	f := <-alerts
	fmt.Printf("alert: input %d: %s\n", f.Input, f.Error.Message)
	// Output:
	// run failed: invert: division by zero (error after 1 attempt)
	// alert: input 0: division by zero
}

func ExampleBind() {
	ctx := context.Background()
	// greet takes a greeting bound when the flow is built, and the name
	// that flows into it.
	greet := task.New("greet", func(ctx context.Context, a flow.Args[string, string]) (string, error) {
		return a.Args + ", " + a.In + "!", nil
	})

	c, _ := mageflow.New(membackend.New(), memstore.New())
	_ = c.Register(greet)
	stop, _ := c.StartWorker(ctx)
	defer stop(ctx)

	// flow.Bind(greet, ...) is a Flow[string, string].
	s := flow.Swarm(flow.Bind(greet, "Hello"), flow.Bind(greet, "Bonjour"))
	run, err := flow.Start(ctx, c, s, "gopher")
	if err != nil {
		fmt.Println(err)
		return
	}
	out, err := run.Wait(ctx)
	fmt.Printf("%q %v\n", out, err)
	// Output: ["Hello, gopher!" "Bonjour, gopher!"] <nil>
}

func ExampleSignSwarm() {
	ctx := context.Background()
	twice := task.New("twice", func(ctx context.Context, n int) (int, error) { return 2 * n, nil })
	square := task.New("square", func(ctx context.Context, n int) (int, error) { return n * n, nil })

	c, _ := mageflow.New(membackend.New(), memstore.New())
	_ = c.Register(twice, square)
	stop, _ := c.StartWorker(ctx)
	defer stop(ctx)

	// An empty swarm, open for items; it needs explicit types.
	sw, err := flow.SignSwarm(ctx, c, flow.Swarm[int, int]())
	if err != nil {
		fmt.Println(err)
		return
	}
	run, err := sw.Start(ctx, 7)
	if err != nil {
		fmt.Println(err)
		return
	}
	// Items added to a running swarm start as slots free.
	if err := sw.Add(ctx, twice, square); err != nil {
		fmt.Println(err)
		return
	}
	if err := sw.Add(ctx, flow.Then(twice, square)); err != nil {
		fmt.Println(err)
		return
	}
	// No more items: the swarm completes once they all ended.
	if err := sw.Close(ctx); err != nil {
		fmt.Println(err)
		return
	}
	out, err := run.Wait(ctx)
	fmt.Println(out, err)
	// Output: [14 49 196] <nil>
}

func ExampleSign() {
	ctx := context.Background()
	twice := task.New("twice", func(ctx context.Context, n int) (int, error) { return 2 * n, nil })
	format := task.New("format", func(ctx context.Context, n int) (string, error) { return "n=" + strconv.Itoa(n), nil })

	c, _ := mageflow.New(membackend.New(), memstore.New())
	_ = c.Register(twice, format)
	stop, _ := c.StartWorker(ctx)
	defer stop(ctx)

	// Store the flow now, start it later.
	s, err := flow.Sign(ctx, c, flow.Then(twice, format))
	if err != nil {
		fmt.Println(err)
		return
	}
	st, _ := s.Status(ctx)
	fmt.Println("signed:", st)

	run, err := s.Start(ctx, 21)
	if err != nil {
		fmt.Println(err)
		return
	}
	out, err := run.Wait(ctx)
	st, _ = run.Status(ctx)
	fmt.Println("started:", out, err, st)
	// Output:
	// signed: pending
	// started: n=42 <nil> done
}

func ExampleAttach() {
	ctx := context.Background()
	twice := task.New("twice", func(ctx context.Context, n int) (int, error) { return 2 * n, nil })

	c, _ := mageflow.New(membackend.New(), memstore.New())
	_ = c.Register(twice)
	stop, _ := c.StartWorker(ctx)
	defer stop(ctx)

	run, err := flow.Start(ctx, c, twice, 21)
	if err != nil {
		fmt.Println(err)
		return
	}
	// The run's id is a string: keep it in a database, pass it to another
	// process, and wait there with a client over the same store.
	id := run.ID()
	again, err := flow.Attach[int](c, id)
	if err != nil {
		fmt.Println(err)
		return
	}
	out, err := again.Wait(ctx)
	fmt.Println(out, err, again.ID() == id)
	// Output: 42 <nil> true
}

// An order waits on a warehouse that is closed for the night: suspend the
// flow, and resume it in the morning.
func ExampleRun_Suspend() {
	ctx := context.Background()
	open := make(chan struct{})
	started := make(chan struct{})
	pick := task.New("pick", func(ctx context.Context, order string) (string, error) {
		close(started)
		<-open // the running step finishes even while suspended
		return order + " picked", nil
	})
	ship := task.New("ship", func(ctx context.Context, s string) (string, error) {
		return s + ", shipped", nil
	})
	c, _ := mageflow.New(membackend.New(), memstore.New())
	_ = c.Register(pick, ship)
	stop, _ := c.StartWorker(ctx)
	defer stop(ctx)

	run, _ := flow.Start(ctx, c, flow.Then(pick, ship), "order-7")
	<-started
	_ = run.Suspend(ctx)
	status, _ := run.Status(ctx)
	fmt.Println("status:", status)
	close(open) // pick finishes; ship does not start while suspended

	_ = run.Resume(ctx)
	out, _ := run.Wait(ctx)
	fmt.Println(out)
	err := run.Resume(ctx)
	fmt.Println(errors.Is(err, mageflow.ErrFinished))
	// Output:
	// status: suspended
	// order-7 picked, shipped
	// true
}

// The errors to match are the root package's, whatever the backend and
// store: here a signed flow started twice, a Resume of a flow that is not
// paused, and a Suspend of a flow that ended.
func Example_errors() {
	ctx := context.Background()
	twice := task.New("twice", func(ctx context.Context, n int) (int, error) { return 2 * n, nil })
	hold := make(chan struct{})
	slow := task.New("slow", func(ctx context.Context, n int) (int, error) { <-hold; return n, nil })

	c, _ := mageflow.New(membackend.New(), memstore.New())
	_ = c.Register(twice, slow)
	stop, _ := c.StartWorker(ctx)
	defer stop(ctx)

	s, _ := flow.Sign(ctx, c, flow.Then(slow, twice))
	run, _ := s.Start(ctx, 1)
	_, err := s.Start(ctx, 1)
	fmt.Println("started twice:", errors.Is(err, mageflow.ErrStarted))
	fmt.Println("resumed while running:", errors.Is(run.Resume(ctx), mageflow.ErrNotPaused))
	close(hold)
	out, _ := run.Wait(ctx)
	fmt.Println("result:", out)
	fmt.Println("suspended after its end:", errors.Is(run.Suspend(ctx), mageflow.ErrFinished))
	// Output:
	// started twice: true
	// resumed while running: true
	// result: 2
	// suspended after its end: true
}

// Interrupt cancels the context of the running tasks. A task that stops
// (returns an error, such as ctx.Err()) runs again on Resume; one that
// returns its result anyway has completed, and does not run again.
func ExampleRun_Interrupt() {
	ctx := context.Background()
	var quitsRuns, finishesRuns atomic.Int32
	started := make(chan struct{}, 2)
	quits := task.New("quits", func(ctx context.Context, n int) (int, error) {
		if quitsRuns.Add(1) == 1 {
			started <- struct{}{}
			<-ctx.Done()
			return 0, ctx.Err() // stops: runs again on Resume
		}
		return 2 * n, nil
	})
	finishes := task.New("finishes", func(ctx context.Context, n int) (int, error) {
		finishesRuns.Add(1)
		started <- struct{}{}
		<-ctx.Done()
		return n, nil // returns its result anyway: completed
	})
	store := memstore.New()
	c, _ := mageflow.New(membackend.New(), store)
	_ = c.Register(quits, finishes)
	stop, _ := c.StartWorker(ctx)
	defer stop(ctx)

	run, _ := flow.Start(ctx, c, flow.Swarm(quits, finishes), 21)
	<-started
	<-started
	_ = run.Interrupt(ctx)
	<-store.Ended(ctx, sig.ChildID(run.ID(), 1)) // finishes completed
	_ = run.Resume(ctx)
	out, _ := run.Wait(ctx)
	fmt.Println(out, "quits ran", quitsRuns.Load(), "times, finishes", finishesRuns.Load())
	// Output: [42 21] quits ran 2 times, finishes 1
}

// Retry runs a failed flow again from where it failed: here the chain's
// first step, which succeeded, does not run again; the second runs with
// the input it had.
func ExampleRun_Retry() {
	ctx := context.Background()
	var down atomic.Bool
	down.Store(true)
	var fetches atomic.Int32
	fetch := task.New("fetch", func(ctx context.Context, id int) (int, error) {
		fetches.Add(1)
		return id * 10, nil
	})
	upload := task.New("upload", func(ctx context.Context, n int) (string, error) {
		if down.Load() {
			return "", task.NonRetryable(errors.New("provider down"))
		}
		return fmt.Sprint("uploaded ", n), nil
	})
	store := memstore.New()
	c, _ := mageflow.New(membackend.New(), store)
	_ = c.Register(fetch, upload)
	stop, _ := c.StartWorker(ctx)
	defer stop(ctx)

	run, _ := flow.Start(ctx, c, flow.Then(fetch, upload), 4)
	_, err := run.Wait(ctx)
	var failed *flow.FailedError
	if errors.As(err, &failed) {
		fmt.Println("failed:", failed.Info.Task, "-", failed.Info.Message)
	}

	down.Store(false) // the provider is back
	if err := run.Retry(ctx); err != nil {
		fmt.Println("retry:", err)
	}
	out, _ := run.Wait(ctx)
	fmt.Println(out, "- fetch ran", fetches.Load(), "time")
	fmt.Println("retry again:", errors.Is(run.Retry(ctx), mageflow.ErrNotFailed))
	// Output:
	// failed: upload - provider down
	// uploaded 40 - fetch ran 1 time
	// retry again: true
}

// Named gives a flow the name the tools show; WithMetadata stores pairs
// to find it by, which every dispatch of the flow carries too (Hatchet
// shows them as run metadata).
func ExampleNamed() {
	ctx := context.Background()
	fetch := task.New("fetch", func(ctx context.Context, id int) (int, error) { return id * 10, nil })
	store := memstore.New()
	c, _ := mageflow.New(membackend.New(), store)
	_ = c.Register(fetch)
	stop, _ := c.StartWorker(ctx)
	defer stop(ctx)

	f := flow.Named("nightly-import", flow.Chain(fetch, fetch))
	run, _ := flow.Start(ctx, c, f, 1, flow.WithMetadata(map[string]string{"customer": "42"}))
	_, _ = run.Wait(ctx)
	root, _ := store.Get(ctx, run.ID())
	s := inspect.Summarize(root)
	fmt.Println(s.Name, s.Kind, s.Status, s.Metadata)
	// Output: nightly-import chain done map[customer:42]
}

// Settled lists every item's outcome, so that a fan-in can act on the
// items that failed.
func ExampleSettled() {
	ctx := context.Background()
	charge := task.New("charge", func(ctx context.Context, a flow.Args[int, string]) (string, error) {
		if a.Args > 1000 {
			return "", task.NonRetryable(errors.New("declined"))
		}
		return fmt.Sprintf("charged %s %d", a.In, a.Args), nil
	})
	c, _ := mageflow.New(membackend.New(), memstore.New())
	_ = c.Register(charge)
	stop, _ := c.StartWorker(ctx)
	defer stop(ctx)

	charges := flow.Swarm(flow.Bind(charge, 500), flow.Bind(charge, 5000), flow.Bind(charge, 700))
	run, _ := flow.Start(ctx, c, flow.Settled(charges), "alice")
	outcomes, _ := run.Wait(ctx)
	for _, o := range outcomes {
		if o.OK() {
			fmt.Println(o.Index, o.Result)
		} else {
			fmt.Println(o.Index, "failed:", o.Error.Message)
		}
	}
	// Output:
	// 0 charged alice 500
	// 1 failed: declined
	// 2 charged alice 700
}

package proptest

import (
	"context"
	"errors"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/mageflow-go/mageflow"
	membackend "github.com/mageflow-go/mageflow/backend/memory"
	"github.com/mageflow-go/mageflow/flow"
	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
	memstore "github.com/mageflow-go/mageflow/storage/memory"
)

// Target is the store a run uses.
type Target struct {
	// Name names the store in messages.
	Name string
	// Store is used by every run; graphs have ids of their own.
	Store storage.Store
	// KeyTTLs returns the time to live of each key holding the graph
	// rooted at root.
	KeyTTLs func(ctx context.Context, root string) (map[string]time.Duration, error)
}

// MemoryTarget returns a target over a fresh memory store, whose graphs'
// TTLs are read from their root's expiry.
func MemoryTarget() Target {
	s := memstore.New()
	return Target{Name: "memory", Store: s, KeyTTLs: func(ctx context.Context, root string) (map[string]time.Duration, error) {
		r, err := s.Get(ctx, root)
		if err != nil {
			return nil, err
		}
		if r.ExpiresAt.IsZero() {
			return map[string]time.Duration{root: -1}, nil
		}
		return map[string]time.Duration{root: time.Until(r.ExpiresAt)}, nil
	}}
}

// DoneTTL is the done TTL of the runs' graphs: shorter than their active
// TTL, so that a check tells which one a graph got.
const DoneTTL = 10 * time.Minute

// Wait bounds each wait of a run: for its output, then for its graph to
// end. A run that takes longer is stuck.
const Wait = 30 * time.Second

// Result is what one run gave.
type Result struct {
	Root string
	// Out and Err are what Run.Wait returned.
	Out int
	Err error
	// Records are the graph's records once it ended, by path.
	Records map[string]*sig.Record
	// Seen is what the tasks observed.
	Seen Seen
	// Frozen is, by swarm path, how many items each failed swarm had
	// entered when first seen failed.
	Frozen map[string]int
	// TTLs are the graph's keys' times to live once it ended.
	TTLs map[string]time.Duration
	// Stats are the backend's counters (faults fired among them).
	Stats membackend.Stats
}

// Retried returns the paths that c's Retry faults fail once.
func (c Case) Retried() map[string]bool {
	out := map[string]bool{}
	for _, f := range c.Faults {
		if f.Kind == Retry {
			out[f.Record] = true
		}
	}
	return out
}

// Execute runs case c on a fresh memory backend over target's store and
// collects what happened. It returns an error when something outside the
// graph's semantics went wrong: the flow could not start, it did not end
// within Wait (stuck), or its records could not be read.
func Execute(ctx context.Context, target Target, c Case) (*Result, error) {
	plan := PlanOf(c.Graph)
	retried := c.Retried()
	obs := NewObserver(plan, retried)
	alpha := NewAlphabet(obs)
	b := membackend.New()
	for _, f := range c.Faults {
		if k, ok := backendFault(f.Kind); ok {
			b.Inject(membackend.Fault{Task: f.Task, Kind: k, Times: f.Times})
		}
	}
	fb := newFaultyBackend(b, c.Faults)
	store := target.Store
	at := pauses(c.Faults)
	var ends *endCounter
	if len(at) > 0 {
		ends = newEndCounter(store, at)
		store = ends
	}
	w := newWatch(newLossyStore(store, c.Faults), plan.slots())
	client, err := mageflow.New(fb, w, mageflow.WithSweep(10*time.Millisecond, 20*time.Millisecond), mageflow.WithTTL(mageflow.DefaultActiveTTL, DoneTTL))
	if err != nil {
		return nil, err
	}
	if err := client.Register(alpha.Tasks()...); err != nil {
		return nil, err
	}
	stop, err := client.StartWorker(ctx)
	if err != nil {
		return nil, err
	}
	stopped := false
	stopWorker := func() error {
		if stopped {
			return nil
		}
		stopped = true
		sctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), Wait)
		defer cancel()
		return stop(sctx)
	}
	defer func() { _ = stopWorker() }()

	run, err := flow.Start(ctx, client, alpha.Build(c.Graph), c.Input)
	if err != nil {
		return nil, fmt.Errorf("start: %w", err)
	}
	res := &Result{Root: run.ID()}
	wctx, cancel := context.WithTimeout(ctx, Wait)
	defer cancel()
	paused, finished := make(chan error, 1), make(chan struct{})
	go func() { paused <- pauseAt(wctx, finished, ends, at, run) }()
	joined := false
	joinPauses := func() error { // once the graph finished: a pause still to come never comes
		if joined {
			return nil
		}
		joined = true
		close(finished)
		return <-paused
	}
	defer func() { _ = joinPauses() }()
	res.Out, res.Err = run.Wait(wctx)
	if wctx.Err() != nil {
		return res, fmt.Errorf("stuck: run %s did not end within %v: %w\n%s", run.ID(), Wait, res.Err, dump(ctx, target.Store, run.ID(), plan))
	}
	if err := waitFinished(wctx, target.Store, run.ID()); err != nil {
		return res, fmt.Errorf("stuck: graph %s ended (%v, %v) but did not finish within %v: %w\n%s", run.ID(), res.Out, res.Err, Wait, err, dump(ctx, target.Store, run.ID(), plan))
	}
	if err := joinPauses(); err != nil {
		return res, err
	}
	if err := stopWorker(); err != nil {
		return res, fmt.Errorf("stop worker: %w", err)
	}
	res.Seen = obs.Seen()
	res.Frozen = w.Frozen()
	res.Stats = b.Stats()
	return res, readEnd(ctx, target, plan, res)
}

// readEnd reads into res the records of the graph of res.Root, which
// ended, and its keys' times to live.
func readEnd(ctx context.Context, target Target, plan *Plan, res *Result) error {
	res.Records = map[string]*sig.Record{}
	var readErr error
	plan.Walk(func(p *Plan) {
		r, err := target.Store.Get(ctx, res.Root+p.Path)
		if err != nil {
			readErr = errors.Join(readErr, err)
			return
		}
		res.Records[p.Path] = r
	})
	if readErr != nil {
		return fmt.Errorf("read records: %w", readErr)
	}
	if target.KeyTTLs != nil {
		var err error
		if res.TTLs, err = target.KeyTTLs(ctx, res.Root); err != nil {
			return fmt.Errorf("read TTLs: %w", err)
		}
	}
	return nil
}

// backendFault returns the memory backend's fault of kind k, if it is one.
func backendFault(k FaultKind) (membackend.FaultKind, bool) {
	switch k {
	case DuplicateDelivery:
		return membackend.DuplicateDelivery, true
	case Redeliver:
		return membackend.Redeliver, true
	case CrashBeforeDispatch:
		return membackend.CrashBeforeDispatch, true
	}
	return 0, false
}

// waitFinished polls the root until its graph finished (terminal, and
// every record entered has ended, callbacks included).
func waitFinished(ctx context.Context, s storage.Store, root string) error {
	tick := time.NewTicker(time.Millisecond)
	defer tick.Stop()
	for {
		r, err := s.Get(ctx, root)
		if err != nil {
			return err
		}
		if r.Finished {
			return nil
		}
		select {
		case <-tick.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
}

// dump describes the graph's records, for a stuck run.
func dump(ctx context.Context, s storage.Store, root string, plan *Plan) string {
	ctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), 5*time.Second)
	defer cancel()
	var lines []string
	plan.Walk(func(p *Plan) {
		r, err := s.Get(ctx, root+p.Path)
		if err != nil {
			lines = append(lines, fmt.Sprintf("  root%s: %v", p.Path, err))
			return
		}
		lines = append(lines, "  "+describe(p.Path, r))
	})
	sort.Strings(lines)
	return strings.Join(lines, "\n")
}

// describe is a one-line view of record r at path.
func describe(path string, r *sig.Record) string {
	s := fmt.Sprintf("root%s %s %s: %s entered=%v attempts=%d live=%d finished=%v outbox=%d", path, r.Kind, r.Name, r.Status, r.Entered, r.Attempts, r.Live, r.Finished, len(r.Outbox))
	if r.Swarm != nil {
		s += fmt.Sprintf(" swarm{next=%d running=%d done=%d failed=%d}", r.Swarm.Next, r.Swarm.Running, r.Swarm.Done, r.Swarm.Failed)
	}
	if r.Error != nil {
		s += fmt.Sprintf(" error={%s %q after %d, %s}", r.Error.Task, r.Error.Message, r.Error.Attempts, r.Error.Kind)
	}
	return s
}

package chaos

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/mageflow-go/mageflow/inspect"
	"github.com/mageflow-go/mageflow/internal/redistest"
	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
)

// Result is the audit of one run.
type Result struct {
	Flows     int // started
	Completed int // ended as expected, with the right output
	Lost      int // record gone before the flow ended
	Stuck     int // not ended within the run's bound
	Wrong     int // ended otherwise than expected, or with a wrong output
	Faults    int // faults injected
	Hit       int // flows running when a fault struck, summed over faults

	Callbacks        int // callbacks that fired (distinct callback records)
	CallbackDups     int // flows whose callback fired more than once, or with a wrong value
	CallbackMissing  int // flows whose callback never fired
	Executions       int // task executions logged
	RerunsAfterKills int // executions of a record again after a run on a killed worker
	RerunsAfterPause int // executions of a record again in a flow Interrupt stopped
	CanceledMidRun   int // callbacks of canceled flows that ran as the cancel struck
	Redelivered      int // task records claimed more than once (Hatchet ran them again)
	Duplicates       int // executions of a record again with no kill to explain it
	NoTTL            int // keys of the store without a TTL
	WorkerExits      int // worker processes that died without being killed

	Problems []string // one line per violation, for the log
	Elapsed  time.Duration
}

// OK reports whether the run kept every promise.
func (res *Result) OK() bool {
	return res.Lost == 0 && res.Stuck == 0 && res.Wrong == 0 && res.CallbackDups == 0 &&
		res.CallbackMissing == 0 && res.Duplicates == 0 && res.NoTTL == 0 && res.WorkerExits == 0
}

func (res *Result) problem(format string, args ...any) {
	if len(res.Problems) < 20 {
		res.Problems = append(res.Problems, fmt.Sprintf(format, args...))
	}
}

// settle waits until every flow of the run ended (its graph finished:
// root terminal and nothing left running), or until bound has passed.
// Store errors (Redis restarting) are retried.
func (r *run) settle(ctx context.Context, bound time.Duration) map[string]*sig.Record {
	ctx, cancel := context.WithTimeout(ctx, bound)
	defer cancel()
	ended := map[string]*sig.Record{}
	_ = redistest.Until(ctx, func() bool {
		for _, f := range r.flows {
			if ended[f.root] != nil {
				continue
			}
			rec, err := r.store.Get(ctx, f.root)
			if err != nil || !rec.Finished {
				return false
			}
			ended[f.root] = rec
		}
		return true
	})
	return ended
}

// audit settles the run's flows within bound, then checks them from the
// outside: the records, the execution log and the keys' TTLs.
func (r *run) audit(ctx context.Context, bound time.Duration) *Result {
	res := &Result{Flows: len(r.flows), Faults: r.faults, Hit: r.hit}
	ended := r.settle(ctx, bound)
	res.Elapsed = time.Since(r.began)

	for _, f := range r.flows {
		rec := ended[f.root]
		if rec == nil {
			got, err := r.store.Get(ctx, f.root)
			switch {
			case errors.Is(err, storage.ErrNotFound):
				res.Lost++
				res.problem("flow %s: lost (no record)", f.root)
			case err != nil:
				res.Stuck++
				res.problem("flow %s: not ended within %v (store: %v)", f.root, bound, err)
			default:
				res.Stuck++
				res.problem("flow %s: not ended within %v: root %s, %d records live", f.root, bound, got.Status, got.Live)
			}
			continue
		}
		if msg := outcome(rec, f); msg != "" {
			res.Wrong++
			res.problem("flow %s: %s", f.root, msg)
			continue
		}
		if msg := r.walk(ctx, res, f.root); msg != "" {
			res.Wrong++
			res.problem("flow %s: %s", f.root, msg)
			continue
		}
		res.Completed++
	}

	execs, err := r.readLog(ctx)
	if err != nil {
		res.problem("execution log: %v", err)
		res.Wrong++
		return res
	}
	res.Executions = len(execs)
	r.checkExecutions(res, execs)
	r.checkCallbacks(res, execs)
	r.checkTTLs(ctx, res)
	for _, e := range r.fleet.unexpectedExits() {
		res.WorkerExits++
		res.problem("%s", e)
	}
	return res
}

// walk reads every record of an ended flow: none may still be running,
// and the tasks claimed more than once are counted.
func (r *run) walk(ctx context.Context, res *Result, root string) string {
	tree, err := inspect.Tree(ctx, r.store, root, inspect.TreeOptions{MaxChildren: 1 << 20})
	if err != nil {
		return err.Error()
	}
	var msg string
	var visit func(n *inspect.Node)
	visit = func(n *inspect.Node) {
		rec := n.Record
		if rec.Kind == sig.KindTask && rec.Attempts > 1 {
			res.Redelivered++
		}
		if rec.Entered && !rec.Status.Terminal() && msg == "" {
			msg = fmt.Sprintf("record %s (%s) still %s after the flow ended", rec.ID, rec.Name, rec.Status)
		}
		for _, group := range [][]*inspect.Node{n.Children, n.OnSuccess, n.OnError} {
			for _, c := range group {
				visit(c)
			}
		}
	}
	visit(tree)
	return msg
}

// outcome says how rec differs from what f expects ("" when it does not).
func outcome(rec *sig.Record, f expectation) string {
	if f.canceled {
		// Cancel returned nil: the flow is canceled, or its body had its
		// outcome already and Cancel stopped its callbacks
		if rec.Status == sig.Canceled {
			return ""
		}
		before := f
		before.canceled = false
		if msg := outcome(rec, before); msg != "" {
			return msg + ", or canceled"
		}
		return ""
	}
	if !f.ok {
		if rec.Status != sig.Failed || rec.Error == nil || rec.Error.Task != NameBoom {
			return fmt.Sprintf("ended %s, want failed at %s", rec.Status, NameBoom)
		}
		return ""
	}
	if rec.Status != sig.Done {
		msg := ""
		if rec.Error != nil {
			msg = rec.Error.Task + ": " + rec.Error.Message
		}
		return fmt.Sprintf("ended %s (%s), want done", rec.Status, msg)
	}
	var out int
	if err := json.Unmarshal(rec.Result, &out); err != nil || out != f.out {
		return fmt.Sprintf("output %s, want %d", rec.Result, f.out)
	}
	return ""
}

func (r *run) readLog(ctx context.Context) ([]Exec, error) {
	lines, err := r.logRC.LRange(ctx, r.logKey, 0, -1).Result()
	if err != nil {
		return nil, err
	}
	execs := make([]Exec, 0, len(lines))
	for _, l := range lines {
		e, err := ParseExec(l)
		if err != nil {
			return nil, err
		}
		execs = append(execs, e)
	}
	return execs, nil
}

// checkExecutions counts the records that ran more than once. Running a
// record again is at-least-once delivery doing its work when an earlier
// execution was on a worker the suite killed (Hatchet runs it again), and
// the documented rerun when Interrupt stopped the flow (its running tasks
// run again on Resume); it is a duplicate otherwise.
func (r *run) checkExecutions(res *Result, execs []Exec) {
	interrupted := map[string]bool{}
	for _, f := range r.flows {
		interrupted[f.root] = f.interrupted
	}
	seen := map[string][]Exec{}
	for _, e := range execs {
		prev := seen[e.Record]
		if len(prev) > 0 {
			explained := false
			for _, p := range prev {
				if r.fleet.wasKilled(p.Worker) {
					explained = true
				}
			}
			switch {
			case explained:
				res.RerunsAfterKills++
			case interrupted[e.Root]:
				res.RerunsAfterPause++
			default:
				res.Duplicates++
				res.problem("record %s (%s) ran again on %s after %s, no kill in between", e.Record, e.Task, e.Worker, prev[len(prev)-1].Worker)
			}
		}
		seen[e.Record] = append(prev, e)
	}
}

// checkCallbacks checks that each flow's callback fired exactly once (one
// callback record), of the right kind, with the right value. A canceled
// flow's callback completes never; it may have run once, if the cancel
// found it running.
func (r *run) checkCallbacks(res *Result, execs []Exec) {
	fired := map[string]map[string]Exec{} // root -> callback record -> an execution
	for _, e := range execs {
		if e.Task != NameDone && e.Task != NameFailed {
			continue
		}
		if fired[e.Root] == nil {
			fired[e.Root] = map[string]Exec{}
		}
		fired[e.Root][e.Record] = e
	}
	for _, f := range r.flows {
		cbs := fired[f.root]
		res.Callbacks += len(cbs)
		if f.canceled && len(cbs) <= 1 {
			res.CanceledMidRun += len(cbs)
			continue
		}
		if len(cbs) == 0 {
			res.CallbackMissing++
			res.problem("flow %s: no callback fired", f.root)
			continue
		}
		want, value := NameDone, f.out
		if !f.ok {
			want, value = NameFailed, f.in
		}
		var got []string
		for _, e := range cbs {
			got = append(got, fmt.Sprintf("%s(%d) %s", e.Task, e.Value, e.Record))
		}
		if len(cbs) > 1 {
			res.CallbackDups++
			res.problem("flow %s: %d callbacks fired: %s", f.root, len(cbs), strings.Join(got, ", "))
			continue
		}
		for _, e := range cbs {
			if e.Task != want || e.Value != value {
				res.CallbackDups++
				res.problem("flow %s: callback %s, want %s(%d)", f.root, got[0], want, value)
			}
		}
	}
}

// checkTTLs finds the keys of the run's store that have no TTL.
func (r *run) checkTTLs(ctx context.Context, res *Result) {
	iter := r.rc.Scan(ctx, 0, r.store.Prefix()+":*", 1000).Iterator()
	for iter.Next(ctx) {
		ttl, err := r.rc.PTTL(ctx, iter.Val()).Result()
		if err == nil && ttl == -1 { // -2: expired since the scan
			res.NoTTL++
			res.problem("key %s has no TTL", iter.Val())
		}
	}
	if err := iter.Err(); err != nil {
		res.problem("scan: %v", err)
		res.NoTTL++
	}
}

// String is the run's line in the log.
func (res *Result) String() string {
	return fmt.Sprintf("flows %d, completed %d, lost %d, stuck %d, wrong %d; faults %d hitting %d running flows; callbacks %d (duplicate %d, missing %d, canceled as they ran %d); executions %d, reruns after kills %d, after interrupts %d, duplicates %d, tasks claimed again %d; keys without TTL %d; unexpected worker exits %d; %v",
		res.Flows, res.Completed, res.Lost, res.Stuck, res.Wrong, res.Faults, res.Hit, res.Callbacks, res.CallbackDups, res.CallbackMissing, res.CanceledMidRun,
		res.Executions, res.RerunsAfterKills, res.RerunsAfterPause, res.Duplicates, res.Redelivered, res.NoTTL, res.WorkerExits, res.Elapsed.Round(time.Millisecond))
}

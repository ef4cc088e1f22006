package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"strconv"
	"sync"
	"time"

	"github.com/mageflow-go/mageflow/backend"
	"github.com/mageflow-go/mageflow/internal/graph"
	"github.com/mageflow-go/mageflow/middleware"
	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
	"github.com/mageflow-go/mageflow/storage/transition"
	"github.com/mageflow-go/mageflow/task"
)

// storeTimeout bounds how long the store and dispatch calls that follow a
// task are retried while the store cannot be reached; they run even when
// the task's own context has ended.
const storeTimeout = time.Minute

// StartWorker starts the backend's worker for the registered tasks and the
// worker's background loops: recovering owed effects, and applying the
// lifecycle requests tools queue on the store (when it carries them).
func (e *Engine) StartWorker(ctx context.Context) (func(context.Context) error, error) {
	// the halt is in place before the first delivery; a start that
	// fails (a worker already running) leaves the running one's
	halt := newHalting()
	prev := e.halt.Swap(halt)
	stop, err := e.backend.Start(ctx)
	if err != nil {
		e.halt.CompareAndSwap(halt, prev)
		return nil, fmt.Errorf("mageflow: start worker: %w", err)
	}
	loops := []func(context.Context){e.recoverLoop}
	if q, ok := e.store.(storage.Requests); ok {
		loops = append(loops, func(ctx context.Context) { e.serveRequests(ctx, q) })
	}
	if x, ok := e.store.(storage.Tasks); ok {
		// recorded before the start returns, so that the tools list
		// them as soon as it did, unless the store is slow to answer
		tctx, cancel := context.WithTimeout(ctx, firstTasksWait)
		recorded := e.recordTasks(tctx, x) == nil
		cancel()
		loops = append(loops, func(ctx context.Context) { e.seeTasks(ctx, x, recorded) })
	}
	lctx, cancel := context.WithCancel(context.WithoutCancel(ctx))
	var wg sync.WaitGroup
	for _, loop := range loops {
		wg.Go(func() { loop(lctx) })
	}
	// the claims made ahead are confirmed while the backend drains
	cctx, cancelConfirm := context.WithCancel(context.WithoutCancel(ctx))
	var cwg sync.WaitGroup
	if e.ahead != nil {
		cwg.Go(func() { e.confirmLoop(cctx) })
	}
	var once sync.Once
	return func(ctx context.Context) error {
		// once ctx ends, the calls still running stop retrying a store
		// that cannot be reached: what they could not record is the
		// recovery's, as when the process dies
		unhalt := context.AfterFunc(ctx, halt.close)
		defer unhalt()
		once.Do(func() {
			cancel()
			wg.Wait() // the loops may be sending; stop the backend after them
		})
		err := stop(ctx)
		if ctx.Err() != nil {
			// the backend may see ctx end before the AfterFunc runs,
			// and unhalt would then keep it from running
			halt.close()
		}
		cancelConfirm()
		cwg.Wait()
		if err == nil && halt.gaveUp.Load() {
			// the halted calls returned before the backend looked
			err = fmt.Errorf("mageflow: stop worker: store calls of running tasks given up: %w", ctx.Err())
		}
		return err
	}, nil
}

// requestWait is how long one wait for a lifecycle request lasts.
const requestWait = time.Second

// serveRequests applies the lifecycle requests tools queue on the store
// (mageflow resume, interrupt, cancel) until ctx ends: the worker has the
// backend that a resume dispatches with and an interrupt cancels with.
func (e *Engine) serveRequests(ctx context.Context, q storage.Requests) {
	delay := 10 * time.Millisecond
	for ctx.Err() == nil {
		root, op, ok, err := q.NextRequest(ctx, requestWait)
		if err != nil {
			if ctx.Err() != nil {
				return
			}
			e.log.WarnContext(ctx, "mageflow: read lifecycle requests", slog.Any("error", err), slog.Duration("in", delay))
			select {
			case <-ctx.Done():
				return
			case <-time.After(delay):
			}
			delay = min(2*delay, 5*time.Second)
			continue
		}
		delay = 10 * time.Millisecond
		if !ok {
			continue
		}
		if err := e.Apply(e.detach(ctx), root, op); err != nil {
			e.log.InfoContext(ctx, "mageflow: lifecycle request not applied", slog.String("op", string(op)), slog.String("run", root), slog.Any("error", err))
			continue
		}
		e.log.DebugContext(ctx, "mageflow: lifecycle request applied", slog.String("op", string(op)), slog.String("run", root))
	}
}

// handler returns the backend handler that runs def under the protocol:
// claim, run, then complete or fail, then send what follows.
func (e *Engine) handler(def *graph.TaskDef) backend.Handler {
	return func(ctx context.Context, d backend.Delivery) error {
		id := d.Record
		log := &deliveryLog{base: e.log, task: def.Name(), record: id, run: d.RunID, attempt: d.Attempt}
		if !sig.ValidID(id) {
			log.get().ErrorContext(ctx, "mageflow: delivery without a record id")
			return backend.Final(fmt.Errorf("mageflow: task %s: delivery without a record id", def.Name()))
		}
		// Store calls go on when the task's context ends (timeout,
		// interrupt), so that what the task decided is recorded. Each
		// call is bounded by its client (go-redis's read and write
		// timeouts, the Hatchet backend's call timeout), and retry gives
		// up after storeTimeout, or once the worker halted (detach.go).
		sctx := withMeta(e.detach(ctx), flowMeta(d.Meta))

		var cl storage.Claim
		var err error
		if d.Claimed && e.ahead != nil {
			// the transition that dispatched it claimed it for this run
			cl.Outcome = storage.Claimed
		} else {
			err = e.retry(sctx, "claim", func() (err error) {
				cl, err = e.store.Claim(sctx, id, d.RunID)
				return err
			})
		}
		if errors.Is(err, storage.ErrNotFound) {
			log.get().WarnContext(ctx, "mageflow: record of delivered task not found (expired?); dropped")
			return nil
		}
		if err != nil {
			return fmt.Errorf("mageflow: claim %s: %w", id, err)
		}
		switch cl.Outcome {
		case storage.Claimed:
		case storage.Ended:
			log.get().DebugContext(ctx, "mageflow: redelivered ended task; re-sending its outbox", slog.Int("pending", len(cl.Record.Outbox)))
			return e.owe(e.resend(backend.Tail(sctx), storage.EffectsOf(id, cl.Record.Outbox)), id)
		default:
			log.get().DebugContext(ctx, "mageflow: delivery not run", slog.String("outcome", cl.Outcome.String()))
			return nil
		}

		if d.Meta != nil {
			// a run dispatched again on Resume goes on from its record's
			// attempts; its last one is final whatever the backend has left
			d.Attempt += priorAttempts(d)
		}
		info := task.RunInfo{Record: id, Root: sig.RootOf(id), Task: def.Name(), RunID: d.RunID, Attempt: d.Attempt, MaxAttempts: d.MaxAttempts}
		tctx := withTask(ctx, info, metaInt(d.Meta, metaEpoch))
		tctx.ahead = d.Claimed && e.ahead != nil
		e.track(tctx)
		var x *middleware.Execution
		if len(e.mws) > 0 {
			x = execution(info, flowMeta(d.Meta))
		}
		out, runErr := e.execute(tctx, def, d.Payload, x)
		if x != nil && len(x.Carried()) > 0 {
			// what the attempt causes carries what its middlewares set
			sctx = withMeta(e.detach(ctx), carried(flowMeta(d.Meta), x))
		}
		if def.Spec.Timeout > 0 && errors.Is(ctx.Err(), context.DeadlineExceeded) {
			// the attempt overran its timeout: it fails, whatever it
			// returned late
			runErr = fmt.Errorf("task %s: attempt overran its timeout of %v: %w", def.Name(), def.Spec.Timeout, errors.Join(context.DeadlineExceeded, runErr))
		}
		if runErr == nil {
			var eff storage.Effects
			next := ""
			if e.cont != nil {
				next = e.cont.NextRun(ctx)
			}
			began := time.Now()
			err := e.retry(sctx, "complete", func() (err error) {
				if next != "" {
					// one operation completes this task and claims the
					// one it dispatches alone, which this worker runs next
					eff, err = e.ahead.CompleteAhead(sctx, id, d.RunID, out, next, e.sweep.Grace)
				} else {
					eff, err = e.store.Complete(sctx, id, d.RunID, out)
				}
				return err
			})
			if err != nil {
				return e.ignoreEnded(sctx, log, "complete", id, err)
			}
			if eff.Claimed != "" && time.Since(began) > e.aheadEvery() {
				// too much of the claim's lease went by: the run claims
				// for itself, and finds the claim its own, or taken over
				eff.Claimed = ""
			}
			return e.owe(e.send(backend.Tail(sctx), eff), id)
		}

		final := task.IsNonRetryable(runErr) || d.Attempt >= d.MaxAttempts
		if !final {
			log.get().DebugContext(ctx, "mageflow: attempt failed; the backend retries", slog.Any("error", runErr))
			if e.ahead != nil && e.unconfirmed(tctx) {
				// the retry waits its backoff, which may outlast the
				// claim's lease: the claim becomes the run's own first
				e.confirm(sctx, tctx)
			}
			return runErr
		}
		ei := errorInfo(ctx, def.Name(), runErr, d.Attempt)
		log.get().InfoContext(ctx, "mageflow: task failed", slog.Any("error", runErr), slog.String("kind", string(ei.Kind)))
		var eff storage.Effects
		err = e.retry(sctx, "fail", func() (err error) {
			eff, err = e.store.Fail(sctx, id, d.RunID, ei)
			return err
		})
		if err != nil {
			return e.ignoreEnded(sctx, log, "fail", id, err)
		}
		if err := e.owe(e.send(backend.Tail(sctx), eff), id); err != nil {
			return err
		}
		return backend.Final(runErr)
	}
}

// deliveryLog is the logger of one delivery, with the delivery's fields,
// made only when something is logged.
type deliveryLog struct {
	base              *slog.Logger
	task, record, run string
	attempt           int
	l                 *slog.Logger
}

func (l *deliveryLog) get() *slog.Logger {
	if l.l == nil {
		l.l = l.base.With(slog.String("task", l.task), slog.String("record", l.record), slog.String("run", l.run), slog.Int("attempt", l.attempt))
	}
	return l.l
}

// ignoreEnded turns the errors of a task that ended elsewhere into nil.
func (e *Engine) ignoreEnded(ctx context.Context, log *deliveryLog, what, id string, err error) error {
	if errors.Is(err, storage.ErrCanceled) || errors.Is(err, storage.ErrNotOwner) || errors.Is(err, storage.ErrNotFound) {
		log.get().DebugContext(ctx, "mageflow: result dropped", slog.String("op", what), slog.String("reason", err.Error()))
		return nil
	}
	return fmt.Errorf("mageflow: %s %s: %w", what, id, err)
}

// errorInfo describes a task's final error.
func errorInfo(ctx context.Context, name string, err error, attempt int) sig.ErrorInfo {
	ei := sig.ErrorInfo{Task: name, Message: err.Error(), Attempts: attempt, Kind: sig.ErrorTask}
	var p *task.PanicError
	var dec *task.DecodeError
	switch {
	case errors.As(err, &p):
		ei.Kind = sig.ErrorPanic
		ei.Stack = p.Stack
	case errors.As(err, &dec):
		ei.Kind = sig.ErrorDecode
	case errors.Is(err, context.DeadlineExceeded) && errors.Is(ctx.Err(), context.DeadlineExceeded):
		ei.Kind = sig.ErrorTimeout
	}
	return ei
}

// owe turns the error of delivering the effects of record id into nil,
// logged: what was not delivered stays owed in the store, and a worker's
// recovery delivers it (DefaultRecoverGrace after it was decided). Only a
// backend that does not know a task fails the operation.
func (e *Engine) owe(err error, id string) error {
	if err == nil || errors.Is(err, backend.ErrUnknownTask) {
		return err
	}
	e.log.WarnContext(context.Background(), "mageflow: effects not delivered; they stay owed and a worker recovers them", slog.String("record", id), slog.Any("error", err))
	return nil
}

// send hands the effects of a transition to the backend: it cancels their
// runs, dispatches, and acknowledges what was sent. A transition's lone
// dispatch is not acknowledged here: it is owed by its target, whose
// claim takes it in the same store operation, which saves a round trip per
// step. (With cancels, it is the sender's, and acknowledged with them.)
func (e *Engine) send(ctx context.Context, eff storage.Effects) error {
	if len(eff.Swarms) > 0 && len(e.fanners) > 0 {
		ctx = e.fanOut(ctx, eff)
	}
	err := e.deliver(ctx, eff, len(eff.Dispatches) > 1)
	if eff.Ended != nil && len(e.enders) > 0 {
		e.ended(ctx, eff.Ended)
	}
	return err
}

// resend hands to the backend the dispatches an outbox still owes, and
// acknowledges them all.
func (e *Engine) resend(ctx context.Context, eff storage.Effects) error {
	return e.deliver(ctx, eff, true)
}

// metaAttempts is the metadata key under which a dispatch carries the
// attempts its record made before it (sig.Dispatch.Attempts), when it
// made any: the engine numbers the run's attempts on from them.
const metaAttempts = "mageflow-attempts"

// toBackend is the backend's form of a stored dispatch, carrying the
// flow's metadata meta; claimed is the run the store claimed its target
// for in the operation that returned it, if any.
func toBackend(d sig.Dispatch, meta map[string]string, claimed string) backend.Dispatch {
	bd := backend.Dispatch{
		Task:    d.Task,
		Payload: d.Payload,
		Record:  d.Target,
		Root:    d.Root,
		Key:     d.Key,
		Run:     d.Run,
		// the store claimed its target for the run the backend named
		// (backend.Continuer) in the operation that returned d; sent
		// again, the dispatch names the run, and its claim checks
		Claimed: d.Run != "" && d.Run == claimed,
	}
	bd.Meta = dispatchMeta(meta, d.Attempts, d.Epoch)
	return bd
}

// metaEpoch is the metadata key under which a dispatch carries its
// record's epoch (sig.Dispatch.Epoch), when it is not zero: the flows
// the run starts derive their ids from it.
const metaEpoch = "mageflow-epoch"

// priorAttempts returns the attempts d's record made before its run, as
// its dispatch carried them.
func priorAttempts(d backend.Delivery) int { return metaInt(d.Meta, metaAttempts) }

// metaInt returns the count meta holds under key, or 0.
func metaInt(meta map[string]string, key string) int {
	s, ok := meta[key]
	if !ok {
		return 0
	}
	n, err := strconv.Atoi(s)
	if err != nil || n < 0 {
		return 0
	}
	return n
}

func (e *Engine) deliver(ctx context.Context, eff storage.Effects, ack bool) error {
	var keys []string // delivered, to acknowledge
	if ack || len(eff.Cancels)+len(eff.Flows) > 0 {
		keys = make([]string, 0, len(eff.Dispatches)+len(eff.Cancels)+len(eff.Flows))
	}
	// Stop first, then start: a swarm that stops its items frees their
	// slots only once their runs were told to stop. A cancel is always
	// acknowledged: nothing else takes it out of the outbox.
	var cancelErr error
	for _, run := range eff.Cancels {
		if err := e.backend.Cancel(ctx, run); err != nil {
			cancelErr = errors.Join(cancelErr, fmt.Errorf("mageflow: cancel run %s: %w", run, err))
			continue
		}
		keys = append(keys, transition.CancelKey(run))
	}
	for _, f := range eff.Flows {
		if err := e.cancelFlows(ctx, f); err != nil {
			cancelErr = errors.Join(cancelErr, err)
			continue
		}
		keys = append(keys, transition.FlowsKey(f.Target))
	}
	pending := eff.Dispatches
	var sendErr error
	for try := 1; ; try++ {
		var sent []sig.Dispatch
		sent, pending, sendErr = e.dispatch(ctx, pending, eff.Claimed)
		if keys != nil { // acknowledged with the cancels: no claim takes a dispatch out of its sender's outbox
			for _, d := range sent {
				keys = append(keys, d.Key)
			}
		}
		if len(pending) == 0 || try == sendTries || !refused(sendErr) || !sleep(ctx, sendWait(try)) {
			break
		}
	}
	if len(keys) > 0 {
		if err := e.retry(ctx, "ack", func() error { return e.store.Ack(ctx, eff.Source, keys) }); err != nil {
			// Harmless: recovery delivers again, and keys dedupe.
			e.log.WarnContext(ctx, "mageflow: ack outbox", slog.String("record", eff.Source), slog.Any("error", err))
		}
	}
	return errors.Join(cancelErr, sendErr)
}

// cancelFlows cancels the flows task f.Target started inside it (f.Spawned
// of them, numbered from 1, and any stored after them whose note had not
// been written), which deliver what their own cancels decide: the runs of
// their tasks, and the flows those started.
func (e *Engine) cancelFlows(ctx context.Context, f sig.Dispatch) error {
	var errs error
	for n := 1; ; n++ {
		if err := ctx.Err(); err != nil {
			return errors.Join(errs, err)
		}
		child := sig.DerivedRootID(sig.SpawnBase(f.Target, f.Epoch), n)
		switch err := e.Apply(ctx, child, sig.OpCancel); {
		case err == nil, errors.Is(err, ErrFinished):
		case errors.Is(err, storage.ErrNotFound):
			if n > f.Spawned {
				return errs // past the noted flows: no more
			}
		default:
			errs = errors.Join(errs, fmt.Errorf("mageflow: cancel flow %s started by %s: %w", child, f.Target, err))
			if n > f.Spawned {
				return errs
			}
		}
	}
}

// A dispatch the backend refused is sent again, sendTries times in all,
// after pauses growing fourfold from sendPause to at most a second, with
// jitter: a task queue under load refuses some calls (Hatchet's engine
// refuses triggers beyond its trigger slots, five by default, with
// Internal), and dispatch keys make sending again safe. A dispatch still
// refused stays owed in its outbox, and a worker's recovery delivers it.
const sendTries = 6

// sendPause is the first pause; tests of this module shorten it with
// SetSendPause.
var sendPause = 25 * time.Millisecond

// SetSendPause sets the first pause between the tries of a refused
// dispatch (25 ms by default), for the tests of this module that refuse
// sends for longer than the tries. It must be called before any engine
// sends.
func SetSendPause(d time.Duration) { sendPause = d }

// sendWait is the pause after the try-th send (from 1).
func sendWait(try int) time.Duration {
	d := min(sendPause<<(2*(try-1)), max(time.Second, sendPause))
	return d/2 + rand.N(d)
}

// refused reports whether err, from dispatching, may pass if sent again.
func refused(err error) bool {
	return err != nil && !errors.Is(err, backend.ErrUnknownTask) && !errors.Is(err, backend.ErrStopped) &&
		!errors.Is(err, context.Canceled) && !errors.Is(err, context.DeadlineExceeded)
}

// dispatch sends ds to the backend, in one batch when it takes them, and
// returns those sent, those not sent, and the errors of the latter;
// claimed is the run the store claimed a target for (toBackend).
func (e *Engine) dispatch(ctx context.Context, ds []sig.Dispatch, claimed string) (sent, failed []sig.Dispatch, err error) {
	meta := metaOf(ctx)
	var fanned fanned
	if len(e.fanners) > 0 {
		fanned = fannedOf(ctx)
	}
	if b, ok := e.backend.(backend.Batcher); ok && len(ds) > 1 {
		bds := make([]backend.Dispatch, len(ds))
		for i, d := range ds {
			bds[i] = toBackend(d, fanned.meta(d, meta), claimed)
		}
		_, errs := b.DispatchBatch(ctx, bds)
		for i, derr := range errs {
			if derr != nil {
				failed = append(failed, ds[i])
				err = errors.Join(err, fmt.Errorf("mageflow: dispatch %s (%s): %w", ds[i].Target, ds[i].Task, derr))
				continue
			}
			sent = append(sent, ds[i])
		}
		return sent, failed, err
	}
	for i, d := range ds {
		if _, derr := e.backend.Dispatch(ctx, toBackend(d, fanned.meta(d, meta), claimed)); derr != nil {
			// the rest waits for the next try
			return ds[:i], ds[i:], fmt.Errorf("mageflow: dispatch %s (%s): %w", d.Target, d.Task, derr)
		}
	}
	return ds, nil, nil
}

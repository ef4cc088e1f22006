package engine

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"strings"
	"time"

	"github.com/mageflow-go/mageflow/backend"
	"github.com/mageflow-go/mageflow/internal/graph"
	"github.com/mageflow-go/mageflow/middleware"
	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
)

// maxAddTries bounds the retries of AddItems when other adds race with it.
const maxAddTries = 64

// CreateOptions are the caller's choices for a new graph.
type CreateOptions struct {
	// ID is the graph's id, chosen by the caller; empty for one the
	// engine picks.
	ID string
	// Detached makes a graph created inside a running task independent
	// of the task's graph: canceling that graph does not cancel it.
	Detached bool
	// Metadata is stored on the root and carried by the graph's
	// dispatches (checked by the caller).
	Metadata map[string]string
}

// Create validates s, stores it as a new graph and, with start, enters it
// with input and sends its first dispatches. It returns the root id:
// o.ID when it is set (the caller's flow id), else one it picks, derived
// from the running task when there is one. A graph whose id was given or
// derived, or whose store call may have been applied before its reply
// was lost, is found again instead of created twice. A graph created
// inside a running task, not detached, is noted on the task's record once
// stored (Store.Spawn), so that canceling the task's graph cancels it,
// and so that a retried task does not start again a flow that ended and
// expired; a task that was canceled cancels what it just created.
func (e *Engine) Create(ctx context.Context, s *graph.Spec, start bool, input []byte, o CreateOptions) (string, error) {
	if err := e.validate(ctx, s); err != nil {
		return "", err
	}
	root, derived := o.ID, o.ID != ""
	var parent string // the task whose child the graph is
	var n int
	if root == "" {
		root, derived, parent, n = e.newRootID(ctx, o.Detached)
		if parent != "" && e.startedAndGone(ctx, parent, root, n) {
			// an earlier attempt started it, and it ended and expired
			// since: it is not started again
			return root, nil
		}
	}
	var l lowering
	if err := l.lower(s, root, root, "", sig.RoleRoot, 0); err != nil {
		return "", err
	}
	if len(e.starters) == 0 || !start {
		root, _, err := e.storeGraph(ctx, s, l.recs, start, input, o, root, derived, parent, n)
		return root, err
	}
	st := &middleware.Start{Root: root, Name: l.recs[0].DisplayName(), Kind: l.recs[0].Kind, Parent: scopeParent(ctx), Metadata: maps.Clone(o.Metadata)}
	err := e.start(ctx, st, func(ctx context.Context) error {
		o.Metadata = flowMeta(st.Metadata) // with what the starters carry
		_, existed, err := e.storeGraph(withSent(ctx, st), s, l.recs, start, input, o, root, derived, parent, n)
		st.Existed = existed
		return err
	})
	if err != nil {
		return "", err
	}
	return root, nil
}

// storeGraph stores the graph of spec s lowered to recs, with root id root
// (given or derived, or started by task parent as its n-th flow), and
// with start sends its first dispatches: Create's second half.
func (e *Engine) storeGraph(ctx context.Context, s *graph.Spec, recs []*sig.Record, start bool, input []byte, o CreateOptions, root string, derived bool, parent string, n int) (string, bool, error) {
	if len(o.Metadata) > 0 {
		recs[0].Metadata = maps.Clone(o.Metadata)
		ctx = withMeta(ctx, mergeMeta(o.Metadata, metaOf(ctx)))
	}
	ttl := e.graphTTL(s)
	g := storage.Graph{Records: recs, ActiveTTL: ttl.Active, DoneTTL: ttl.Done, Start: start, Input: input, Owned: true}
	var eff storage.Effects
	uncertain := false // an earlier try may have been applied
	err := e.retry(ctx, "create", func() (err error) {
		eff, err = e.store.CreateGraph(ctx, g)
		if transient(err) {
			uncertain, g.Owned = true, false
		}
		return err
	})
	exists := errors.Is(err, storage.ErrExists) && (derived || uncertain)
	if err != nil && !exists {
		return "", false, fmt.Errorf("mageflow: store flow: %w", err)
	}
	if parent != "" {
		if err := e.noteChild(ctx, parent, root, n); err != nil {
			return "", false, err
		}
	}
	if exists {
		// the caller's id, an earlier attempt of the running task, or
		// this call's own earlier try stored it: reuse it, and send what
		// is still owed
		return root, !uncertain, e.owe(e.resendOutbox(ctx, root), root)
	}
	if err := e.send(ctx, eff); err != nil {
		if errors.Is(err, backend.ErrUnknownTask) {
			// no worker would ever run it: take it back
			e.abandon(root, err)
			return "", false, fmt.Errorf("mageflow: start flow %s: %w", root, err)
		}
		e.owe(err, root)
	}
	return root, false, nil
}

// startedAndGone reports whether the n-th flow of task parent, root, was
// stored by an earlier attempt (the task's Spawned count reached n) and
// no longer is: it ended and expired.
func (e *Engine) startedAndGone(ctx context.Context, parent, root string, n int) bool {
	p, err := e.store.Get(ctx, parent)
	if err != nil || n > p.Spawned {
		return false
	}
	if _, err := e.store.Get(ctx, root); !errors.Is(err, storage.ErrNotFound) {
		return false
	}
	e.log.InfoContext(ctx, "mageflow: flow started by an earlier attempt ended and expired; not started again", slog.String("task", parent), slog.String("root", root))
	return true
}

// noteChild notes on task parent's record that it started its n-th flow,
// root. When the task was canceled meanwhile, root is canceled too.
func (e *Engine) noteChild(ctx context.Context, parent, root string, n int) error {
	err := e.retry(ctx, "spawn", func() error { return e.store.Spawn(ctx, parent, n) })
	if errors.Is(err, storage.ErrCanceled) {
		if aerr := e.Apply(ctx, root, sig.OpCancel); aerr != nil && !errors.Is(aerr, ErrFinished) {
			e.log.WarnContext(ctx, "mageflow: cancel a flow started by a canceled task", slog.String("root", root), slog.Any("error", aerr))
		}
		return fail("start", root, "the task that starts it ("+parent+") was canceled", err, ErrCanceled)
	}
	if err != nil && !errors.Is(err, storage.ErrNotFound) {
		return fmt.Errorf("mageflow: note the flow task %s started: %w", parent, err)
	}
	return nil
}

// StartSigned enters the root of a signed graph with input.
func (e *Engine) StartSigned(ctx context.Context, root string, input []byte) error {
	if len(e.starters) == 0 {
		return e.startSigned(ctx, root, input)
	}
	var r *sig.Record
	if err := e.retry(ctx, "read", func() (err error) { r, err = e.store.Get(ctx, root); return err }); err != nil {
		return e.explain(ctx, "start", root, err)
	}
	st := &middleware.Start{Root: root, Name: r.DisplayName(), Kind: r.Kind, Parent: scopeParent(ctx), Metadata: maps.Clone(r.Metadata)}
	return e.start(ctx, st, func(ctx context.Context) error {
		// the flow keeps what it was signed with; its first dispatches
		// carry what the starters add
		return e.startSigned(withSent(withMeta(ctx, flowMeta(st.Metadata)), st), root, input)
	})
}

// startSigned is StartSigned without the starters.
func (e *Engine) startSigned(ctx context.Context, root string, input []byte) error {
	var eff storage.Effects
	uncertain := false
	err := e.retry(ctx, "start", func() (err error) {
		eff, err = e.store.StartGraph(ctx, root, input)
		uncertain = uncertain || transient(err)
		return err
	})
	if errors.Is(err, storage.ErrState) && (uncertain || e.signedHere(ctx, root)) {
		if r, gerr := e.store.Get(ctx, root); gerr == nil && r.Entered && (uncertain || bytes.Equal(r.Input, input)) {
			// this call's earlier try, or an earlier attempt of the
			// running task that signed it (with the same input), started
			// it
			return e.owe(e.resendOutbox(ctx, root), root)
		}
	}
	if err != nil {
		return e.explain(ctx, "start", root, err)
	}
	if err := e.send(ctx, eff); err != nil {
		if errors.Is(err, backend.ErrUnknownTask) {
			e.abandon(root, err)
			return fmt.Errorf("mageflow: start %s: %w", root, err)
		}
		e.owe(err, root)
	}
	return nil
}

// abandon cancels a graph whose first dispatches could not be sent, so it
// does not linger as a run that never moves.
func (e *Engine) abandon(root string, cause error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	eff, err := e.store.Apply(ctx, root, sig.OpCancel)
	if err != nil {
		e.log.WarnContext(ctx, "mageflow: cancel unstarted flow", slog.String("root", root), slog.String("cause", cause.Error()), slog.Any("error", err))
		return
	}
	if eff.Ended != nil && len(e.enders) > 0 {
		e.ended(ctx, eff.Ended)
	}
}

// AddItems appends items to swarm id and starts what its slots allow. The
// call's first item carries a key chosen before the store is called, so
// that a call repeated after a lost reply finds the items it added
// instead of adding them again.
func (e *Engine) AddItems(ctx context.Context, id string, items []*graph.Spec) error {
	if len(items) == 0 {
		return nil
	}
	for i, it := range items {
		if err := e.validate(ctx, it); err != nil {
			return fail("add items to", id, fmt.Sprintf("item %d: %s", i, strings.TrimPrefix(err.Error(), "mageflow: ")), err)
		}
	}
	key := sig.NewRootID(e.now())
	tried := -1 // the base of a try whose outcome is unknown
	for try := 0; ; try++ {
		var s *sig.Record
		err := e.retry(ctx, "read swarm", func() (err error) {
			s, err = e.store.Get(ctx, id)
			return err
		})
		if err != nil {
			return e.explain(ctx, "add items to", id, err)
		}
		if tried >= 0 && s.Children > tried {
			var it *sig.Record
			err := e.retry(ctx, "read swarm item", func() (err error) {
				it, err = e.store.Get(ctx, sig.ChildID(id, tried))
				return err
			})
			if err == nil && it.Added == key {
				// the try whose reply was lost added them
				return e.owe(e.resendOutbox(ctx, id), id)
			}
		}
		var l lowering
		for i, it := range items {
			if err := l.lower(it, sig.ChildID(id, s.Children+i), s.Root, id, sig.RoleChild, s.Children+i); err != nil {
				return err
			}
		}
		l.recs[0].Added = key
		eff, err := e.store.AddItems(ctx, id, s.Children, l.recs)
		if try < maxAddTries {
			if errors.Is(err, storage.ErrConflict) {
				continue
			}
			if transient(err) {
				tried = s.Children
				if !sleep(ctx, min(10*time.Millisecond<<min(try, 7), time.Second)) {
					return e.explain(ctx, "add items to", id, err)
				}
				continue
			}
		}
		if err != nil {
			return e.explain(ctx, "add items to", id, err)
		}
		return e.owe(e.send(ctx, eff), id)
	}
}

// CloseSwarm closes swarm id.
func (e *Engine) CloseSwarm(ctx context.Context, id string) error {
	var eff storage.Effects
	uncertain := false
	err := e.retry(ctx, "close swarm", func() (err error) {
		eff, err = e.store.CloseSwarm(ctx, id)
		uncertain = uncertain || transient(err)
		return err
	})
	if err != nil {
		return e.explain(ctx, "close", id, err)
	}
	if uncertain {
		// a try whose reply was lost may have closed it: send what that
		// try decided too
		return e.owe(errors.Join(e.send(ctx, eff), e.resendOutbox(ctx, id)), id)
	}
	return e.owe(e.send(ctx, eff), id)
}

// Apply performs a lifecycle operation on the graph rooted at root. An
// operation that finds its own effect (a cancel of a canceled graph, or a
// resume or retry whose earlier try was applied before its reply was
// lost) reports success, and delivers what the graph still owes.
func (e *Engine) Apply(ctx context.Context, root string, op sig.Op) error {
	if op == sig.OpRetry {
		if err := e.awaitEnd(ctx, root); err != nil {
			return err
		}
	}
	var eff storage.Effects
	uncertain := false
	err := e.retry(ctx, string(op), func() (err error) {
		eff, err = e.store.Apply(ctx, root, op)
		uncertain = uncertain || transient(err)
		return err
	})
	if errors.Is(err, storage.ErrState) {
		if r, gerr := e.store.Get(ctx, root); gerr == nil {
			switch {
			case op == sig.OpCancel && r.Status == sig.Canceled,
				(op == sig.OpResume || op == sig.OpRetry) && uncertain && !r.Finished:
				return e.owe(e.resendOutbox(ctx, root), root)
			case op == sig.OpRetry && r.Status != sig.Canceled:
				return fail(string(op), root, notFailed(r), err, ErrNotFailed)
			case r.Finished && r.Status == sig.Canceled:
				return fail(string(op), root, "flow canceled", err, ErrCanceled, ErrFinished)
			case r.Finished:
				return fail(string(op), root, "flow already ended ("+string(r.Status)+")", err, ErrFinished)
			}
		}
	}
	if err != nil {
		return e.explain(ctx, string(op), root, err)
	}
	if len(eff.Dispatches) > 0 || uncertain {
		// what a resume or retry dispatches carries the flow's metadata
		if r, err := e.store.Get(ctx, root); err == nil {
			ctx = withMeta(ctx, r.Metadata)
		}
	}
	if uncertain {
		// a try whose reply was lost may have applied it: deliver what
		// that try decided too
		return e.owe(errors.Join(e.send(ctx, eff), e.resendOutbox(ctx, root)), root)
	}
	return e.owe(e.send(ctx, eff), root)
}

// notFailed says why root r cannot be retried, when it was not canceled.
func notFailed(r *sig.Record) string {
	switch {
	case !r.Finished && r.Status.Terminal():
		return "flow " + string(r.Status) + ", its callbacks still run (retry once they ended)"
	case !r.Finished:
		return "flow not failed (it is " + string(r.Status) + ")"
	}
	return "nothing in the flow failed (it is " + string(r.Status) + ")"
}

// awaitEnd readies a retry of the flow of root: it refuses a flow that
// runs (ErrNotFailed), and waits until one whose root ended has its
// callbacks ended too (Wait returns at its root's end), as the store's
// retry wants.
func (e *Engine) awaitEnd(ctx context.Context, root string) error {
	delay := 5 * time.Millisecond
	for {
		r, err := e.store.Get(ctx, root)
		switch {
		case err != nil:
			return e.explain(ctx, string(sig.OpRetry), root, err)
		case r.Finished || r.Status == sig.Canceled:
			return nil
		case !r.Status.Terminal():
			return fail(string(sig.OpRetry), root, notFailed(r), storage.ErrState, ErrNotFailed)
		}
		if !sleep(ctx, delay) {
			return fail(string(sig.OpRetry), root, "flow "+string(r.Status)+", its callbacks still run: "+ctx.Err().Error(), ctx.Err(), ErrNotFailed)
		}
		delay = min(2*delay, 250*time.Millisecond)
	}
}

package engine

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"time"

	"github.com/mageflow-go/mageflow/internal/graph"
	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
)

// maxAddTries bounds the retries of AddItems when other adds race with it.
const maxAddTries = 64

// Create validates s, stores it as a new graph and, with start, enters it
// with input and sends its first dispatches. It returns the root id.
func (e *Engine) Create(ctx context.Context, s *graph.Spec, start bool, input []byte) (string, error) {
	if err := e.validate(ctx, s); err != nil {
		return "", err
	}
	root, derived := e.newRootID(ctx)
	var l lowering
	if err := l.lower(s, root, root, "", sig.RoleRoot, 0); err != nil {
		return "", err
	}
	ttl := e.graphTTL(s)
	eff, err := e.store.CreateGraph(ctx, storage.Graph{Records: l.recs, ActiveTTL: ttl.Active, DoneTTL: ttl.Done, Start: start, Input: input, Owned: true})
	if derived && errors.Is(err, storage.ErrExists) {
		// an earlier attempt of the running task created it: reuse it,
		// and send what that attempt may not have sent
		return root, e.resendOutbox(ctx, root)
	}
	if err != nil {
		return "", fmt.Errorf("mageflow: store flow: %w", err)
	}
	if err := e.send(ctx, eff); err != nil {
		if !derived {
			// nobody would send it again: take it back
			e.abandon(root, err)
		}
		// else the task fails, and its retry resends
		return "", fmt.Errorf("mageflow: start flow %s: %w", root, err)
	}
	return root, nil
}

// StartSigned enters the root of a signed graph with input.
func (e *Engine) StartSigned(ctx context.Context, root string, input []byte) error {
	eff, err := e.store.StartGraph(ctx, root, input)
	if errors.Is(err, storage.ErrState) && inTask(ctx) && e.derive {
		if r, gerr := e.store.Get(ctx, root); gerr == nil && r.Entered {
			// an earlier attempt of the running task started it
			return e.resendOutbox(ctx, root)
		}
	}
	if err != nil {
		return fmt.Errorf("mageflow: start %s: %w", root, err)
	}
	if err := e.send(ctx, eff); err != nil {
		e.abandon(root, err)
		return fmt.Errorf("mageflow: start %s: %w", root, err)
	}
	return nil
}

// resendOutbox sends the dispatches the outbox of record id still owes.
func (e *Engine) resendOutbox(ctx context.Context, id string) error {
	r, err := e.store.Get(ctx, id)
	if err != nil {
		return fmt.Errorf("mageflow: reuse %s: %w", id, err)
	}
	owed := e.owed(ctx, r.Outbox)
	if len(owed) == 0 {
		return nil
	}
	return e.resend(ctx, storage.Effects{Source: id, Dispatches: owed})
}

// abandon cancels a graph whose first dispatches could not be sent, so it
// does not linger as a run that never moves.
func (e *Engine) abandon(root string, cause error) {
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	if _, err := e.store.Apply(ctx, root, sig.OpCancel); err != nil {
		e.log.Warn("mageflow: cancel unstarted flow", slog.String("root", root), slog.String("cause", cause.Error()), slog.String("error", err.Error()))
	}
}

// AddItems appends items to swarm id and starts what its slots allow.
func (e *Engine) AddItems(ctx context.Context, id string, items []*graph.Spec) error {
	if len(items) == 0 {
		return nil
	}
	for i, it := range items {
		if err := e.validate(ctx, it); err != nil {
			return fmt.Errorf("mageflow: add item %d to swarm %s: %w", i, id, err)
		}
	}
	for try := 0; ; try++ {
		s, err := e.store.Get(ctx, id)
		if err != nil {
			return fmt.Errorf("mageflow: add items to swarm %s: %w", id, err)
		}
		var l lowering
		for i, it := range items {
			if err := l.lower(it, sig.ChildID(id, s.Children+i), s.Root, id, sig.RoleChild, s.Children+i); err != nil {
				return err
			}
		}
		eff, err := e.store.AddItems(ctx, id, s.Children, l.recs)
		if errors.Is(err, storage.ErrConflict) && try < maxAddTries {
			continue
		}
		if err != nil {
			return fmt.Errorf("mageflow: add items to swarm %s: %w", id, err)
		}
		return e.send(ctx, eff)
	}
}

// CloseSwarm closes swarm id.
func (e *Engine) CloseSwarm(ctx context.Context, id string) error {
	eff, err := e.store.CloseSwarm(ctx, id)
	if err != nil {
		return fmt.Errorf("mageflow: close swarm %s: %w", id, err)
	}
	return e.send(ctx, eff)
}

// Apply performs a lifecycle operation on the graph rooted at root.
func (e *Engine) Apply(ctx context.Context, root string, op sig.Op) error {
	eff, err := e.store.Apply(ctx, root, op)
	if errors.Is(err, storage.ErrState) {
		if r, gerr := e.store.Get(ctx, root); gerr == nil && r.Status.Terminal() {
			return fmt.Errorf("mageflow: %s run %s: it is %s: %w", op, root, r.Status, ErrFinished)
		}
	}
	if err != nil {
		return fmt.Errorf("mageflow: %s %s: %w", op, root, err)
	}
	return e.send(ctx, eff)
}

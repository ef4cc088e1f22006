package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"

	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
)

// errEnded wraps the error of an operation on a flow that ended.
var errEnded = errors.New("already ended")

// suspend is `mageflow suspend ID`. Suspending needs no worker: nothing
// is sent, and what is running finishes its attempt.
func suspend(ctx context.Context, s storage.Store, args []string, out io.Writer) error {
	id, err := oneID(flag.NewFlagSet("suspend", flag.ContinueOnError), args)
	if err != nil {
		return err
	}
	r, err := s.Get(ctx, id)
	if err != nil {
		return err
	}
	if r.Role != sig.RoleRoot {
		return fmt.Errorf("%w: %s is not a flow id but a record of flow %s", errUsage, id, r.Root)
	}
	if r.Status.Terminal() {
		return fmt.Errorf("%w: flow %s ended (%s), nothing to suspend", errEnded, id, r.Status)
	}
	if _, err := s.Apply(ctx, id, sig.OpSuspend); err != nil {
		if errors.Is(err, storage.ErrState) {
			return fmt.Errorf("flow %s cannot be suspended now (%s): %w", id, r.Status, err)
		}
		return err
	}
	fmt.Fprintf(out, "suspended %s: nothing new starts until it is resumed\n", id)
	return nil
}

package hatchet

import (
	"context"
	"fmt"
	"log/slog"
	"sync"

	"github.com/google/uuid"
	v0client "github.com/hatchet-dev/hatchet/pkg/client"
	sdk "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/mageflow-go/mageflow/backend"
)

// admins maps the clients NewClient made to the admin client of a legacy
// client of the same configuration, whose BulkRunWorkflow triggers many
// runs in one call: the SDK's own RunMany triggers one per input, and the
// engine takes a few triggers at a time.
var admins sync.Map // *sdk.Client -> v0client.AdminClient

// adminOf returns the bulk-triggering admin client NewClient made with c,
// nil for a client made otherwise.
func adminOf(c *sdk.Client) v0client.AdminClient {
	a, _ := admins.Load(c)
	admin, _ := a.(v0client.AdminClient)
	return admin
}

// dispatchBatchBulk is DispatchBatch with the bulk trigger: the
// dispatches of unknown tasks fail, the others go out in bulk, or one by
// one when a bulk call failed.
func (b *Backend) dispatchBatchBulk(ctx context.Context, admin v0client.AdminClient, ds []backend.Dispatch) ([]string, []error) {
	ids := make([]string, len(ds))
	errs := make([]error, len(ds))
	var known []int // the indexes of the dispatches of known tasks
	for i, d := range ds {
		ok, err := b.Known(ctx, d.Task)
		switch {
		case err != nil:
			errs[i] = err
		case !ok:
			errs[i] = fmt.Errorf("backend/hatchet: dispatch %q: no worker registered it: %w", d.Task, backend.ErrUnknownTask)
		default:
			known = append(known, i)
		}
	}
	part := make([]backend.Dispatch, len(known))
	for j, i := range known {
		part[j] = ds[i]
		if part[j].Key == "" {
			// one key for the bulk call and a one-by-one retry of it:
			// a run the failed call made is found, not made again
			part[j].Key = "nokey-" + uuid.NewString()
		}
	}
	got, err := b.dispatchBulk(ctx, admin, part)
	if err == nil {
		for j, i := range known {
			ids[i] = got[j]
		}
		return ids, errs
	}
	b.log.DebugContext(ctx, "backend/hatchet: bulk dispatch failed; dispatching one by one", slog.Any("error", err))
	sub, subErrs := b.dispatchEach(ctx, part)
	for j, i := range known {
		ids[i], errs[i] = sub[j], subErrs[j]
	}
	return ids, errs
}

// maxBulk bounds the runs of one bulk trigger.
const maxBulk = 500

// dispatchBulk triggers ds, whose tasks are all known and which all have
// a key, with the engine's bulk trigger, in calls of at most maxBulk
// runs, and returns their run ids. It fails whole: a batch whose call failed (a refusal, a timeout
// whose call may still land) is for the caller to send one by one, which
// each run's key makes safe (a run the failed call made comes back as
// the run its key collides with).
func (b *Backend) dispatchBulk(ctx context.Context, admin v0client.AdminClient, ds []backend.Dispatch) ([]string, error) {
	ids := make([]string, 0, len(ds))
	for start := 0; start < len(ds); start += maxBulk {
		part := ds[start:min(start+maxBulk, len(ds))]
		runs := make([]*v0client.WorkflowRun, len(part))
		for i, d := range part {
			runs[i] = &v0client.WorkflowRun{
				Name:    d.Task,
				Input:   input{Payload: string(d.Payload), Key: d.Key},
				Options: []v0client.RunOptFunc{v0client.WithRunMetadata(runMetadata(d))},
			}
		}
		got, err := bulkRun(ctx, admin, runs)
		if err != nil {
			return nil, err
		}
		ids = append(ids, got...)
	}
	return ids, nil
}

// bulkRun calls admin.BulkRunWorkflow(runs), returning when ctx ends even
// if the call, which ignores contexts, does not.
func bulkRun(ctx context.Context, admin v0client.AdminClient, runs []*v0client.WorkflowRun) ([]string, error) {
	ctx, cancel := bounded(ctx)
	defer cancel()
	type result struct {
		ids []string
		err error
	}
	done := make(chan result, 1)
	go func() {
		ids, err := admin.BulkRunWorkflow(runs)
		done <- result{ids, err}
	}()
	select {
	case r := <-done:
		if r.err == nil && len(r.ids) != len(runs) {
			r.err = fmt.Errorf("the engine returned %d run ids for %d runs", len(r.ids), len(runs))
		}
		if r.err != nil {
			return nil, fmt.Errorf("backend/hatchet: bulk dispatch of %d runs: %w", len(runs), r.err)
		}
		return r.ids, nil
	case <-ctx.Done():
		return nil, fmt.Errorf("backend/hatchet: bulk dispatch of %d runs: %w", len(runs), ctx.Err())
	}
}

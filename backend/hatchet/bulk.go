package hatchet

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"strings"
	"sync"

	"github.com/google/uuid"
	v0client "github.com/hatchet-dev/hatchet/pkg/client"
	sdk "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/mageflow-go/mageflow/backend"
)

// admins maps the clients NewClient made to the admin client of a legacy
// client of the same configuration, whose BulkRunWorkflow triggers many
// runs in one call: the SDK's own RunMany triggers one per input, and the
// engine takes a few triggers at a time. The legacy client has no Close:
// it lives as long as the process.
var admins sync.Map // *sdk.Client -> v0client.AdminClient

// adminOf returns the bulk-triggering admin client NewClient made with c,
// nil for a client made otherwise.
func adminOf(c *sdk.Client) v0client.AdminClient {
	a, _ := admins.Load(c)
	admin, _ := a.(v0client.AdminClient)
	return admin
}

// The bounds of one bulk trigger: its runs, and about the bytes of their
// payloads and metadata (the engine takes gRPC messages of up to 4 MiB).
const (
	maxBulk      = 500
	maxBulkBytes = 3 << 20
)

// dispatchBatchBulk is DispatchBatch with the bulk trigger: the
// dispatches of unknown tasks fail; the others go out in bulk calls, and
// those of a call that failed one by one. A dispatch's key is the same in
// both (keyless ones get one first): a run a failed call made is found
// by its key, not made again.
func (b *Backend) dispatchBatchBulk(ctx context.Context, admin v0client.AdminClient, ds []backend.Dispatch) ([]string, []error) {
	ds = slices.Clone(ds) // keys are given to the keyless ones
	ids := make([]string, len(ds))
	errs := make([]error, len(ds))
	known := map[string]error{} // task -> nil when known, else why not
	var idx []int               // the dispatches of known tasks
	for i, d := range ds {
		why, seen := known[d.Task]
		if !seen {
			ok, err := b.Known(ctx, d.Task)
			switch {
			case err != nil:
				why = err
			case !ok:
				why = fmt.Errorf("backend/hatchet: dispatch %q: no worker registered it: %w", d.Task, backend.ErrUnknownTask)
			}
			known[d.Task] = why
		}
		if why != nil {
			errs[i] = why
			continue
		}
		if ds[i].Key == "" {
			ds[i].Key = "nokey-" + uuid.NewString()
		}
		idx = append(idx, i)
	}
	for len(idx) > 0 {
		n := bulkSize(ds, idx)
		part := make([]backend.Dispatch, n)
		for j, i := range idx[:n] {
			part[j] = ds[i]
		}
		got, err := bulkRun(ctx, admin, part)
		switch {
		case err == nil:
			for j, i := range idx[:n] {
				ids[i] = got[j]
			}
		case ctx.Err() != nil:
			// no time left to send them one by one: they stay owed
			for _, i := range idx {
				errs[i] = err
			}
			return ids, errs
		default:
			lvl := slog.LevelWarn
			if strings.Contains(err.Error(), "AlreadyExists") {
				lvl = slog.LevelDebug // a key seen before: a resend
			}
			b.log.Log(ctx, lvl, "backend/hatchet: bulk dispatch failed; dispatching its runs one by one", slog.Int("runs", n), slog.Any("error", err))
			sub, subErrs := b.dispatchEach(ctx, part)
			for j, i := range idx[:n] {
				ids[i], errs[i] = sub[j], subErrs[j]
			}
		}
		idx = idx[n:]
	}
	return ids, errs
}

// bulkSize is how many of the dispatches ds[idx...] one bulk call takes:
// at most maxBulk, and about maxBulkBytes, at least one.
func bulkSize(ds []backend.Dispatch, idx []int) int {
	size := 0
	for n, i := range idx {
		d := ds[i]
		size += len(d.Payload) + len(d.Key) + len(d.Task) + len(d.Record) + len(d.Root) + 64
		for k, v := range d.Meta {
			size += len(k) + len(v) + 8
		}
		if n == maxBulk || (n > 0 && size > maxBulkBytes) {
			return n
		}
	}
	return len(idx)
}

// bulkRun triggers ds, whose tasks are known and which have keys, in one
// bulk call, and returns their run ids in order. It returns when ctx
// ends even if the call, which ignores contexts, does not.
func bulkRun(ctx context.Context, admin v0client.AdminClient, ds []backend.Dispatch) ([]string, error) {
	runs := make([]*v0client.WorkflowRun, len(ds))
	for i, d := range ds {
		runs[i] = &v0client.WorkflowRun{
			Name:    d.Task,
			Input:   input{Payload: string(d.Payload), Key: d.Key},
			Options: []v0client.RunOptFunc{v0client.WithRunMetadata(runMetadata(d))},
		}
	}
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

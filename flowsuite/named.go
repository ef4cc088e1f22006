package flowsuite

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"

	"github.com/mageflow-go/mageflow"
	"github.com/mageflow-go/mageflow/backend"
	"github.com/mageflow-go/mageflow/flow"
	"github.com/mageflow-go/mageflow/inspect"
	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/task"
)

// metaTap is a backend that keeps the metadata of every dispatch.
type metaTap struct {
	backend.Backend
	mu   sync.Mutex
	meta map[string][]map[string]string // record -> metadata of each dispatch
}

func (m *metaTap) note(d backend.Dispatch) {
	m.mu.Lock()
	defer m.mu.Unlock()
	m.meta[d.Record] = append(m.meta[d.Record], d.Meta)
}

// Dispatch implements backend.Backend.
func (m *metaTap) Dispatch(ctx context.Context, d backend.Dispatch) (string, error) {
	m.note(d)
	return m.Backend.Dispatch(ctx, d)
}

// DispatchBatch implements backend.Batcher.
func (m *metaTap) DispatchBatch(ctx context.Context, ds []backend.Dispatch) ([]string, []error) {
	for _, d := range ds {
		m.note(d)
	}
	if b, ok := m.Backend.(backend.Batcher); ok {
		return b.DispatchBatch(ctx, ds)
	}
	ids, errs := make([]string, len(ds)), make([]error, len(ds))
	for i, d := range ds {
		ids[i], errs[i] = m.Backend.Dispatch(ctx, d)
	}
	return ids, errs
}

// A flow's name and metadata are stored with it and shown by inspect, and
// every dispatch of the flow carries the metadata: the first ones, those
// that follow a step or an item, and those of a retry.
func testNamedFlowsCarryTheirMetadata(t *testing.T, h Harness) {
	t.Parallel()
	tap := &metaTap{meta: map[string][]map[string]string{}}
	var broken atomic.Bool
	broken.Store(true)
	rec := NewRecorder()
	last := flaky("last-of-named", &broken, rec)
	e := h.Faulty(t, nil, Faults{Backend: func(b backend.Backend) backend.Backend {
		tap.Backend = b
		return tap
	}}, inc, double, sumOf, last)
	ctx := testCtx(t)
	meta := map[string]string{"customer": "42", "order": "A-7"}
	f := flow.Named("checkout", flow.Then(inc, flow.Then(flow.Swarm(double, double), flow.Then(flow.Named("sum", sumOf), last))))
	run, err := flow.Start(ctx, e.Client, f, 1, flow.WithMetadata(meta))
	if err != nil {
		t.Fatal(err)
	}
	if _, err := run.Wait(ctx); err == nil {
		t.Fatal("the flow did not fail")
	}
	e.WaitEnded(t, run.ID())
	broken.Store(false)
	if err := run.Retry(ctx); err != nil {
		t.Fatal(err)
	}
	if out, err := run.Wait(ctx); err != nil || out != 9 {
		t.Fatalf("Wait after Retry = %d, %v; want 9", out, err)
	}
	r, err := e.Store.Get(ctx, run.ID())
	if err != nil {
		t.Fatal(err)
	}
	if r.Label != "checkout" || r.Name != "chain" || len(r.Metadata) != 2 || r.Metadata["order"] != "A-7" {
		t.Errorf("root: Label %q Name %q Metadata %v", r.Label, r.Name, r.Metadata)
	}
	if s := inspect.Summarize(r); s.Name != "checkout" || s.Metadata["customer"] != "42" {
		t.Errorf("summary: Name %q Metadata %v", s.Name, s.Metadata)
	}
	if r.Children != 4 {
		t.Errorf("root chain has %d steps, want 4 (unnamed chains flatten)", r.Children)
	}
	// a named chain is a step of its own
	nested, err := flow.Start(ctx, e.Client, flow.Then(flow.Named("inner", flow.Then(inc, inc)), inc), 1)
	if err != nil {
		t.Fatal(err)
	}
	if r, err := e.Store.Get(ctx, nested.ID()); err != nil || r.Children != 2 {
		t.Errorf("a chain of a named chain and a task: %v, %v; want 2 steps", r, err)
	} else if step, err := e.Store.Get(ctx, sig.ChildID(nested.ID(), 0)); err != nil || step.Label != "inner" {
		t.Errorf("its first step: %v, %v; want the chain named inner", step, err)
	}
	tap.mu.Lock()
	defer tap.mu.Unlock()
	n := 0
	for record, ms := range tap.meta {
		if !strings.HasPrefix(record, run.ID()) {
			continue
		}
		for _, m := range ms {
			n++
			if m["customer"] != "42" || m["order"] != "A-7" {
				t.Errorf("a dispatch of %s carries metadata %v, want %v", record, m, meta)
			}
		}
	}
	if n != 6 { // inc, two doubles, sum, last twice
		t.Errorf("%d dispatches seen, want 6", n)
	}
}

// sumOf adds up its input.
var sumOf = task.New("sum-of", func(ctx context.Context, xs []int) (int, error) {
	total := 0
	for _, x := range xs {
		total += x
	}
	return total, nil
})

// Metadata past its bounds, and bad names, are refused before anything
// is stored.
func testBadNamesAndMetadataAreRefused(t *testing.T, h Harness) {
	t.Parallel()
	e := h.setup(t, inc)
	ctx := testCtx(t)
	many := map[string]string{}
	for i := range flow.MaxMetadataPairs + 1 {
		many["k"+strconv.Itoa(i)] = "v"
	}
	cases := map[string][]flow.StartOption{
		"too many pairs": {flow.WithMetadata(many)},
		"an empty key":   {flow.WithMetadata(map[string]string{"": "v"})},
		"a long value":   {flow.WithMetadata(map[string]string{"k": strings.Repeat("v", flow.MaxMetadataLen+1)})},
		"a library key":  {flow.WithMetadata(map[string]string{"mageflow-record": "x"})},
	}
	for what, opts := range cases {
		if _, err := flow.Start(ctx, e.Client, inc, 1, opts...); err == nil {
			t.Errorf("metadata with %s: accepted", what)
		}
	}
	for _, name := range []string{"", strings.Repeat("n", flow.MaxNameLen+1), "\xff"} {
		if _, err := flow.Start(ctx, e.Client, flow.Named(name, inc), 1); err == nil {
			t.Errorf("flow.Named(%.20q): accepted", name)
		}
	}
	if _, err := flow.Start(ctx, e.Client, flow.Named[int, int]("x", nil), 1); err == nil || !errors.Is(err, mageflow.ErrInvalidFlow) {
		t.Errorf("flow.Named of nil: %v", err)
	}
	if e.Records != nil {
		if n := e.Records(); n != 0 {
			t.Errorf("%d records stored for refused flows", n)
		}
	}
}

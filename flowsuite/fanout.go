package flowsuite

import (
	"context"
	"sync"
	"testing"

	"github.com/mageflow-go/mageflow"
	"github.com/mageflow-go/mageflow/flow"
	"github.com/mageflow-go/mageflow/middleware"
	"github.com/mageflow-go/mageflow/sig"
)

// fanTracer is a tracer that also hears of swarms' fan-outs: it carries
// fan-<name>=<swarm id> to their items, and panics for a swarm named
// "panics".
type fanTracer struct {
	*tracer
	fans []middleware.FanOut
}

func (m *fanTracer) FanOut(ctx context.Context, f *middleware.FanOut) {
	m.mu.Lock()
	m.fans = append(m.fans, *f)
	m.mu.Unlock()
	f.Carry("fan-"+m.name, f.Swarm)
	if f.Name == "panics" {
		panic("fanner " + m.name + " broke")
	}
}

// A Fanner hears of each swarm a flow starts, once, before its items are
// sent, with the metadata of what started it (the step before carried
// its pair); what it carries reaches every item, those the swarm starts
// later as earlier ones end included, the first steps of chain items, and
// the items added to an open swarm (heard once per addition). A swarm in
// a swarm's item starts from the outer swarm's pairs. A panic in FanOut
// is logged: the items run, without its pairs.
func testMiddlewareHearsSwarmsFanOut(t *testing.T, h Harness) {
	t.Parallel()
	var log []string
	m := &fanTracer{tracer: &tracer{name: "m", log: &log, mu: new(sync.Mutex)}}
	e := h.setupWith(t, []mageflow.Option{mageflow.WithMiddleware(m)}, double, sumInts)
	ctx := testCtx(t)
	items := flow.Named("items", flow.Swarm(double, double, double).WithConfig(flow.SwarmConfig{MaxConcurrency: 1}))
	run, err := flow.Start(ctx, e.Client, flow.Then(flow.Then(double, items), sumInts), 1)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := run.Wait(ctx); err != nil || out != 12 {
		t.Fatalf("Wait = %d, %v; want 12", out, err)
	}
	broken, err := flow.Start(ctx, e.Client, flow.Named("panics", flow.Swarm(double, double)), 1)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := broken.Wait(ctx); err != nil || len(out) != 2 {
		t.Fatalf("the swarm whose fanner panicked: Wait = %v, %v; want its two results", out, err)
	}

	step0 := sig.ChildID(run.ID(), 0)
	sw := sig.ChildID(run.ID(), 1)
	m.mu.Lock()
	fans := append([]middleware.FanOut(nil), m.fans...)
	m.mu.Unlock()
	var heard *middleware.FanOut
	for i := range fans {
		if fans[i].Root == run.ID() {
			if heard != nil {
				t.Errorf("the swarm's fan-out heard twice: %+v", fans)
			}
			heard = &fans[i]
		}
	}
	if heard == nil || heard.Swarm != sw || heard.Name != "items" || heard.Metadata["trace-m"] != step0 {
		t.Fatalf("fan-outs heard: %+v; want swarm %s named items, with the metadata step %s carried", fans, sw, step0)
	}
	xs, _ := m.executions("double")
	seen := map[string]string{}
	for _, x := range xs {
		seen[x.Record] = x.Metadata["fan-m"]
	}
	for i := range 3 {
		item := sig.ChildID(sw, i)
		if got, ok := seen[item]; !ok || got != sw {
			t.Errorf("item %s carried fan-m=%q (seen %v); want %s", item, got, ok, sw)
		}
	}
	for i := range 2 {
		if got := seen[sig.ChildID(broken.ID(), i)]; got != "" {
			t.Errorf("an item of the swarm whose fanner panicked carried fan-m=%q; want nothing", got)
		}
	}
}

// Chain items, swarms in swarms and added items get what the fanners
// carried.
func testMiddlewareFansOutNestedAndAdded(t *testing.T, h Harness) {
	t.Parallel()
	var log []string
	m := &fanTracer{tracer: &tracer{name: "m", log: &log, mu: new(sync.Mutex)}}
	e := h.setupWith(t, []mageflow.Option{mageflow.WithMiddleware(m)}, double)
	ctx := testCtx(t)
	seen := func() map[string]string {
		xs, _ := m.executions("double")
		out := map[string]string{}
		for _, x := range xs {
			out[x.Record] = x.Metadata["fan-m"]
		}
		return out
	}
	expect := func(what, record, want string) {
		t.Helper()
		if got, ok := seen()[record]; !ok || got != want {
			t.Errorf("%s %s: fan-m=%q (ran %v); want %s", what, record, got, ok, want)
		}
	}

	chains, err := flow.Start(ctx, e.Client, flow.Swarm(flow.Then(double, double), flow.Then(double, double)), 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := chains.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	for i := range 2 {
		expect("a chain item's first step", sig.ChildID(sig.ChildID(chains.ID(), i), 0), chains.ID())
	}

	nested, err := flow.Start(ctx, e.Client, flow.Swarm(flow.Swarm(double, double), flow.Swarm(double)), 1)
	if err != nil {
		t.Fatal(err)
	}
	if _, err := nested.Wait(ctx); err != nil {
		t.Fatal(err)
	}
	inner := sig.ChildID(nested.ID(), 0)
	expect("an inner swarm's item", sig.ChildID(inner, 1), inner)
	m.mu.Lock()
	var innerFan *middleware.FanOut
	for i := range m.fans {
		if m.fans[i].Swarm == inner {
			innerFan = &m.fans[i]
		}
	}
	m.mu.Unlock()
	if innerFan == nil || innerFan.Metadata["fan-m"] != nested.ID() {
		t.Errorf("the inner swarm's fan-out: %+v; want it heard with the outer swarm's pairs", innerFan)
	}

	ss, err := flow.SignSwarm(ctx, e.Client, flow.Swarm[int, int]())
	if err != nil {
		t.Fatal(err)
	}
	run, err := ss.Start(ctx, 1)
	if err != nil {
		t.Fatal(err)
	}
	for range 2 {
		if err := ss.Add(ctx, double); err != nil {
			t.Fatal(err)
		}
	}
	if err := ss.Close(ctx); err != nil {
		t.Fatal(err)
	}
	if out, err := run.Wait(ctx); err != nil || len(out) != 2 {
		t.Fatalf("Wait = %v, %v", out, err)
	}
	for i := range 2 {
		expect("an added item", sig.ChildID(run.ID(), i), run.ID())
	}
	m.mu.Lock()
	heard := 0
	for _, f := range m.fans {
		if f.Swarm == run.ID() {
			heard++
		}
	}
	m.mu.Unlock()
	if heard != 2 {
		t.Errorf("an open swarm given items twice: heard %d times, want 2", heard)
	}
}

package mcpserver

import (
	"context"
	"encoding/json"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
	goredis "github.com/redis/go-redis/v9"

	"github.com/mageflow-go/mageflow"
	membackend "github.com/mageflow-go/mageflow/backend/memory"
	"github.com/mageflow-go/mageflow/flow"
	"github.com/mageflow-go/mageflow/internal/redistest"
	"github.com/mageflow-go/mageflow/storage"
	memstore "github.com/mageflow-go/mageflow/storage/memory"
	redisstore "github.com/mageflow-go/mageflow/storage/redis"
	"github.com/mageflow-go/mageflow/task"
)

func TestMain(m *testing.M) { redistest.Main(m) }

var echo = task.New("echo", func(ctx context.Context, s string) (string, error) { return s, nil })

// session connects the SDK's client to a server of s, in memory.
func session(t *testing.T, s storage.Store, opt Options) *mcp.ClientSession {
	t.Helper()
	ctx := context.Background()
	st, ct := mcp.NewInMemoryTransports()
	ss, err := New(s, opt).Connect(ctx, st, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = ss.Close() })
	cs, err := mcp.NewClient(&mcp.Implementation{Name: "test", Version: "v0"}, nil).Connect(ctx, ct, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = cs.Close() })
	return cs
}

func call(t *testing.T, cs *mcp.ClientSession, name string, args map[string]any, out any) {
	t.Helper()
	res, err := cs.CallTool(context.Background(), &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatal(err)
	}
	text := res.Content[0].(*mcp.TextContent).Text
	if res.IsError {
		t.Fatalf("%s: %s", name, text)
	}
	if err := json.Unmarshal([]byte(text), out); err != nil {
		t.Fatalf("%s: %v\n%s", name, err, text)
	}
}

// memClient is a client of a memory store with echo registered.
func memClient(t *testing.T) (storage.Store, *mageflow.Client) {
	t.Helper()
	s := memstore.New()
	c, err := mageflow.New(membackend.New(), s)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Register(echo); err != nil {
		t.Fatal(err)
	}
	return s, c
}

// trips counts the round trips a Redis client makes.
type trips struct{ n atomic.Int64 }

func (h *trips) DialHook(next goredis.DialHook) goredis.DialHook { return next }
func (h *trips) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error { h.n.Add(1); return next(ctx, cmd) }
}
func (h *trips) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error { h.n.Add(1); return next(ctx, cmds) }
}

// A page of 20 flows costs a few round trips to Redis, the same whether
// the store holds 30 flows or 90 (the store's index).
func TestListOfTwentyFlowsIsBounded(t *testing.T) {
	rc := redistest.Client(t)
	s, err := redisstore.New(rc, redisstore.WithPrefix(redistest.Prefix(t, rc)))
	if err != nil {
		t.Fatal(err)
	}
	c, err := mageflow.New(membackend.New(), s)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Register(echo); err != nil {
		t.Fatal(err)
	}
	sign := func(n int) {
		for range n {
			if _, err := flow.Sign(context.Background(), c, flow.Chain[string](echo, echo)); err != nil {
				t.Fatal(err)
			}
		}
	}
	counted := &trips{}
	rc.AddHook(counted)
	cs := session(t, s, Options{})
	list := func() int64 {
		var out struct {
			Flows      []json.RawMessage `json:"flows"`
			NextCursor string            `json:"next_cursor"`
		}
		before := counted.n.Load()
		call(t, cs, "list_flows", map[string]any{"limit": 20}, &out)
		if len(out.Flows) != 20 || out.NextCursor == "" {
			t.Fatalf("list_flows: %d flows, next %q; want 20 and a cursor", len(out.Flows), out.NextCursor)
		}
		return counted.n.Load() - before
	}
	sign(30)
	list() // the first opens the client's connections
	few := list()
	sign(60)
	many := list()
	t.Logf("round trips for a page of 20 flows: %d of 30 flows, %d of 90", few, many)
	if few != many || many > 3 {
		t.Errorf("round trips for a page of 20 flows: %d of 30 flows, %d of 90; want the same, at most 3", few, many)
	}
}

// Payloads larger than the limit are cut, with their size; smaller ones
// are the JSON they are.
func TestLargePayloadsAreCut(t *testing.T) {
	s, c := memClient(t)
	stop, err := c.StartWorker(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stop(context.Background()) })
	ctx, cancel := context.WithTimeout(context.Background(), 10*time.Second)
	defer cancel()
	big := strings.Repeat("é", 3*maxPayload)
	run := func(in string) string {
		r, err := flow.Start(ctx, c, echo, in)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.Wait(ctx); err != nil {
			t.Fatal(err)
		}
		return r.ID()
	}
	bigID, smallID := run(big), run("small")
	cs := session(t, s, Options{})
	var node struct {
		Input  json.RawMessage `json:"input"`
		Result json.RawMessage `json:"result"`
	}
	call(t, cs, "get_node", map[string]any{"id": bigID}, &node)
	for what, p := range map[string]json.RawMessage{"input": node.Input, "result": node.Result} {
		var cut cutPayload
		if err := json.Unmarshal(p, &cut); err != nil || !cut.Cut || cut.Bytes != len(big)+2 || len(cut.Head) > headBytes || !strings.HasPrefix(`"`+big, cut.Head) {
			t.Errorf("the large %s: %.100s (%v)", what, p, err)
		}
	}
	call(t, cs, "get_node", map[string]any{"id": smallID}, &node)
	if string(node.Input) != `"small"` || string(node.Result) != `"small"` {
		t.Errorf("a small payload: input %s, result %s", node.Input, node.Result)
	}
}

// A flow's tree holds at most maxTreeNodes steps and items, however wide
// and deep: the containers it leaves out count them in more.
func TestTreesAreBounded(t *testing.T) {
	s, c := memClient(t)
	steps := make([]flow.Flow[string, string], 15)
	for i := range steps {
		steps[i] = echo
	}
	items := make([]flow.Flow[string, string], 60)
	for i := range items {
		items[i] = flow.Chain(steps...)
	}
	// a swarm of 60 chains of 15 steps: 60 + 900 nodes under the root
	sg, err := flow.Sign(context.Background(), c, flow.Swarm(items...))
	if err != nil {
		t.Fatal(err)
	}
	cs := session(t, s, Options{})
	var tree node
	call(t, cs, "get_flow", map[string]any{"id": sg.ID(), "max_children": 100}, &tree)
	shown, more := tree.count()
	if shown-1 > maxTreeNodes || shown < maxTreeNodes/2 {
		t.Errorf("get_flow shows %d nodes under the root, want at most %d (and not far fewer)", shown-1, maxTreeNodes)
	}
	if shown-1+more != 60+900 {
		t.Errorf("get_flow: %d nodes shown and %d counted in more, want %d in all", shown-1, more, 60+900)
	}
}

// node is get_flow's answer, as far as its shape goes.
type node struct {
	Children []node `json:"children"`
	More     int    `json:"more"`
}

// count returns the nodes of n (itself included) and the more they count.
func (n node) count() (shown, more int) {
	shown, more = 1, n.More
	for _, c := range n.Children {
		s, m := c.count()
		shown, more = shown+s, more+m
	}
	return shown, more
}

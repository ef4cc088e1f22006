package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/exec"
	"slices"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mageflow-go/mageflow/flow"
	"github.com/mageflow-go/mageflow/task"
)

// mcpClient starts `mageflow mcp` with args as a process of its own on
// e's store and returns the SDK's client session with it, and how long
// the start and the protocol's handshake took.
func mcpClient(t *testing.T, e env, args ...string) (*mcp.ClientSession, time.Duration) {
	t.Helper()
	cmdArgs := append(append([]string{"--redis", e.url, "--prefix", e.prefix}, e.flags...), append([]string{"mcp"}, args...)...)
	cmd := exec.Command(os.Args[0], cmdArgs...)
	cmd.Env = append(os.Environ(), commandEnv+"=1")
	var stderr bytes.Buffer
	cmd.Stderr = &stderr
	client := mcp.NewClient(&mcp.Implementation{Name: "mageflow-test", Version: "v0"}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	start := time.Now()
	s, err := client.Connect(ctx, &mcp.CommandTransport{Command: cmd}, nil)
	took := time.Since(start)
	if err != nil {
		t.Fatalf("connect to mageflow mcp: %v\nstderr:\n%s", err, stderr.String())
	}
	t.Cleanup(func() {
		_ = s.Close()
		if t.Failed() {
			t.Logf("mageflow mcp's stderr:\n%s", stderr.String())
		}
	})
	return s, took
}

// callTool calls tool name with args and decodes its JSON answer into
// out (when not nil); it returns the answer's text and whether it is an
// error.
func callTool(t *testing.T, s *mcp.ClientSession, name string, args map[string]any, out any) (string, bool) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	res, err := s.CallTool(ctx, &mcp.CallToolParams{Name: name, Arguments: args})
	if err != nil {
		t.Fatalf("%s %v: %v", name, args, err)
	}
	var text strings.Builder
	for _, c := range res.Content {
		if tc, ok := c.(*mcp.TextContent); ok {
			text.WriteString(tc.Text)
		}
	}
	if out != nil && !res.IsError {
		if err := json.Unmarshal([]byte(text.String()), out); err != nil {
			t.Fatalf("%s: answer is not JSON: %v\n%s", name, err, text.String())
		}
	}
	return text.String(), res.IsError
}

func toolNames(t *testing.T, s *mcp.ClientSession) []string {
	t.Helper()
	res, err := s.ListTools(context.Background(), nil)
	if err != nil {
		t.Fatal(err)
	}
	var names []string
	for _, tool := range res.Tools {
		if tool.Description == "" {
			t.Errorf("tool %s has no description", tool.Name)
		}
		names = append(names, tool.Name)
	}
	slices.Sort(names)
	return names
}

// flowsAnswer is list_flows's answer.
type flowsAnswer struct {
	Flows []struct {
		ID       string            `json:"id"`
		Name     string            `json:"name"`
		Status   string            `json:"status"`
		Done     int               `json:"done"`
		Total    int               `json:"total"`
		Metadata map[string]string `json:"metadata"`
		Error    *struct {
			Message string `json:"message"`
		} `json:"error"`
	} `json:"flows"`
	NextCursor string `json:"next_cursor"`
}

func (a flowsAnswer) ids() []string {
	var ids []string
	for _, f := range a.Flows {
		ids = append(ids, f.ID)
	}
	return ids
}

// summaryAnswer is container_summary's answer.
type summaryAnswer struct {
	Status string         `json:"status"`
	Total  int            `json:"total"`
	Counts map[string]int `json:"counts"`
}

// mcpFlows are the flows the MCP tests read: done ones with metadata, a
// failed one, a swarm that runs until the test ends, a suspended chain.
type mcpFlows struct {
	e                        env
	done                     []string
	failed, swarm, suspended string
	down                     *atomic.Bool
	firsts                   *atomic.Int32
}

func newMCPFlows(t *testing.T) mcpFlows {
	t.Helper()
	release := make(chan struct{})
	hold := task.New("hold", func(ctx context.Context, n int) (int, error) {
		select {
		case <-release:
		case <-ctx.Done():
		}
		return n, ctx.Err()
	})
	down := new(atomic.Bool)
	down.Store(true)
	firsts := new(atomic.Int32)
	first := task.New("first", func(ctx context.Context, n int) (int, error) { firsts.Add(1); return n + 1, nil })
	upload := task.New("upload", func(ctx context.Context, n int) (int, error) {
		if down.Load() {
			return 0, task.NonRetryable(errors.New("provider down"))
		}
		return n * 10, nil
	})
	e := newEnv(t, hold, first, upload)
	// before the worker stops (cleanups run last first)
	t.Cleanup(func() { close(release) })
	m := mcpFlows{e: e, down: down, firsts: firsts}
	ctx := context.Background()
	for i := range 24 {
		team := "billing"
		if i%2 == 1 {
			team = "search"
		}
		for ms := time.Now().UnixMilli(); time.Now().UnixMilli() == ms; {
		}
		r, err := flow.Start(ctx, e.c, flow.Named("nightly", flow.Then(inc, inc)), i, flow.WithMetadata(map[string]string{"team": team}))
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.Wait(ctx); err != nil {
			t.Fatal(err)
		}
		m.done = append(m.done, r.ID())
	}
	m.failed = finished(t, e, flow.Then(first, upload))
	items := make([]flow.Flow[int, int], 10)
	for i := range items {
		items[i] = hold
		if i < 4 {
			items[i] = inc
		}
	}
	m.swarm = started(t, e, flow.Swarm(items...).WithConfig(flow.SwarmConfig{MaxConcurrency: 3}))
	m.suspended = started(t, e, flow.Chain[int](hold, inc))
	e.mageflow(t, 0, "suspend", m.suspended)
	return m
}

func TestMCPReads(t *testing.T) {
	m := newMCPFlows(t)
	s, took := mcpClient(t, m.e)
	if took > time.Second {
		t.Errorf("mageflow mcp took %v to start and answer the handshake, want under a second", took)
	}
	t.Logf("start and handshake: %v", took)
	want := []string{"container_items", "container_summary", "get_flow", "get_node", "list_flows", "list_tasks"}
	if got := toolNames(t, s); !slices.Equal(got, want) {
		t.Errorf("tools without --allow-write: %v, want %v", got, want)
	}

	// pages, newest first, with a cursor
	var p1, p2, p3 flowsAnswer
	callTool(t, s, "list_flows", map[string]any{"limit": 20}, &p1)
	if len(p1.Flows) != 20 || p1.NextCursor == "" {
		t.Fatalf("first page: %d flows, next %q; want 20 and a cursor", len(p1.Flows), p1.NextCursor)
	}
	if p1.Flows[0].ID != m.suspended || p1.Flows[1].ID != m.swarm || p1.Flows[2].ID != m.failed {
		t.Errorf("newest first: %v, want %s %s %s first", p1.ids()[:3], m.suspended, m.swarm, m.failed)
	}
	callTool(t, s, "list_flows", map[string]any{"limit": 20, "cursor": p1.NextCursor}, &p2)
	if len(p2.Flows) != 7 || p2.NextCursor != "" {
		t.Errorf("second page: %d flows, next %q; want the 7 others and no cursor", len(p2.Flows), p2.NextCursor)
	}
	if all := append(p1.ids(), p2.ids()...); len(slices.Compact(slices.Sorted(slices.Values(all)))) != 27 {
		t.Errorf("the pages repeat or miss flows: %v", all)
	}
	// filters
	callTool(t, s, "list_flows", map[string]any{"status": []string{"failed"}}, &p3)
	if len(p3.Flows) != 1 || p3.Flows[0].ID != m.failed || p3.Flows[0].Error == nil || !strings.Contains(p3.Flows[0].Error.Message, "provider down") {
		t.Errorf("status failed: %+v", p3)
	}
	var byMeta flowsAnswer
	callTool(t, s, "list_flows", map[string]any{"name": "nightly", "metadata": map[string]string{"team": "search"}, "limit": 100}, &byMeta)
	if len(byMeta.Flows) != 12 {
		t.Errorf("name nightly, team search: %d flows, want 12", len(byMeta.Flows))
	}
	for _, f := range byMeta.Flows {
		if f.Metadata["team"] != "search" || f.Name != "nightly" || f.Status != "done" {
			t.Errorf("filtered in: %+v", f)
		}
	}
	var none, recent flowsAnswer
	callTool(t, s, "list_flows", map[string]any{"created_until": "1h"}, &none)
	callTool(t, s, "list_flows", map[string]any{"created_since": "1h", "limit": 100}, &recent)
	if len(none.Flows) != 0 || len(recent.Flows) != 27 {
		t.Errorf("created before an hour ago: %d flows, since: %d; want 0 and 27", len(none.Flows), len(recent.Flows))
	}
	if text, isErr := callTool(t, s, "list_flows", map[string]any{"status": []string{"finished"}}, nil); !isErr || !strings.Contains(text, `unknown status "finished"`) {
		t.Errorf("a bad status: %q (error %v)", text, isErr)
	}
	if text, isErr := callTool(t, s, "list_flows", map[string]any{"created_since": "yesterday"}, nil); !isErr || !strings.Contains(text, "created_since") {
		t.Errorf("a bad time: %q (error %v)", text, isErr)
	}

	// a failed flow's tree, and its failed step
	var tree struct {
		Status   string `json:"status"`
		Children []struct {
			ID     string          `json:"id"`
			Status string          `json:"status"`
			Input  json.RawMessage `json:"input"`
			Error  *struct {
				Message string `json:"message"`
			} `json:"error"`
		} `json:"children"`
	}
	if text, isErr := callTool(t, s, "get_flow", map[string]any{"id": m.failed[:len(m.failed)-2]}, &tree); isErr {
		t.Fatalf("get_flow: %s", text)
	}
	if tree.Status != "failed" || len(tree.Children) != 2 || tree.Children[1].Error == nil || tree.Children[1].Error.Message != "provider down" {
		t.Fatalf("get_flow of the failed flow (by a prefix of its id): %+v", tree)
	}
	var node struct {
		ID       string          `json:"id"`
		Status   string          `json:"status"`
		Attempts int             `json:"attempts"`
		Input    json.RawMessage `json:"input"`
		Created  string          `json:"created"`
		Ended    string          `json:"ended"`
	}
	callTool(t, s, "get_node", map[string]any{"id": tree.Children[1].ID}, &node)
	if node.Status != "failed" || node.Attempts != 1 || string(node.Input) != "2" || node.Created == "" || node.Ended == "" {
		t.Errorf("get_node of the failed step: %+v", node)
	}
	if text, isErr := callTool(t, s, "get_node", map[string]any{"id": "nosuchflow"}, nil); !isErr || !strings.Contains(text, "nosuchflow") {
		t.Errorf("get_node of no flow: %q (error %v)", text, isErr)
	}

	// the running swarm: counts, and its items page by page
	var sum summaryAnswer
	callTool(t, s, "container_summary", map[string]any{"id": m.swarm}, &sum)
	c := sum.Counts
	if sum.Status != "active" || sum.Total != 10 || c["done"] != 4 || c["active"] != 3 || c["pending"] != 3 || c["failed"] != 0 || len(c) != 7 {
		t.Errorf("container_summary of the swarm: %+v; want active, 10 items: 4 done, 3 active, 3 pending", sum)
	}
	var items struct {
		Items []struct {
			ID     string `json:"id"`
			Status string `json:"status"`
		} `json:"items"`
		NextCursor *int `json:"next_cursor"`
	}
	callTool(t, s, "container_items", map[string]any{"id": m.swarm, "limit": 3}, &items)
	if len(items.Items) != 3 || items.NextCursor == nil || *items.NextCursor != 3 {
		t.Errorf("first page of items: %+v", items)
	}
	var active struct {
		Items []struct {
			Status string `json:"status"`
		} `json:"items"`
		NextCursor *int `json:"next_cursor"`
	}
	callTool(t, s, "container_items", map[string]any{"id": m.swarm, "status": []string{"active"}}, &active)
	if len(active.Items) != 3 || active.NextCursor != nil {
		t.Errorf("active items: %+v; want 3, the last page", active)
	}
	// the suspended chain
	callTool(t, s, "container_summary", map[string]any{"id": m.suspended}, &sum)
	if sum.Status != "suspended" || sum.Total != 2 || sum.Counts["suspended"] != 2 || sum.Counts["pending"] != 0 {
		t.Errorf("container_summary of the suspended chain: %+v", sum)
	}
	var tasks struct {
		Tasks []struct {
			Name string `json:"name"`
			In   string `json:"in"`
			Out  string `json:"out"`
		} `json:"tasks"`
	}
	callTool(t, s, "list_tasks", nil, &tasks)
	var names []string
	for _, tk := range tasks.Tasks {
		names = append(names, tk.Name)
		if tk.Name == "inc" && (tk.In != "int" || tk.Out != "int") {
			t.Errorf("inc's types: %+v", tk)
		}
	}
	for _, n := range []string{"first", "hold", "inc", "upload"} {
		if !slices.Contains(names, n) {
			t.Errorf("list_tasks: %v, missing %s", names, n)
		}
	}

	// without --allow-write, a write is refused, with what to do
	for _, tool := range []string{"retry", "cancel"} {
		text, isErr := callTool(t, s, tool, map[string]any{"id": m.failed}, nil)
		if !isErr || !strings.Contains(text, "--allow-write") {
			t.Errorf("%s without --allow-write: %q (error %v)", tool, text, isErr)
		}
	}
	var after flowsAnswer
	callTool(t, s, "list_flows", map[string]any{"status": []string{"failed"}}, &after)
	if len(after.Flows) != 1 {
		t.Errorf("the refused retry changed the failed flow: %+v", after)
	}
}

func TestMCPWrites(t *testing.T) {
	m := newMCPFlows(t)
	s, _ := mcpClient(t, m.e, "--allow-write")
	names := toolNames(t, s)
	for _, tool := range []string{"suspend", "resume", "interrupt", "cancel", "retry"} {
		if !slices.Contains(names, tool) {
			t.Errorf("tools with --allow-write: %v, missing %s", names, tool)
		}
	}
	// a filter without apply lists, and changes nothing
	var dry struct {
		Applied bool `json:"applied"`
		Flows   []struct {
			ID string `json:"id"`
		} `json:"flows"`
		Note string `json:"note"`
	}
	callTool(t, s, "cancel", map[string]any{"status": []string{"active"}}, &dry)
	if dry.Applied || len(dry.Flows) != 1 || dry.Flows[0].ID != m.swarm || !strings.Contains(dry.Note, "apply") {
		t.Errorf("cancel by filter without apply: %+v", dry)
	}
	// retry makes the failed flow end done
	m.down.Store(false)
	var did struct {
		Applied bool `json:"applied"`
		Flows   []struct {
			ID     string `json:"id"`
			Status string `json:"status"`
		} `json:"flows"`
	}
	callTool(t, s, "retry", map[string]any{"id": m.failed}, &did)
	if !did.Applied || len(did.Flows) != 1 || did.Flows[0].ID != m.failed {
		t.Fatalf("retry: %+v", did)
	}
	r, err := flow.Attach[int](m.e.c, m.failed)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if out, err := r.Wait(ctx); err != nil || out != 20 {
		t.Fatalf("the retried flow: %d, %v; want 20", out, err)
	}
	if n := m.firsts.Load(); n != 1 {
		t.Errorf("the step that had succeeded ran %d times, want once", n)
	}
	// resume the suspended chain; cancel the swarm by filter
	callTool(t, s, "resume", map[string]any{"id": m.suspended}, &did)
	if len(did.Flows) != 1 || did.Flows[0].Status != "active" {
		t.Errorf("resume: %+v", did)
	}
	callTool(t, s, "cancel", map[string]any{"status": []string{"active"}, "apply": true}, &did)
	if !did.Applied || len(did.Flows) != 2 {
		t.Errorf("cancel of the active flows: %+v", did)
	}
	for _, f := range did.Flows {
		if f.Status != "canceled" {
			t.Errorf("cancel by filter: %s is %s", f.ID, f.Status)
		}
	}
	var sum summaryAnswer
	callTool(t, s, "container_summary", map[string]any{"id": m.suspended}, &sum)
	if sum.Status != "canceled" || sum.Counts["canceled"] != 2 || sum.Counts["pending"] != 0 {
		t.Errorf("container_summary of the canceled chain: %+v; want its 2 steps canceled", sum)
	}
	// a filter's flows that the operation does not apply to are skipped,
	// not sent to a worker that would refuse them
	var skipped struct {
		Applied bool `json:"applied"`
		Flows   []struct {
			ID string `json:"id"`
		} `json:"flows"`
		Skipped []struct {
			ID    string `json:"id"`
			Error string `json:"error"`
		} `json:"skipped"`
	}
	start := time.Now()
	callTool(t, s, "retry", map[string]any{"name": "nightly", "apply": true, "wait_seconds": 30}, &skipped)
	if len(skipped.Flows) != 0 || len(skipped.Skipped) != 24 || !strings.Contains(skipped.Skipped[0].Error, "not failed") {
		t.Errorf("retry of done flows by filter: %+v", skipped)
	}
	if took := time.Since(start); took > 10*time.Second {
		t.Errorf("retry of done flows by filter took %v: it waited for workers", took)
	}
	if text, isErr := callTool(t, s, "resume", map[string]any{"id": m.done[0]}, nil); !isErr || !strings.Contains(text, "ended") {
		t.Errorf("resume of a flow that ended: %q (error %v)", text, isErr)
	}
	if text, isErr := callTool(t, s, "cancel", map[string]any{}, nil); !isErr || !strings.Contains(text, "filter") {
		t.Errorf("cancel of nothing named: %q (error %v)", text, isErr)
	}
}

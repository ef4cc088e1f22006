package main

import (
	"context"
	"slices"
	"strings"
	"testing"

	"github.com/mageflow-go/mageflow/flow"
	"github.com/mageflow-go/mageflow/internal/redistest"
)

// readOnlyACL is the ACL of a user that may read the store and nothing
// else: the rights RELIABILITY.md gives read-only tools.
const readOnlyACL = "on >reader-pw ~mftest:* &mftest:* -@all +@read +@connection -@dangerous +subscribe +ssubscribe"

// A user that may only read runs ls, show and watch on a store whose
// function library is not loaded: reading loads no code.
func TestReadOnlyUserInspects(t *testing.T) {
	srv := redistest.NewServer(t)
	rc := srv.Client(t)
	ctx := context.Background()
	if err := rc.Do(ctx, append([]any{"ACL", "SETUSER", "reader"}, words2any(readOnlyACL)...)...).Err(); err != nil {
		t.Fatalf("ACL SETUSER: %v", err)
	}
	e := newClientOn(t, rc, "redis://"+srv.Addr)
	stop, err := e.c.StartWorker(ctx)
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = stop(ctx) }()
	ok := finished(t, e, flow.Chain[int](inc, inc))
	failed := finished(t, e, flow.OnError(flow.Chain[int](inc, boom), alert))
	signed, err := flow.Sign(ctx, e.c, flow.Chain[int](inc, inc))
	if err != nil {
		t.Fatal(err)
	}
	if err := rc.FunctionFlush(ctx).Err(); err != nil { // as after a restart without persistence
		t.Fatal(err)
	}
	reader := e
	reader.url = "redis://reader:reader-pw@" + srv.Addr
	if out := reader.mageflow(t, 0, "ls"); !strings.Contains(out, ok) || !strings.Contains(out, failed) {
		t.Errorf("ls as a read-only user:\n%s", out)
	}
	if out := reader.mageflow(t, 0, "show", failed); !strings.Contains(out, "card declined") {
		t.Errorf("show as a read-only user:\n%s", out)
	}
	if out := reader.mageflow(t, 1, "watch", "--interval", "5ms", failed); !strings.Contains(out, "failed") {
		t.Errorf("watch as a read-only user:\n%s", out)
	}
	// and the MCP server's read tools
	s, _ := mcpClient(t, reader)
	var flows flowsAnswer
	callTool(t, s, "list_flows", nil, &flows)
	if ids := flows.ids(); !slices.Contains(ids, ok) || !slices.Contains(ids, failed) {
		t.Errorf("list_flows as a read-only user: %v", ids)
	}
	if text, isErr := callTool(t, s, "get_flow", map[string]any{"id": failed}, nil); isErr || !strings.Contains(text, "card declined") {
		t.Errorf("get_flow as a read-only user: %s", text)
	}
	if text, isErr := callTool(t, s, "list_tasks", nil, nil); isErr || !strings.Contains(text, `"inc"`) {
		t.Errorf("list_tasks as a read-only user: %s", text)
	}
	// suspend is refused: the user may not run INFO (New's check) nor
	// FCALL, nor anything else that writes or harms the server
	if out := reader.mageflow(t, -1, "suspend", signed.ID()); !strings.Contains(out, "NOPERM") {
		t.Errorf("suspend as a read-only user: %s", out)
	}
	for _, cmd := range [][]any{{"FCALL", "f", "1", "mftest:x"}, {"HSET", "mftest:x", "f", "v"}, {"KEYS", "*"}, {"CLIENT", "PAUSE", "10"}, {"CLIENT", "KILL", "ID", "1"}, {"FLUSHALL"}} {
		res, err := rc.Do(ctx, append([]any{"ACL", "DRYRUN", "reader"}, cmd...)...).Text()
		if err == nil && res == "OK" {
			t.Errorf("the read-only user may run %v", cmd)
		}
	}
}

func words2any(s string) []any {
	var out []any
	for _, w := range strings.Fields(s) {
		out = append(out, w)
	}
	return out
}

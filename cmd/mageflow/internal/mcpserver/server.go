// Package mcpserver is mageflow's Model Context Protocol server (the
// command's `mageflow mcp`): tools with which an assistant finds flows in
// a store, explains them (a flow's tree, a node's input, result and
// error, a swarm's counts and items) and, when the server allows it,
// steers them (suspend, resume, interrupt, cancel, retry), over the read
// model of the console (package inspect) and the viewer's lifecycle
// requests (viewer.Steer), which a worker of the application applies.
//
// Answers are compact JSON, with payloads as the JSON they are; every
// answer is bounded: pages of a given size at most, and payloads larger
// than a limit cut, with a note of their size.
package mcpserver

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mageflow-go/mageflow/storage"
)

// Options configure the server.
type Options struct {
	// AllowWrite adds the tools that change flows; without it they are
	// not listed, and a call of one is refused with a message that says
	// how to allow them.
	AllowWrite bool
	// Wait is how long a write tool waits, by default, for a worker to
	// apply what it asked (default 10s).
	Wait time.Duration
	// Version is the server's version, as the client sees it.
	Version string
}

// New returns the MCP server of store s.
func New(s storage.Store, opt Options) *mcp.Server {
	if opt.Wait <= 0 {
		opt.Wait = 10 * time.Second
	}
	srv := mcp.NewServer(&mcp.Implementation{Name: "mageflow", Title: "mageflow flows", Version: opt.Version}, &mcp.ServerOptions{
		Instructions: instructions,
		Capabilities: &mcp.ServerCapabilities{Tools: &mcp.ToolCapabilities{}},
	})
	h := handlers{s: s, wait: opt.Wait}
	h.addReadTools(srv)
	if opt.AllowWrite {
		h.addWriteTools(srv)
	} else {
		srv.AddReceivingMiddleware(refuseWrites)
	}
	return srv
}

// instructions tell the assistant what the server is for.
const instructions = `mageflow flows: chains, swarms and tasks stored in a mageflow store. ` +
	`Start with list_flows (newest first, filters, paged with next_cursor), then get_flow for a flow's tree ` +
	`and get_node for one node's input, result and error. A swarm's counts come from container_summary, ` +
	`its items page by page from container_items. Ids may be given as a unique prefix of a flow's id (4 characters at least).`

// handlers are the tools' functions over one store.
type handlers struct {
	s    storage.Store
	wait time.Duration
}

// writeTools are the names of the tools that change flows.
var writeTools = []string{"suspend", "resume", "interrupt", "cancel", "retry"}

// refuseWrites answers a call of a write tool, on a server that does not
// list them, with a message that says why, instead of "unknown tool".
func refuseWrites(next mcp.MethodHandler) mcp.MethodHandler {
	return func(ctx context.Context, method string, req mcp.Request) (mcp.Result, error) {
		if method == "tools/call" {
			if p, ok := req.GetParams().(*mcp.CallToolParamsRaw); ok && slices.Contains(writeTools, p.Name) {
				return refused(fmt.Sprintf("%s changes flows, and this mageflow mcp server only reads: start it with --allow-write to allow suspend, resume, interrupt, cancel and retry", p.Name)), nil
			}
		}
		return next(ctx, method, req)
	}
}

// refused is a tool's answer that it did not do what was asked, and why.
func refused(why string) *mcp.CallToolResult {
	return &mcp.CallToolResult{IsError: true, Content: []mcp.Content{&mcp.TextContent{Text: why}}}
}

// answer is a tool's result v as compact JSON, as text and as structured
// content.
func answer(v any) (*mcp.CallToolResult, any, error) {
	b, err := json.Marshal(v)
	if err != nil {
		return nil, nil, fmt.Errorf("encode the answer: %w", err)
	}
	return &mcp.CallToolResult{
		Content:           []mcp.Content{&mcp.TextContent{Text: string(b)}},
		StructuredContent: json.RawMessage(b),
	}, nil, nil
}

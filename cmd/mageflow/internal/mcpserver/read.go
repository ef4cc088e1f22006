package mcpserver

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mageflow-go/mageflow/inspect"
	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
)

// The bounds of the answers.
const (
	defaultFlows = 20  // list_flows
	maxFlows     = 100 // list_flows
	defaultNodes = 20  // get_flow: steps or items per container
	maxNodes     = 100
	defaultItems = 50 // container_items
	maxItems     = 200
)

// filter selects flows: list_flows's, and the write tools'.
type filter struct {
	Status       []string          `json:"status,omitempty" jsonschema:"keep the flows with one of these statuses: pending, active, done, failed, suspended, interrupted, canceled"`
	Name         string            `json:"name,omitempty" jsonschema:"keep the flows of this name (flow.Named's, else the root task's name, or chain or swarm)"`
	Metadata     map[string]string `json:"metadata,omitempty" jsonschema:"keep the flows whose metadata holds every one of these key/value pairs"`
	CreatedSince string            `json:"created_since,omitempty" jsonschema:"keep the flows created since then: a duration back from now (1h, 30m) or an RFC 3339 time"`
	CreatedUntil string            `json:"created_until,omitempty" jsonschema:"keep the flows created before then: a duration back from now or an RFC 3339 time"`
}

// options is f as a listing's options, or an error that names the bad
// field.
func (f filter) options(now time.Time) (inspect.ListOptions, error) {
	opt := inspect.ListOptions{Name: f.Name, Metadata: f.Metadata}
	var err error
	if opt.Status, err = statuses(f.Status); err != nil {
		return opt, err
	}
	if f.CreatedSince != "" {
		if opt.Since, err = inspect.ParseWhen(f.CreatedSince, now); err != nil {
			return opt, fmt.Errorf("created_since: %w", err)
		}
	}
	if f.CreatedUntil != "" {
		if opt.Until, err = inspect.ParseWhen(f.CreatedUntil, now); err != nil {
			return opt, fmt.Errorf("created_until: %w", err)
		}
	}
	return opt, nil
}

// empty reports whether f selects every flow.
func (f filter) empty() bool {
	return len(f.Status) == 0 && f.Name == "" && len(f.Metadata) == 0 && f.CreatedSince == "" && f.CreatedUntil == ""
}

// statuses reads a status filter.
func statuses(in []string) ([]sig.Status, error) {
	var out []sig.Status
	for _, v := range in {
		st := sig.Status(v)
		if !st.Valid() {
			return nil, fmt.Errorf("status: unknown status %q (want pending, active, done, failed, suspended, interrupted or canceled)", v)
		}
		out = append(out, st)
	}
	return out, nil
}

type listFlowsIn struct {
	filter
	Cursor string `json:"cursor,omitempty" jsonschema:"the next_cursor of the page before, to read on"`
	Limit  int    `json:"limit,omitempty" jsonschema:"the most flows returned (default 20, at most 100)"`
}

type listFlowsOut struct {
	Flows []inspect.Summary `json:"flows"`
	// NextCursor reads the next page; absent after the last one.
	NextCursor string `json:"next_cursor,omitempty"`
	// Note says, of an empty store, where flows are.
	Note string `json:"note,omitempty"`
}

type idIn struct {
	ID string `json:"id" jsonschema:"the flow's id, a unique prefix of it, or a node's id (root.2.0)"`
}

type getFlowIn struct {
	idIn
	MaxChildren int `json:"max_children,omitempty" jsonschema:"the most steps or items shown per chain or swarm (default 20, at most 100); more counts the others"`
}

type itemsIn struct {
	idIn
	Status []string `json:"status,omitempty" jsonschema:"keep the items with one of these statuses"`
	Cursor int      `json:"cursor,omitempty" jsonschema:"the index to read from: the next_cursor of the page before"`
	Limit  int      `json:"limit,omitempty" jsonschema:"the most items returned (default 50, at most 200)"`
}

type itemsOut struct {
	Items      []*inspect.Node `json:"items"`
	NextCursor *int            `json:"next_cursor,omitempty"`
}

// summaryOut is a container's counts.
type summaryOut struct {
	ID     string     `json:"id"`
	Kind   sig.Kind   `json:"kind"`
	Name   string     `json:"name"`
	Status sig.Status `json:"status"`
	Total  int        `json:"total"`
	// Counts are the steps or items by status (every status, zeros
	// included).
	Counts map[sig.Status]int `json:"counts"`
	// Closed says, of a swarm, that no more items will be added.
	Closed *bool `json:"closed,omitempty"`
	// MaxConcurrency is a swarm's limit of items running at once.
	MaxConcurrency int `json:"max_concurrency,omitempty"`
	// CurrentStep is a chain's step under way (or where it stopped).
	CurrentStep *int           `json:"current_step,omitempty"`
	LastError   *sig.ErrorInfo `json:"last_error,omitempty"`
}

type tasksOut struct {
	Tasks []storage.TaskInfo `json:"tasks"`
}

func (h handlers) addReadTools(srv *mcp.Server) {
	read := &mcp.ToolAnnotations{ReadOnlyHint: true, OpenWorldHint: new(bool)}
	mcp.AddTool(srv, &mcp.Tool{Name: "list_flows", Annotations: read,
		Description: "List the flows the store holds, newest first: id, name, kind, status, progress (done/failed/total), times, error, metadata. Filters combine; a page holds at most limit flows, and next_cursor reads the next page."}, h.listFlows)
	mcp.AddTool(srv, &mcp.Tool{Name: "get_flow", Annotations: read,
		Description: "A flow as a tree: its chains' steps, swarms' items (at most max_children each; more counts the rest, failed_more lists failed ones among them) and callbacks, each with status, attempts, times, input, result and error."}, h.getFlow)
	mcp.AddTool(srv, &mcp.Tool{Name: "get_node", Annotations: read,
		Description: "One node of a flow (a task, chain or swarm) without what hangs under it: status, attempts, times, bound args, input, result, error, metadata on a root."}, h.getNode)
	mcp.AddTool(srv, &mcp.Tool{Name: "container_summary", Annotations: read,
		Description: "A chain's or swarm's counts by status (pending, active, done, failed, other), from the counts it keeps: one read, however large the swarm."}, h.containerSummary)
	mcp.AddTool(srv, &mcp.Tool{Name: "container_items", Annotations: read,
		Description: "A page of a chain's steps or a swarm's items, in order, optionally only those of some statuses; next_cursor reads the next page."}, h.containerItems)
	mcp.AddTool(srv, &mcp.Tool{Name: "list_tasks", Annotations: read,
		Description: "The tasks the store's workers registered: name, input and output Go types, when a worker with it last started."}, h.listTasks)
}

func (h handlers) listFlows(ctx context.Context, _ *mcp.CallToolRequest, in listFlowsIn) (*mcp.CallToolResult, any, error) {
	opt, err := in.options(time.Now())
	if err != nil {
		return refused(err.Error()), nil, nil
	}
	opt.Cursor, opt.Limit = in.Cursor, bound(in.Limit, defaultFlows, maxFlows)
	p, err := inspect.ListPage(ctx, h.s, opt)
	if err != nil {
		return failed(err)
	}
	out := listFlowsOut{Flows: p.Flows, NextCursor: p.Next}
	for i := range out.Flows {
		out.Flows[i].Error = cutError(out.Flows[i].Error)
	}
	if out.Flows == nil {
		out.Flows = []inspect.Summary{}
		if in.filter.empty() && in.Cursor == "" {
			out.Note = elsewhere(ctx, h.s)
		}
	}
	return answer(out)
}

func (h handlers) getFlow(ctx context.Context, _ *mcp.CallToolRequest, in getFlowIn) (*mcp.CallToolResult, any, error) {
	id, err := h.resolve(ctx, in.ID)
	if err != nil {
		return failed(err)
	}
	t, err := inspect.Tree(ctx, h.s, id, inspect.TreeOptions{MaxChildren: bound(in.MaxChildren, defaultNodes, maxNodes)})
	if err != nil {
		return failed(err)
	}
	pruneTree(t, maxTreeNodes)
	cutTree(t, maxTreePayload)
	return answer(t)
}

func (h handlers) getNode(ctx context.Context, _ *mcp.CallToolRequest, in idIn) (*mcp.CallToolResult, any, error) {
	r, err := h.record(ctx, in.ID)
	if err != nil {
		return failed(err)
	}
	n := &inspect.Node{Record: r}
	cutTree(n, maxPayload)
	return answer(n)
}

func (h handlers) containerSummary(ctx context.Context, _ *mcp.CallToolRequest, in idIn) (*mcp.CallToolResult, any, error) {
	r, err := h.record(ctx, in.ID)
	if err != nil {
		return failed(err)
	}
	if r.Kind == sig.KindTask {
		return refused(fmt.Sprintf("%s is a task (%s), not a chain or swarm: get_node shows it", r.ID, r.Name)), nil, nil
	}
	return answer(summarize(r))
}

// summarize counts container r's children by status from the counts it
// keeps, without reading them. The children that have not ended as done
// or failed have the container's status when a lifecycle operation set
// it (suspended, interrupted, canceled: it applies to the whole graph);
// under a running container they run or wait; under an ended one they
// never started, or were stopped (a swarm at its failure limit).
func summarize(r *sig.Record) summaryOut {
	out := summaryOut{ID: r.ID, Kind: r.Kind, Name: inspect.NameOf(r), Status: r.Status, Total: r.Children}
	c := map[sig.Status]int{}
	for _, st := range []sig.Status{sig.Pending, sig.Active, sig.Done, sig.Failed, sig.Suspended, sig.Interrupted, sig.Canceled} {
		c[st] = 0
	}
	// started: the children entered; open: those of them not ended as
	// done or failed
	var started, open int
	if st := r.Swarm; st != nil {
		closed := st.Closed
		out.Closed, out.MaxConcurrency, out.LastError = &closed, st.Config.MaxConcurrency, cutError(st.LastError)
		if out.MaxConcurrency == 0 {
			out.MaxConcurrency = sig.DefaultMaxConcurrency
		}
		c[sig.Done], c[sig.Failed] = st.Done, st.Failed
		started = min(st.Next, r.Children)
		open = max(started-st.Done-st.Failed, 0)
	} else {
		step := r.Cursor
		out.CurrentStep, out.LastError = &step, cutError(r.Error)
		switch {
		case r.Status == sig.Done:
			c[sig.Done], started = r.Children, r.Children
		case r.Status == sig.Failed:
			c[sig.Done], c[sig.Failed], started = r.Cursor, 1, r.Cursor+1
		case r.Entered:
			c[sig.Done], started, open = r.Cursor, r.Cursor+1, 1
		}
		started = min(started, r.Children)
	}
	notStarted := r.Children - started
	switch r.Status {
	case sig.Suspended, sig.Interrupted, sig.Canceled:
		c[r.Status] += open + notStarted
	case sig.Done, sig.Failed:
		c[sig.Canceled] += open
		c[sig.Pending] += notStarted
	default:
		c[sig.Active] += open
		c[sig.Pending] += notStarted
	}
	out.Counts = c
	return out
}

func (h handlers) containerItems(ctx context.Context, _ *mcp.CallToolRequest, in itemsIn) (*mcp.CallToolResult, any, error) {
	st, err := statuses(in.Status)
	if err != nil {
		return refused(err.Error()), nil, nil
	}
	r, err := h.record(ctx, in.ID)
	if err != nil {
		return failed(err)
	}
	if r.Kind == sig.KindTask {
		return refused(fmt.Sprintf("%s is a task (%s), not a chain or swarm: get_node shows it", r.ID, r.Name)), nil, nil
	}
	p, err := inspect.Items(ctx, h.s, r.ID, inspect.ItemsOptions{Status: st, From: max(in.Cursor, 0), Limit: bound(in.Limit, defaultItems, maxItems)})
	if err != nil {
		return failed(err)
	}
	out := itemsOut{Items: p.Items}
	if out.Items == nil {
		out.Items = []*inspect.Node{}
	}
	for _, n := range out.Items {
		cutTree(n, maxTreePayload)
	}
	if p.Next >= 0 {
		next := p.Next
		out.NextCursor = &next
	}
	return answer(out)
}

func (h handlers) listTasks(ctx context.Context, _ *mcp.CallToolRequest, _ struct{}) (*mcp.CallToolResult, any, error) {
	x, ok := h.s.(storage.Tasks)
	if !ok {
		return refused("this store does not keep the tasks its workers registered"), nil, nil
	}
	tasks, err := x.Tasks(ctx)
	if err != nil {
		return failed(err)
	}
	if tasks == nil {
		tasks = []storage.TaskInfo{}
	}
	return answer(tasksOut{Tasks: tasks})
}

// record reads the record id names (resolve).
func (h handlers) record(ctx context.Context, id string) (*sig.Record, error) {
	id, err := h.resolve(ctx, id)
	if err != nil {
		return nil, err
	}
	return h.s.Get(ctx, id)
}

// prefixed is a store whose keys have a prefix, which can say under which
// prefixes its server holds flows (the Redis store).
type prefixed interface {
	Prefix() string
	Prefixes(ctx context.Context, n int) ([]string, error)
}

// elsewhere says, for a store without flows, where its server holds
// some: the server was given the wrong prefix.
func elsewhere(ctx context.Context, s storage.Store) string {
	p, ok := s.(prefixed)
	if !ok {
		return ""
	}
	others, err := p.Prefixes(ctx, 20)
	if err != nil || len(others) == 0 {
		return fmt.Sprintf("no flows under the prefix %q, nor under another one", p.Prefix())
	}
	return fmt.Sprintf("no flows under the prefix %q; flows are under %s (start mageflow mcp with --prefix P)", p.Prefix(), strings.Join(others, ", "))
}

// resolve is the record id names: itself, or the flow a prefix names.
func (h handlers) resolve(ctx context.Context, id string) (string, error) {
	if id == "" {
		return "", errors.New("id: give a flow's id, a unique prefix of it (4 characters at least), or a node's id")
	}
	return inspect.Resolve(ctx, h.s, id)
}

// failed is a tool's answer for err: what the assistant can act on (a
// missing or ambiguous id) as a tool error, the rest too, with the
// store's words.
func failed(err error) (*mcp.CallToolResult, any, error) {
	msg := message(err)
	if errors.Is(err, storage.ErrNotFound) {
		msg += " (list_flows finds flows; a flow expires some time after it ended)"
	}
	return refused(msg), nil, nil
}

// bound is n within 1..most, def for none.
func bound(n, def, most int) int {
	if n <= 0 {
		return def
	}
	return min(n, most)
}

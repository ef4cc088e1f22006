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
	"github.com/mageflow-go/mageflow/viewer"
)

// maxSteer bounds the flows one call of a write tool touches.
const maxSteer = 100

type steerIn struct {
	ID string `json:"id,omitempty" jsonschema:"the flow to change: its id or a unique prefix of it; or give a filter instead"`
	filter
	Apply       bool `json:"apply,omitempty" jsonschema:"with a filter: change the flows it selects; without apply the call only lists them"`
	WaitSeconds int  `json:"wait_seconds,omitempty" jsonschema:"how long to wait for a worker of the application to apply it, per flow (default 10, at most 60)"`
}

// steered is what a write tool did to one flow.
type steered struct {
	ID     string     `json:"id"`
	Name   string     `json:"name,omitempty"`
	Status sig.Status `json:"status,omitempty"`
	Error  string     `json:"error,omitempty"`
}

type steerOut struct {
	Op      sig.Op    `json:"op"`
	Applied bool      `json:"applied"`
	Flows   []steered `json:"flows"`
	// Skipped are the flows a filter selected that op does not apply to.
	Skipped []steered `json:"skipped,omitempty"`
	// More says that the filter selects more flows than one call touches.
	More bool   `json:"more,omitempty"`
	Note string `json:"note,omitempty"`
}

// What each write tool does, for its description.
var steerDoes = map[sig.Op]string{
	sig.OpSuspend:   "Suspend flows: nothing new starts until they are resumed; what runs finishes. Applies at once.",
	sig.OpResume:    "Resume suspended or interrupted flows: what they held starts. A worker of the application applies it.",
	sig.OpInterrupt: "Interrupt flows: their running tasks are canceled and the flows pause, to be resumed later. A worker applies it.",
	sig.OpCancel:    "Cancel flows for good: running tasks are canceled, nothing more starts, error callbacks do not fire. A worker applies it.",
	sig.OpRetry:     "Retry failed flows from where they failed: the failed tasks run again with their inputs, the rest of the flow follows. A worker applies it.",
}

func (h handlers) addWriteTools(srv *mcp.Server) {
	for _, op := range []sig.Op{sig.OpSuspend, sig.OpResume, sig.OpInterrupt, sig.OpCancel, sig.OpRetry} {
		destructive := op == sig.OpCancel || op == sig.OpInterrupt
		mcp.AddTool(srv, &mcp.Tool{
			Name:        string(op),
			Description: steerDoes[op] + fmt.Sprintf(" Give one flow's id, or a filter (lists the flows it selects; with apply, changes them, at most %d a call). Answers each flow's status after it.", maxSteer),
			Annotations: &mcp.ToolAnnotations{DestructiveHint: &destructive, OpenWorldHint: new(bool)},
		}, func(ctx context.Context, _ *mcp.CallToolRequest, in steerIn) (*mcp.CallToolResult, any, error) {
			return h.steer(ctx, op, in)
		})
	}
}

func (h handlers) steer(ctx context.Context, op sig.Op, in steerIn) (*mcp.CallToolResult, any, error) {
	wait := h.wait
	if in.WaitSeconds > 0 {
		wait = time.Duration(min(in.WaitSeconds, 60)) * time.Second
	}
	out := steerOut{Op: op, Flows: []steered{}}
	switch {
	case in.ID != "" && !in.filter.empty():
		return refused("give either id or a filter, not both"), nil, nil
	case in.ID != "":
		r, err := h.record(ctx, in.ID)
		if err != nil {
			return failed(err)
		}
		id := r.ID
		if r.Role == sig.RoleRoot {
			if why := notFor(op, inspect.Summarize(r)); why != "" {
				return refused(fmt.Sprintf("%s %s: %s", op, id, why)), nil, nil
			}
		}
		r, err = viewer.Steer(ctx, h.s, op, id, wait)
		if err != nil {
			return failed(err)
		}
		out.Applied = true
		out.Flows = append(out.Flows, steered{ID: id, Name: inspect.NameOf(r), Status: r.Status})
		return answer(out)
	case in.filter.empty():
		return refused("give a flow's id, or a filter (status, name, metadata, created_since, created_until) to select flows"), nil, nil
	}
	opt, err := in.options(time.Now())
	if err != nil {
		return refused(err.Error()), nil, nil
	}
	opt.Limit = maxSteer
	flows, more, err := inspect.Collect(ctx, h.s, opt, maxSteer)
	if err != nil {
		return failed(err)
	}
	out.More = more
	var apply []inspect.Summary
	for _, f := range flows {
		if why := notFor(op, f); why != "" {
			out.Skipped = append(out.Skipped, steered{ID: f.ID, Name: f.Name, Status: f.Status, Error: why})
			continue
		}
		apply = append(apply, f)
	}
	if !in.Apply {
		for _, f := range apply {
			out.Flows = append(out.Flows, steered{ID: f.ID, Name: f.Name, Status: f.Status})
		}
		out.Note = fmt.Sprintf("nothing changed: call %s again with apply true to %s these %d flows", op, op, len(apply))
		return answer(out)
	}
	out.Applied = true
	// the whole call waits at most maxCall, whatever the number of flows
	deadline := time.Now().Add(maxCall)
	for i, f := range apply {
		left := time.Until(deadline)
		if left <= 0 {
			out.Note = fmt.Sprintf("stopped after %d of %d flows: the call's time is up; call again to go on", i, len(apply))
			return answer(out)
		}
		r, err := viewer.Steer(ctx, h.s, op, f.ID, min(wait, left))
		if err != nil {
			out.Flows = append(out.Flows, steered{ID: f.ID, Name: f.Name, Status: f.Status, Error: message(err)})
			if errors.Is(err, viewer.ErrNoWorker) {
				out.Note = "stopped: no worker of the application applied the request in time (is one running on this store?)"
				return answer(out)
			}
			continue
		}
		out.Flows = append(out.Flows, steered{ID: f.ID, Name: f.Name, Status: r.Status})
	}
	return answer(out)
}

// maxCall bounds the time one call of a write tool waits for workers.
const maxCall = 60 * time.Second

// notFor says why op does not apply to flow f, "" when it does: a flow
// a filter selects is then skipped, not sent to a worker that would
// refuse it.
func notFor(op sig.Op, f inspect.Summary) string {
	switch {
	case op == sig.OpRetry && f.Status != sig.Failed:
		return fmt.Sprintf("%s, not failed: nothing to retry", f.Status)
	case op == sig.OpRetry && !f.Finished:
		return "failed, but its callbacks still run: retry once it ended"
	case op == sig.OpRetry:
		return ""
	case f.Status.Terminal():
		return fmt.Sprintf("ended (%s): nothing to %s", f.Status, op)
	case op == sig.OpResume && !f.Status.Paused():
		return fmt.Sprintf("%s, not suspended or interrupted: nothing to resume", f.Status)
	case op == sig.OpInterrupt && f.Status == sig.Interrupted:
		return "already interrupted"
	}
	return ""
}

// message is err's text without the names of the packages it went
// through ("viewer: ", "inspect: ").
func message(err error) string {
	msg := err.Error()
	for _, p := range []string{"viewer: ", "inspect: "} {
		msg = strings.TrimPrefix(msg, p)
	}
	return msg
}

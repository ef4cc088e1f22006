package flowtest

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"sync"

	"github.com/mageflow-go/mageflow/backend"
	"github.com/mageflow-go/mageflow/backend/memory"
)

// Dispatch is a task run the Env's client asked its backend for.
type Dispatch struct {
	// Task is the task's name.
	Task string
	// Record is the id of the task's record; Root is the id of the run it
	// belongs to.
	Record string
	Root   string
	// RunID is the backend's id of the run.
	RunID string
	// Input is the JSON the task decodes its input from (for a bound
	// task, {"args":...,"in":...}).
	Input json.RawMessage
}

// String describes d in one line.
func (d Dispatch) String() string {
	return fmt.Sprintf("%s(%s) record %s", d.Task, d.Input, d.Record)
}

// Dispatches returns the task runs dispatched since New or the last Clear,
// in order. A run dispatched again (a re-sent dispatch the backend
// deduplicated) appears once; the extra delivery of DeliverTwice does not
// appear, as it is not a dispatch.
func (e *Env) Dispatches() []Dispatch { return e.rec.list() }

// Clear forgets the dispatches recorded so far: later assertions see only
// what is dispatched after it.
func (e *Env) Clear() { e.rec.clear() }

// recorder is the backend the Env's client talks to: the memory backend,
// with each new run recorded.
type recorder struct {
	*memory.Backend

	mu   sync.Mutex
	seen map[string]bool // run ids recorded, kept across Clear
	ds   []Dispatch
}

func newRecorder(b *memory.Backend) *recorder {
	return &recorder{Backend: b, seen: make(map[string]bool)}
}

// Dispatch dispatches d and records the run it created. The lock is held
// across the dispatch so that the record's order is the dispatches' order,
// even when the run starts and dispatches before this call returns.
func (r *recorder) Dispatch(ctx context.Context, d backend.Dispatch) (string, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	id, err := r.Backend.Dispatch(ctx, d)
	if err != nil {
		return "", err
	}
	if !r.seen[id] {
		r.seen[id] = true
		r.ds = append(r.ds, Dispatch{
			Task:   d.Task,
			Record: d.Record,
			Root:   d.Root,
			RunID:  id,
			Input:  slices.Clone(d.Payload),
		})
	}
	return id, nil
}

func (r *recorder) list() []Dispatch {
	r.mu.Lock()
	defer r.mu.Unlock()
	return slices.Clone(r.ds)
}

func (r *recorder) clear() {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.ds = nil
}

// roots returns the ids of the runs the recorded dispatches belong to, in
// the order they first appear.
func (r *recorder) roots() []string {
	var out []string
	for _, d := range r.list() {
		if d.Root != "" && !slices.Contains(out, d.Root) {
			out = append(out, d.Root)
		}
	}
	return out
}

// summary names the last n dispatches, for failure messages.
func (r *recorder) summary(n int) string {
	ds := r.list()
	if len(ds) == 0 {
		return "none"
	}
	var b strings.Builder
	if len(ds) > n {
		fmt.Fprintf(&b, "... %d more, then ", len(ds)-n)
		ds = ds[len(ds)-n:]
	}
	for i, d := range ds {
		if i > 0 {
			b.WriteString("; ")
		}
		b.WriteString(d.String())
	}
	return b.String()
}

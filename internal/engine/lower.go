package engine

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"

	"github.com/mageflow-go/mageflow/backend"
	"github.com/mageflow-go/mageflow/internal/graph"
	"github.com/mageflow-go/mageflow/sig"
)

// validate checks a flow before anything is stored: every node well
// built, every task known to some worker, with the types registered here.
func (e *Engine) validate(ctx context.Context, s *graph.Spec) error {
	names := make(map[string]*graph.TaskDef)
	if err := collect(s, names, place{}); err != nil {
		return invalid(err)
	}
	for name, def := range names {
		if err := e.checkTask(ctx, name, def); err != nil {
			if errors.Is(err, backend.ErrUnknownTask) || !transient(err) {
				return invalid(err)
			}
			return err // the backend could not be asked
		}
	}
	return nil
}

// invalid marks err, the reason a flow is refused, as ErrInvalidFlow.
func invalid(err error) error {
	return &opError{msg: err.Error(), errs: []error{ErrInvalidFlow, err}}
}

// collect walks s, reporting the first badly built node, and gathers the
// tasks it uses.
func collect(s *graph.Spec, names map[string]*graph.TaskDef, where place) error {
	if s == nil {
		return fmt.Errorf("mageflow: %s is nil", where)
	}
	if s.Err != nil {
		return fmt.Errorf("mageflow: %s: %w", where, s.Err)
	}
	switch s.Kind {
	case sig.KindTask:
		if s.Task == nil {
			return fmt.Errorf("mageflow: %s: zero task (use task.New)", where)
		}
		if s.Task.Err != nil {
			return fmt.Errorf("mageflow: %s: %w", where, s.Task.Err)
		}
		name := s.Task.Name()
		if other, ok := names[name]; ok && (other.In != s.Task.In || other.Out != s.Task.Out) {
			return fmt.Errorf("mageflow: task %q is used with two types: %s -> %s and %s -> %s", name, other.In, other.Out, s.Task.In, s.Task.Out)
		}
		names[name] = s.Task
	case sig.KindChain:
		if len(s.Children) == 0 {
			return fmt.Errorf("mageflow: %s: chain with no steps", where)
		}
	case sig.KindSwarm:
		c := s.Swarm
		if c.MaxConcurrency < 0 || c.StopAfterNFailures < 0 || c.MaxItems < 0 {
			return fmt.Errorf("mageflow: %s: swarm config has a negative value: %+v", where, c)
		}
		if len(s.Children) == 0 && !s.Open {
			return fmt.Errorf("mageflow: %s: swarm with no items (sign it with flow.SignSwarm to add items later)", where)
		}
		if c.MaxItems > 0 && len(s.Children) > c.MaxItems {
			return fmt.Errorf("mageflow: %s: swarm has %d items, more than its MaxItems %d", where, len(s.Children), c.MaxItems)
		}
	default:
		return fmt.Errorf("mageflow: %s: unknown kind %q", where, s.Kind)
	}
	for i, c := range s.Children {
		if err := collect(c, names, place{node: s, role: "item", index: i}); err != nil {
			return err
		}
	}
	for i, c := range s.OnSuccess {
		if err := collect(c, names, place{node: s, role: "success callback", index: i}); err != nil {
			return err
		}
	}
	for i, c := range s.OnError {
		if err := collect(c, names, place{node: s, role: "error callback", index: i}); err != nil {
			return err
		}
	}
	return nil
}

// place says where a node sits in a flow, for error messages: the flow
// itself, or a role of a node in it ("chain item 2", "task pay success
// callback 0"). It is formatted only when there is an error.
type place struct {
	node  *graph.Spec // nil: the flow itself
	role  string
	index int
}

func (p place) String() string {
	if p.node == nil {
		return "flow"
	}
	label := string(p.node.Kind)
	if p.node.Kind == sig.KindTask && p.node.Task != nil {
		label = "task " + p.node.Task.Name()
	}
	return fmt.Sprintf("%s %s %d", label, p.role, p.index)
}

// checkTask checks that a worker knows name with def's types.
func (e *Engine) checkTask(ctx context.Context, name string, def *graph.TaskDef) error {
	e.mu.RLock()
	local, ok := e.tasks[name]
	known := e.known[name]
	e.mu.RUnlock()
	if ok {
		if local.In != def.In || local.Out != def.Out {
			return fmt.Errorf("mageflow: task %q is registered as %s -> %s but the flow uses it as %s -> %s", name, local.In, local.Out, def.In, def.Out)
		}
		return nil
	}
	if known {
		return nil
	}
	found, err := e.backend.Known(ctx, name)
	if err != nil {
		return fmt.Errorf("mageflow: look up task %q: %w", name, err)
	}
	if !found {
		return fmt.Errorf("mageflow: task %q: no worker registered it: %w", name, backend.ErrUnknownTask)
	}
	e.mu.Lock()
	e.known[name] = true
	e.mu.Unlock()
	return nil
}

// lowering turns specs into records. The records of each spec lowered
// from the top come from one allocation (a graph's records are stored and
// expire together).
type lowering struct {
	recs []*sig.Record
	slab []sig.Record
}

// nodes counts the nodes of s: itself, its children and its callbacks.
func nodes(s *graph.Spec) int {
	n := 1
	for _, list := range [][]*graph.Spec{s.Children, s.OnSuccess, s.OnError} {
		for _, c := range list {
			n += nodes(c)
		}
	}
	return n
}

// lower turns s into records placed at id under parent.
func (l *lowering) lower(s *graph.Spec, id, root, parent string, role sig.Role, index int) error {
	if len(l.slab) == 0 { // s is lowered from the top
		n := nodes(s)
		l.slab = make([]sig.Record, n)
		l.recs = slices.Grow(l.recs, n)
	}
	// the slab is zero: only the fields that are not are set, which
	// costs less than writing the whole record
	r := &l.slab[0]
	l.slab = l.slab[1:]
	r.ID, r.Root, r.Kind, r.Name, r.Label = id, root, s.Kind, s.Name, s.Label
	r.Parent, r.Role, r.Index = parent, role, index
	r.Children, r.OnSuccess, r.OnError = len(s.Children), len(s.OnSuccess), len(s.OnError)
	r.Args = s.Args
	switch s.Kind {
	case sig.KindTask:
		r.Name = s.Task.Name()
	case sig.KindSwarm:
		r.Swarm = &sig.SwarmState{Config: s.Swarm, Closed: !s.Open, Settled: s.Settled}
		if r.Name == "" {
			r.Name = "swarm"
		}
	case sig.KindChain:
		if r.Name == "" {
			r.Name = "chain"
		}
	}
	if !sig.ValidID(id) {
		return errors.New("mageflow: graph too deep: record id too long")
	}
	l.recs = append(l.recs, r)
	ids := newChildIDs(id, len(s.Children))
	for i, c := range s.Children {
		var cid string
		cid, ids = ids.next(i)
		if err := l.lower(c, cid, root, id, sig.RoleChild, i); err != nil {
			return err
		}
	}
	for i, c := range s.OnSuccess {
		if err := l.lower(c, sig.SuccessID(id, i), root, id, sig.RoleSuccess, i); err != nil {
			return err
		}
	}
	for i, c := range s.OnError {
		if err := l.lower(c, sig.ErrorID(id, i), root, id, sig.RoleError, i); err != nil {
			return err
		}
	}
	return nil
}

// childIDs are the ids of the children of one node, sig.ChildID(parent,
// i) for i from 0, made in one allocation: they are stored together, and
// expire together.
type childIDs struct {
	parent string
	all    string // every id, one after the other
}

// newChildIDs returns the ids of n children of parent.
func newChildIDs(parent string, n int) childIDs {
	if n <= 1 {
		return childIDs{parent: parent}
	}
	size := 0
	for i := range n {
		size += len(parent) + 1 + digits(i)
	}
	var b strings.Builder
	b.Grow(size)
	var buf [20]byte
	for i := range n {
		b.WriteString(parent)
		b.WriteByte('.')
		b.Write(strconv.AppendInt(buf[:0], int64(i), 10))
	}
	return childIDs{parent: parent, all: b.String()}
}

// next returns the id of child i, the next one, and the ids after it.
func (c childIDs) next(i int) (string, childIDs) {
	if c.all == "" {
		return sig.ChildID(c.parent, i), c
	}
	n := len(c.parent) + 1 + digits(i)
	id := c.all[:n]
	c.all = c.all[n:]
	return id, c
}

// digits is the number of decimal digits of i, which is not negative.
func digits(i int) int {
	n := 1
	for i >= 10 {
		i /= 10
		n++
	}
	return n
}

// graphTTL is the TTL of a graph: the largest TTLs of the kinds of node it
// holds, so that no record expires sooner than its kind asks.
func (e *Engine) graphTTL(s *graph.Spec) TTL {
	t := e.ttl[s.Kind]
	if s.Open { // items of any kind may come
		for _, kt := range e.ttl {
			t.Active = max(t.Active, kt.Active)
			t.Done = max(t.Done, kt.Done)
		}
	}
	for _, group := range [][]*graph.Spec{s.Children, s.OnSuccess, s.OnError} {
		for _, c := range group {
			ct := e.graphTTL(c)
			t.Active = max(t.Active, ct.Active)
			t.Done = max(t.Done, ct.Done)
		}
	}
	return t
}

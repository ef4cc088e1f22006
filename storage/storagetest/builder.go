package storagetest

import (
	"time"

	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
)

// The TTLs of the graphs the suite builds, unless a case sets others. They
// differ widely so that a check can tell which one a record got.
const (
	defaultActiveTTL = time.Hour
	defaultDoneTTL   = 10 * time.Minute
)

// node is a node of a graph under construction: a task, a chain or a swarm,
// with its callbacks. lower turns it into records.
type node struct {
	kind      sig.Kind
	name      string
	args      []byte
	children  []*node
	cfg       sig.SwarmConfig
	open      bool
	settled   bool
	onSuccess []*node
	onError   []*node
}

// task is a task node; its name selects what the driver's perform does.
func task(name string) *node { return &node{kind: sig.KindTask, name: name} }

// chain is a chain of steps.
func chain(steps ...*node) *node {
	return &node{kind: sig.KindChain, name: "chain", children: steps}
}

// swarm is a closed swarm of items with configuration cfg.
func swarm(cfg sig.SwarmConfig, items ...*node) *node {
	return &node{kind: sig.KindSwarm, name: "swarm", children: items, cfg: cfg}
}

// withArgs binds JSON args to a task.
func (n *node) withArgs(args string) *node {
	n.args = []byte(args)
	return n
}

// opened leaves a swarm open: it completes only after CloseSwarm.
func (n *node) opened() *node {
	n.open = true
	return n
}

// settle makes a swarm's result every item's outcome.
func (n *node) settle() *node {
	n.settled = true
	return n
}

// success appends success callbacks.
func (n *node) success(cbs ...*node) *node {
	n.onSuccess = append(n.onSuccess, cbs...)
	return n
}

// failure appends error callbacks.
func (n *node) failure(cbs ...*node) *node {
	n.onError = append(n.onError, cbs...)
	return n
}

// ttls are the TTLs of a lowered graph.
type ttls struct {
	active, done time.Duration
}

// defaultTTLs are the TTLs of graphs whose case does not choose.
var defaultTTLs = ttls{active: defaultActiveTTL, done: defaultDoneTTL}

// graph is a lowered graph: its root id and its records, root first, each
// parent before its children.
type graph struct {
	root string
	recs []*sig.Record
	ttl  ttls
}

// newGraph lowers n as the root of a graph with root id root.
func newGraph(root string, n *node, ttl ttls) *graph {
	return &graph{root: root, recs: lower(n, root, root, "", sig.RoleRoot, 0, nil), ttl: ttl}
}

// stored is g as CreateGraph takes it, with copies of its records.
func (g *graph) stored(start bool, input []byte) storage.Graph {
	return storage.Graph{Records: cloneRecords(g.recs), ActiveTTL: g.ttl.active, DoneTTL: g.ttl.done, Start: start, Input: input}
}

// lowerItems lowers items as swarm items of swarm id, numbered from base,
// with their descendants: the argument of Store.AddItems.
func lowerItems(root, id string, base int, items ...*node) []*sig.Record {
	var out []*sig.Record
	for i, it := range items {
		out = lower(it, sig.ChildID(id, base+i), root, id, sig.RoleChild, base+i, out)
	}
	return out
}

// lower appends the records of n (with id id) and its descendants to out in
// pre-order: n, its children, its success callbacks, its error callbacks.
func lower(n *node, id, root, parent string, role sig.Role, index int, out []*sig.Record) []*sig.Record {
	r := &sig.Record{
		ID:        id,
		Root:      root,
		Kind:      n.kind,
		Name:      n.name,
		Parent:    parent,
		Role:      role,
		Index:     index,
		Children:  len(n.children),
		OnSuccess: len(n.onSuccess),
		OnError:   len(n.onError),
		Args:      n.args,
	}
	if n.kind == sig.KindSwarm {
		r.Swarm = &sig.SwarmState{Config: n.cfg, Closed: !n.open, Settled: n.settled}
	}
	out = append(out, r)
	for i, c := range n.children {
		out = lower(c, sig.ChildID(id, i), root, id, sig.RoleChild, i, out)
	}
	for i, c := range n.onSuccess {
		out = lower(c, sig.SuccessID(id, i), root, id, sig.RoleSuccess, i, out)
	}
	for i, c := range n.onError {
		out = lower(c, sig.ErrorID(id, i), root, id, sig.RoleError, i, out)
	}
	return out
}

// ids returns the ids of every record of g.
func (g *graph) ids() []string {
	ids := make([]string, len(g.recs))
	for i, r := range g.recs {
		ids[i] = r.ID
	}
	return ids
}

// cloneRecords returns copies of recs, to hand to a store that may keep
// or change what it is given.
func cloneRecords(recs []*sig.Record) []*sig.Record {
	out := make([]*sig.Record, len(recs))
	for i, r := range recs {
		out[i] = r.Clone()
	}
	return out
}

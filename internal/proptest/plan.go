package proptest

import (
	"strconv"

	"github.com/mageflow-go/mageflow/sig"
)

// Plan is the record tree the engine stores for a graph, with each
// record's path below the root: "" for the root, ".0" for its first child,
// ".s1" for its second success callback, ".e0" for its first error
// callback (sig.ChildID, SuccessID, ErrorID). It mirrors how package flow
// builds specs (flow/then.go: a chain step that is a plain chain, without
// callbacks, is flattened into its parent) and how internal/engine/lower.go
// places them.
type Plan struct {
	Path string
	Kind sig.Kind
	// Task is the task's name, for Kind task.
	Task string
	// Node is the AST node of a task of the alphabet; nil for the fold and
	// record tasks.
	Node *Node
	// Label is the label of a record task (rec-ok or rec-err), else 0.
	Label int
	// Cap and Stop configure a swarm.
	Cap, Stop int
	Children  []*Plan
	OnOK      []*Plan
	OnErr     []*Plan
}

// The task names of the alphabet.
const (
	NameDouble = "double"
	NameNegate = "negate"
	NameAdd    = "add"
	NameFail   = "fail"
	NameFold   = "fold"
	NameRecOK  = "rec-ok"
	NameRecErr = "rec-err"
)

// FlakyName is the name of the flaky task with r retries.
func FlakyName(r int) string { return "flaky-r" + strconv.Itoa(r) }

// MaxFlakyRetries is the largest R of a Flaky task.
const MaxFlakyRetries = 2

// TaskNames lists every task name of the alphabet.
func TaskNames() []string {
	names := []string{NameDouble, NameNegate, NameAdd, NameFail, NameFold, NameRecOK, NameRecErr}
	for r := 0; r <= MaxFlakyRetries; r++ {
		names = append(names, FlakyName(r))
	}
	return names
}

// PlanOf lowers n as package flow and the engine do, and places the
// records.
func PlanOf(n *Node) *Plan {
	p := spec(n)
	place(p, "")
	return p
}

// spec mirrors build: the spec package flow makes for n.
func spec(n *Node) *Plan {
	var p *Plan
	switch n.Kind {
	case Task:
		p = &Plan{Kind: sig.KindTask, Task: taskName(n), Node: n}
	case Chain:
		p = &Plan{Kind: sig.KindChain}
		for _, s := range n.Steps {
			p.Children = append(p.Children, stepsOf(spec(s))...)
		}
	case Swarm:
		s := &Plan{Kind: sig.KindSwarm, Cap: n.Cap, Stop: n.Stop}
		for _, it := range n.Steps {
			s.Children = append(s.Children, spec(it))
		}
		p = &Plan{Kind: sig.KindChain, Children: []*Plan{s, {Kind: sig.KindTask, Task: NameFold}}}
	}
	for _, cb := range n.OnOK {
		p.OnOK = append(p.OnOK, callbackSpec(cb, NameRecOK))
	}
	for _, cb := range n.OnErr {
		p.OnErr = append(p.OnErr, callbackSpec(cb, NameRecErr))
	}
	return p
}

// callbackSpec is the spec of a callback: its record task, alone or
// chained before its body.
func callbackSpec(cb *Callback, rec string) *Plan {
	r := &Plan{Kind: sig.KindTask, Task: rec, Label: cb.Label}
	if cb.Body == nil {
		return r
	}
	return &Plan{Kind: sig.KindChain, Children: append([]*Plan{r}, stepsOf(spec(cb.Body))...)}
}

// stepsOf mirrors flow/then.go's stepsOf: a plain chain gives its steps.
func stepsOf(p *Plan) []*Plan {
	if p.Kind == sig.KindChain && len(p.OnOK) == 0 && len(p.OnErr) == 0 {
		return p.Children
	}
	return []*Plan{p}
}

func place(p *Plan, path string) {
	p.Path = path
	for i, c := range p.Children {
		place(c, path+"."+strconv.Itoa(i))
	}
	for i, c := range p.OnOK {
		place(c, path+".s"+strconv.Itoa(i))
	}
	for i, c := range p.OnErr {
		place(c, path+".e"+strconv.Itoa(i))
	}
}

func taskName(n *Node) string {
	switch n.Op {
	case Double:
		return NameDouble
	case Negate:
		return NameNegate
	case Add:
		return NameAdd
	case Fail:
		return NameFail
	case Flaky:
		return FlakyName(n.R)
	}
	return "?"
}

// Walk calls fn on p and every plan below it, callbacks included.
func (p *Plan) Walk(fn func(*Plan)) {
	fn(p)
	for _, group := range [][]*Plan{p.Children, p.OnOK, p.OnErr} {
		for _, c := range group {
			c.Walk(fn)
		}
	}
}

// slot is a swarm item that a task runs inside: the swarm's path, the
// item's index and the swarm's cap.
type slot struct {
	swarm string
	item  int
	cap   int
}

// slots returns, for every task path, the swarm items whose slot the task
// runs in: the ancestor swarms reached through child links only. A
// callback does not hold its node's slot (the slot is freed by the same
// transition that enters the callbacks, storage/transition/machine.go
// complete and notifyParent), so a callback starts a new, slot-free path.
func (p *Plan) slots() map[string][]slot {
	out := make(map[string][]slot)
	var walk func(p *Plan, in []slot)
	walk = func(p *Plan, in []slot) {
		if p.Kind == sig.KindTask {
			out[p.Path] = in
		}
		for i, c := range p.Children {
			next := in
			if p.Kind == sig.KindSwarm {
				capacity := p.Cap
				if capacity <= 0 {
					capacity = sig.DefaultMaxConcurrency
				}
				next = append(append([]slot(nil), in...), slot{swarm: p.Path, item: i, cap: capacity})
			}
			walk(c, next)
		}
		for _, group := range [][]*Plan{p.OnOK, p.OnErr} {
			for _, c := range group {
				walk(c, nil)
			}
		}
	}
	walk(p, nil)
	return out
}

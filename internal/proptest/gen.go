package proptest

import (
	"pgregory.net/rapid"

	"github.com/mageflow-go/mageflow/sig"
)

// Bounds of generated graphs.
const (
	// MaxDepth is how deep chains, swarms and callback bodies nest.
	MaxDepth = 3
	// MaxTasks bounds the task nodes of a graph (callbacks included);
	// once it is spent, only plain tasks are drawn.
	MaxTasks = 24
	// MaxSteps and MaxItems bound a chain's steps and a swarm's items.
	MaxSteps = 4
	MaxItems = 5
	// MaxCallbacks bounds the success and the error callbacks of a node.
	MaxCallbacks = 2
	// MaxFaults bounds the faults of a case.
	MaxFaults = 4
)

// Cases generates cases; with faults, each comes with up to MaxFaults
// injected faults.
func Cases(faults bool) *rapid.Generator[Case] {
	return rapid.Custom(func(t *rapid.T) Case {
		g := Graphs().Draw(t, "graph")
		c := Case{Graph: g, Input: rapid.IntRange(-5, 5).Draw(t, "input")}
		if faults {
			c.Faults = drawFaults(t, PlanOf(g))
		}
		return c
	})
}

// Graphs generates graphs, numbered (see Number).
func Graphs() *rapid.Generator[*Node] {
	return rapid.Custom(func(t *rapid.T) *Node {
		budget := MaxTasks
		n := drawNode(t, MaxDepth, &budget)
		Number(n)
		return n
	})
}

func drawNode(t *rapid.T, depth int, budget *int) *Node {
	kind := Task
	if depth > 0 && *budget > 2 {
		// tasks half the time, chains and swarms a quarter each
		switch rapid.IntRange(0, 3).Draw(t, "kind") {
		case 2:
			kind = Chain
		case 3:
			kind = Swarm
		}
	}
	var n *Node
	switch kind {
	case Task:
		*budget--
		n = drawTask(t)
	case Chain:
		n = &Node{Kind: Chain}
		for range rapid.IntRange(1, MaxSteps).Draw(t, "steps") {
			n.Steps = append(n.Steps, drawNode(t, depth-1, budget))
		}
	case Swarm:
		*budget-- // the fold
		n = &Node{
			Kind: Swarm,
			Cap:  rapid.IntRange(0, 3).Draw(t, "cap"),
			Stop: rapid.IntRange(0, 3).Draw(t, "stop"),
		}
		for range rapid.IntRange(1, MaxItems).Draw(t, "items") {
			n.Steps = append(n.Steps, drawNode(t, depth-1, budget))
		}
	}
	if *budget > 0 {
		n.OnOK = drawCallbacks(t, depth, budget, "onSuccess")
		n.OnErr = drawCallbacks(t, depth, budget, "onError")
	}
	return n
}

func drawTask(t *rapid.T) *Node {
	// ops by weight: double 3, negate 2, add 2, fail 1, flaky 2
	switch op := rapid.IntRange(0, 9).Draw(t, "op"); {
	case op <= 2:
		return &Node{Kind: Task, Op: Double}
	case op <= 4:
		return &Node{Kind: Task, Op: Negate}
	case op <= 6:
		return &Node{Kind: Task, Op: Add, K: rapid.IntRange(-3, 3).Draw(t, "k")}
	case op == 7:
		return &Node{Kind: Task, Op: Fail}
	default:
		return &Node{Kind: Task, Op: Flaky,
			K: rapid.IntRange(0, MaxFlakyRetries+1).Draw(t, "failing attempts"),
			R: rapid.IntRange(0, MaxFlakyRetries).Draw(t, "retries")}
	}
}

func drawCallbacks(t *rapid.T, depth int, budget *int, what string) []*Callback {
	var cbs []*Callback
	// most nodes get none
	n := max(0, rapid.IntRange(-3, MaxCallbacks).Draw(t, what))
	for range n {
		if *budget <= 0 {
			break
		}
		*budget--
		cb := &Callback{}
		if depth > 0 && *budget > 1 && rapid.Bool().Draw(t, what+" body") {
			cb.Body = drawNode(t, depth-1, budget)
		}
		cbs = append(cbs, cb)
	}
	return cbs
}

// drawFaults draws the faults of a case over the graph of p.
func drawFaults(t *rapid.T, p *Plan) []Fault {
	// tasks whose first attempt may fail without changing their outcome:
	// every task with a retry to spare (fail and flaky tasks have their
	// own rules)
	var retriable []string
	p.Walk(func(q *Plan) {
		if q.Kind == sig.KindTask && (q.Node == nil || (q.Node.Op != Fail && q.Node.Op != Flaky)) {
			retriable = append(retriable, q.Path)
		}
	})
	names := append([]string{""}, TaskNames()...)
	var faults []Fault
	for range rapid.IntRange(0, MaxFaults).Draw(t, "faults") {
		k := FaultKind(rapid.IntRange(int(Retry), int(Pause)).Draw(t, "fault kind"))
		if k == Retry && len(retriable) == 0 {
			k = DuplicateDelivery
		}
		if k == Retry {
			faults = append(faults, Fault{Kind: Retry, Record: rapid.SampledFrom(retriable).Draw(t, "retried record")})
			continue
		}
		f := Fault{Kind: k, Times: rapid.IntRange(1, 5).Draw(t, "times")}
		if k != Pause {
			f.Task = rapid.SampledFrom(names).Draw(t, "fault task")
		}
		faults = append(faults, f)
	}
	return faults
}

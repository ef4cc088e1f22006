package proptest

import (
	"fmt"
	"strings"
)

// Kind is what an AST node is.
type Kind int

// The kinds of node.
const (
	// Task is one task of the alphabet.
	Task Kind = iota
	// Chain runs its steps one after the other.
	Chain
	// Swarm runs its items in parallel on one input, then folds the
	// results of the items that succeeded into an int:
	// flow.Then(flow.Swarm(...), fold).
	Swarm
)

// Op is a task of the alphabet.
type Op int

// The alphabet. Every task goes from int to int.
const (
	// Double returns 2n.
	Double Op = iota
	// Negate returns -n.
	Negate
	// Add returns n+K (K bound with flow.Bind).
	Add
	// Fail fails for good (task.NonRetryable) with message "fail#ID".
	Fail
	// Flaky fails its first K attempts with message "flaky#ID" and has R
	// retries: it returns n+1 when K <= R, and fails for good otherwise.
	Flaky
)

// Node is a generated flow from int to int.
type Node struct {
	Kind Kind
	// Op, K, R and ID describe a Task: K is Add's addend or Flaky's
	// failing attempts, R is Flaky's retries, ID numbers Fail and Flaky
	// tasks (their error message names it).
	Op    Op
	K, R  int
	ID    int
	Steps []*Node // a chain's steps or a swarm's items
	// Cap and Stop are a swarm's MaxConcurrency and StopAfterNFailures
	// (0: the default).
	Cap, Stop int
	// OnOK and OnErr are the node's success and error callbacks, in the
	// order they are attached.
	OnOK, OnErr []*Callback
}

// Callback is a success or error callback: the record task with a label
// of its own (rec#Label), then Body when it is not nil. An error
// callback's record task turns the flow.Failure[int] into its input.
type Callback struct {
	Label int
	Body  *Node
}

// Fault is an injected misbehaviour of a run.
type Fault struct {
	// Kind is a backend/memory fault kind; 0 means Retry.
	Kind FaultKind
	// Task is the task name the fault applies to ("" for any); Times how
	// often it fires.
	Task  string
	Times int
	// Record is, for Retry, the record (path below the root, like ".0.s1")
	// whose first attempt fails with a retryable error.
	Record string
}

// FaultKind names an injected fault.
type FaultKind int

// The faults a run can be given.
const (
	// Retry fails the first attempt of one record, which its task's retry
	// then runs again.
	Retry FaultKind = iota
	DuplicateDelivery
	Redeliver
	CrashBeforeDispatch
	// Refuse makes the backend refuse the dispatches that follow the
	// Times-th, more than the engine tries to send one (refuseCalls): the
	// effect stays owed and the worker's recovery delivers it.
	Refuse
	// LoseReply loses the store's reply to its Times-th transition (a
	// create, complete or fail) after the store applied it.
	LoseReply
	// Pause suspends the flow once Times tasks ended (completes and
	// fails, any task), and resumes it PauseFor later: a graceful pause
	// changes nothing of what the flow does.
	Pause
)

func (k FaultKind) String() string {
	switch k {
	case Retry:
		return "retry"
	case DuplicateDelivery:
		return "dup"
	case Redeliver:
		return "redeliver"
	case CrashBeforeDispatch:
		return "crash"
	case Refuse:
		return "refuse"
	case LoseReply:
		return "lose-reply"
	case Pause:
		return "pause"
	}
	return fmt.Sprintf("fault(%d)", int(k))
}

// Case is one generated run: a graph, its input and its faults.
type Case struct {
	Graph  *Node
	Input  int
	Faults []Fault
}

// String prints the case compactly.
func (c Case) String() string {
	var b strings.Builder
	fmt.Fprintf(&b, "%v on input %d", c.Graph, c.Input)
	if len(c.Faults) > 0 {
		b.WriteString(" with faults [")
		for i, f := range c.Faults {
			if i > 0 {
				b.WriteString(", ")
			}
			b.WriteString(f.String())
		}
		b.WriteString("]")
	}
	return b.String()
}

// GoString is what rapid prints for a drawn case.
func (c Case) GoString() string { return c.String() }

func (f Fault) String() string {
	if f.Kind == Retry {
		return "retry@root" + f.Record
	}
	task := f.Task
	if task == "" {
		task = "*"
	}
	return fmt.Sprintf("%v(%s)x%d", f.Kind, task, f.Times)
}

// String prints the node compactly, e.g.
// chain(double, fold(swarm[cap=1,stop=2](add(3), fail#1))).onError(rec#4).
func (n *Node) String() string {
	var b strings.Builder
	n.write(&b)
	return b.String()
}

// GoString is what rapid prints for a drawn node.
func (n *Node) GoString() string { return n.String() }

func (n *Node) write(b *strings.Builder) {
	if n == nil {
		b.WriteString("<nil>")
		return
	}
	switch n.Kind {
	case Task:
		switch n.Op {
		case Double:
			b.WriteString("double")
		case Negate:
			b.WriteString("neg")
		case Add:
			fmt.Fprintf(b, "add(%d)", n.K)
		case Fail:
			fmt.Fprintf(b, "fail#%d", n.ID)
		case Flaky:
			fmt.Fprintf(b, "flaky#%d(k=%d,r=%d)", n.ID, n.K, n.R)
		}
	case Chain:
		b.WriteString("chain(")
		writeList(b, n.Steps)
		b.WriteString(")")
	case Swarm:
		fmt.Fprintf(b, "fold(swarm[cap=%d,stop=%d](", n.Cap, n.Stop)
		writeList(b, n.Steps)
		b.WriteString("))")
	}
	for _, cb := range n.OnOK {
		b.WriteString(".onSuccess(")
		cb.write(b)
		b.WriteString(")")
	}
	for _, cb := range n.OnErr {
		b.WriteString(".onError(")
		cb.write(b)
		b.WriteString(")")
	}
}

func (cb *Callback) write(b *strings.Builder) {
	fmt.Fprintf(b, "rec#%d", cb.Label)
	if cb.Body != nil {
		b.WriteString(" -> ")
		cb.Body.write(b)
	}
}

func writeList(b *strings.Builder, ns []*Node) {
	for i, s := range ns {
		if i > 0 {
			b.WriteString(", ")
		}
		s.write(b)
	}
}

// Number gives every Fail and Flaky task and every callback a number of
// its own, in pre-order, so that messages and labels name one node.
func Number(n *Node) {
	next := 0
	var walk func(n *Node)
	walk = func(n *Node) {
		if n == nil {
			return
		}
		if n.Kind == Task && (n.Op == Fail || n.Op == Flaky) {
			next++
			n.ID = next
		}
		for _, s := range n.Steps {
			walk(s)
		}
		for _, cbs := range [][]*Callback{n.OnOK, n.OnErr} {
			for _, cb := range cbs {
				next++
				cb.Label = next
				walk(cb.Body)
			}
		}
	}
	walk(n)
}

// Package graph holds the erased form of flows: what package flow builds
// and the engine lowers into stored records. Its types appear in exported
// method signatures of task and flow so that only this module can implement
// flow.Flow.
package graph

import (
	"context"
	"reflect"

	"github.com/mageflow-go/mageflow/backend"
	"github.com/mageflow-go/mageflow/sig"
)

// TaskDef is a task erased to names and bytes.
type TaskDef struct {
	Spec backend.TaskSpec
	// In and Out are the task's Go types, to catch a name registered with
	// other types.
	In, Out reflect.Type
	// Invoke decodes payload into In, calls the function and encodes Out.
	Invoke func(ctx context.Context, payload []byte) ([]byte, error)
	// Err is set when the task was built with bad arguments.
	Err error
}

// Name is the task's name.
func (d *TaskDef) Name() string { return d.Spec.Name }

// Spec is one node of a flow: a task, a chain or a swarm, with callbacks.
// Specs are immutable once built and may be shared between flows.
type Spec struct {
	Kind sig.Kind
	// Name labels a chain or swarm; tasks use their TaskDef's name.
	Name string
	// Label is the name flow.Named gave the node, for the tools.
	Label string
	// Task is set for Kind task.
	Task *TaskDef
	// Args are bound arguments (JSON), for tasks.
	Args []byte
	// Children are a chain's steps or a swarm's items.
	Children []*Spec
	// Swarm configures a swarm; Open leaves it accepting items.
	Swarm sig.SwarmConfig
	Open  bool
	// Settled makes a swarm's output every item's outcome (flow.Settled).
	Settled bool
	// OnSuccess and OnError are callbacks.
	OnSuccess []*Spec
	OnError   []*Spec
	// Err is set when the flow was built with bad arguments; it is
	// reported when the flow is started or signed.
	Err error
}

// WithCallbacks returns a copy of s with more callbacks.
func (s *Spec) WithCallbacks(success, failure []*Spec) *Spec {
	c := *s
	c.OnSuccess = append(append([]*Spec(nil), s.OnSuccess...), success...)
	c.OnError = append(append([]*Spec(nil), s.OnError...), failure...)
	return &c
}

// Ref is a Spec typed with its flow's input and output. Its type
// parameters let the compiler infer them from any flow. Outside this
// module it is opaque: only this module's packages reach its Spec, with
// RefOf and SpecOf.
type Ref[In, Out any] struct {
	spec *Spec
}

// RefOf returns s typed as a flow from In to Out.
func RefOf[In, Out any](s *Spec) Ref[In, Out] { return Ref[In, Out]{spec: s} }

// SpecOf returns the Spec of r.
func SpecOf[In, Out any](r Ref[In, Out]) *Spec { return r.spec }

// Def is a task's TaskDef as package task hands it to a client: opaque
// outside this module, so that no caller changes a task's definition.
type Def struct {
	def *TaskDef
}

// DefOf returns d as a Def.
func DefOf(d *TaskDef) Def { return Def{def: d} }

// TaskDefOf returns the TaskDef of d (nil for a zero Task's).
func TaskDefOf(d Def) *TaskDef { return d.def }

// InfoKey is the context key of a running task's task.RunInfo (a RunInfo
// or a *RunInfo), shared by package task and the engine.
type InfoKey struct{}

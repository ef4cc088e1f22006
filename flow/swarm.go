package flow

import (
	"fmt"

	"github.com/mageflow-go/mageflow/internal/graph"
	"github.com/mageflow-go/mageflow/sig"
)

// SwarmConfig limits a swarm. Zero values mean the defaults:
// MaxConcurrency 30, no failure limit (failed items are tolerated), no cap
// on items. When StopAfterNFailures items have failed, the swarm fails: its
// items not started never start, and the items still running are stopped
// (their records end Canceled and their tasks' contexts are canceled), so
// a failed swarm holds no slot of an enclosing swarm.
type SwarmConfig = sig.SwarmConfig

// SwarmFlow is a swarm: items that each receive the swarm's input and run
// in parallel, at most MaxConcurrency at once. Its output is the items'
// outputs in item order (only the successful items', when failures are
// tolerated). It is a Flow[In, []Out].
type SwarmFlow[In, Out any] struct {
	spec *graph.Spec
}

// Swarm runs items in parallel, each with the swarm's input. An empty swarm
// needs explicit types (flow.Swarm[int, int]()) and can only be signed
// with [SignSwarm], to receive items later.
func Swarm[In, Out any](items ...Flow[In, Out]) *SwarmFlow[In, Out] {
	s := &graph.Spec{Kind: sig.KindSwarm}
	for i, it := range items {
		sp := specOf(it)
		if sp == nil {
			s.Err = fmt.Errorf("flow.Swarm: item %d is nil", i)
			break
		}
		s.Children = append(s.Children, sp)
	}
	return &SwarmFlow[In, Out]{spec: s}
}

// WithConfig returns a copy of the swarm with cfg. Negative values are
// reported when the swarm is started.
func (s *SwarmFlow[In, Out]) WithConfig(cfg SwarmConfig) *SwarmFlow[In, Out] {
	c := *s.spec
	c.Swarm = cfg
	return &SwarmFlow[In, Out]{spec: &c}
}

// FlowSpec makes a SwarmFlow a Flow[In, []Out].
func (s *SwarmFlow[In, Out]) FlowSpec() graph.Ref[In, []Out] {
	if s == nil {
		return graph.Ref[In, []Out]{}
	}
	return graph.RefOf[In, []Out](s.spec)
}

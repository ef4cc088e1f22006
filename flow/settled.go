package flow

import (
	"errors"
)

// Outcome is how one item of a swarm ended, as [Settled] lists it: its
// index in the swarm, and its result when it succeeded or its error when
// it failed.
type Outcome[Out any] struct {
	Index  int        `json:"index"`
	Result Out        `json:"result,omitempty"`
	Error  *ErrorInfo `json:"error,omitempty"`
}

// OK reports whether the item succeeded.
func (o Outcome[Out]) OK() bool { return o.Error == nil }

// Settled is swarm s whose output is every item's [Outcome], in item
// order, instead of the done items' results: a fan-in that must know
// which items failed, and why, gets them all. Failures are tolerated as
// in s (a swarm that reaches its StopAfterNFailures fails as usual, and
// has no output). A settled swarm cannot be signed open with SignSwarm
// (its items' type is not its output's); start it, or sign it with Sign.
func Settled[In, Out any](s *SwarmFlow[In, Out]) Flow[In, []Outcome[Out]] {
	if s == nil || s.spec == nil {
		return broken[In, []Outcome[Out]](errors.New("flow.Settled: nil swarm"))
	}
	c := *s.spec
	c.Settled = true
	return node[In, []Outcome[Out]]{spec: &c}
}

package flow

import (
	"errors"
	"fmt"
	"unicode/utf8"
)

// MaxNameLen is the most bytes of a name given with [Named].
const MaxNameLen = 200

// Named gives f the name the tools show for it (the command, the viewer,
// package inspect) instead of its kind ("chain", "swarm") or its task's
// name: "nightly-import", "checkout". A task keeps its task name, which
// runs it. The name is 1 to [MaxNameLen] bytes of UTF-8; another name is
// reported when the flow is started or signed. f is not changed: Named
// returns a copy, and naming a flow twice keeps the outer name.
func Named[In, Out any](name string, f Flow[In, Out]) Flow[In, Out] {
	s := specOf(f)
	switch {
	case s == nil:
		return broken[In, Out](errors.New("flow.Named: nil flow"))
	case name == "" || len(name) > MaxNameLen || !utf8.ValidString(name):
		return broken[In, Out](fmt.Errorf("flow.Named(%.40q): a name is 1 to %d bytes of UTF-8", name, MaxNameLen))
	}
	c := *s
	c.Label = name
	return node[In, Out]{spec: &c}
}

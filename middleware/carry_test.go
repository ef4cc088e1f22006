package middleware_test

import (
	"strings"
	"testing"

	"github.com/mageflow-go/mageflow/middleware"
)

// What a middleware carries stays within bounds: not the engine's keys,
// no key or value too long or not UTF-8, at most MaxCarried keys; the
// flow's own metadata is kept, and not counted.
func TestCarryIsBounded(t *testing.T) {
	x := &middleware.Execution{}
	s := &middleware.Start{Metadata: map[string]string{"customer": "42"}}
	for _, c := range []struct {
		k, v string
		ok   bool
	}{
		{"traceparent", "00-abc-def-01", true},
		{"mageflow-attempts", "9", false},
		{strings.Repeat("k", middleware.MaxCarriedKey+1), "v", false},
		{"big", strings.Repeat("v", middleware.MaxCarriedValue+1), false},
		{"bad", "\xff", false},
		{"", "v", false},
	} {
		if got := x.Carry(c.k, c.v); got != c.ok {
			t.Errorf("Execution.Carry(%.20q, %.20q) = %v, want %v", c.k, c.v, got, c.ok)
		}
		if got := s.Carry(c.k, c.v); got != c.ok {
			t.Errorf("Start.Carry(%.20q, %.20q) = %v, want %v", c.k, c.v, got, c.ok)
		}
	}
	for i := range middleware.MaxCarried + 2 {
		x.Carry("p"+string(rune('a'+i)), "1")
		s.Carry("p"+string(rune('a'+i)), "1")
	}
	if n := len(x.Carried()); n != middleware.MaxCarried {
		t.Errorf("an execution carries %d pairs, want at most %d", n, middleware.MaxCarried)
	}
	if !x.Carry("traceparent", "00-new") || x.Carried()["traceparent"] != "00-new" {
		t.Error("a pair carried already could not be set again")
	}
	if n := len(s.Metadata); n != middleware.MaxCarried+1 || s.Metadata["customer"] != "42" {
		t.Errorf("a start's metadata: %d pairs (%v), want the flow's and %d carried", n, s.Metadata, middleware.MaxCarried)
	}
}

package flowtest

import (
	"fmt"
	"unicode"
	"unicode/utf8"

	"github.com/google/go-cmp/cmp"
)

// Match says whether a task's input is the one a test expects. Make one
// with [Exact], [Partial], [Where] or [Anything]; its type parameter is
// the task's input type, so a match for another task's input does not
// compile.
type Match[In any] struct {
	desc string
	// check returns "" when got matches, or why it does not.
	check func(got In) string
}

// String describes the match, as failure messages show it.
func (m Match[In]) String() string { return m.desc }

// Exact matches an input equal to want, compared with go-cmp (opts are
// passed to it). Unexported fields are not compared: inputs travel as JSON,
// which does not carry them.
func Exact[In any](want In, opts ...cmp.Option) Match[In] {
	opts = append(opts, ignoreUnexported)
	return Match[In]{
		desc: fmt.Sprintf("exactly %+v", want),
		check: func(got In) string {
			if d := cmp.Diff(want, got, opts...); d != "" {
				return "diff (-want +got):\n" + d
			}
			return ""
		},
	}
}

// Partial matches an input whose fields equal those of want that are not
// their zero value, at any depth; the zero fields of want match anything,
// and so do map keys that want does not hold. Slices and other values are
// compared whole. To require a zero value, use [Exact] or [Where].
func Partial[In any](want In) Match[In] {
	return Match[In]{
		desc: fmt.Sprintf("partially %+v", want),
		check: func(got In) string {
			if d := cmp.Diff(want, got, ignoreUnexported, ignoreUnset); d != "" {
				return "diff of the fields set (-want +got):\n" + d
			}
			return ""
		},
	}
}

// Where matches an input for which pred returns true; desc says what it
// checks, for failure messages.
func Where[In any](desc string, pred func(In) bool) Match[In] {
	return Match[In]{
		desc: desc,
		check: func(got In) string {
			if pred(got) {
				return ""
			}
			return fmt.Sprintf("%+v does not satisfy %s", got, desc)
		},
	}
}

// Anything matches every input.
func Anything[In any]() Match[In] {
	return Match[In]{desc: "any input", check: func(In) string { return "" }}
}

// ignoreUnexported skips unexported struct fields.
var ignoreUnexported = cmp.FilterPath(func(p cmp.Path) bool {
	sf, ok := p.Last().(cmp.StructField)
	if !ok {
		return false
	}
	r, _ := utf8.DecodeRuneInString(sf.Name())
	return !unicode.IsUpper(r)
}, cmp.Ignore())

// ignoreUnset skips the struct fields that are zero in the wanted value
// (the first one compared) and the map keys it does not hold.
var ignoreUnset = cmp.FilterPath(func(p cmp.Path) bool {
	switch s := p.Last().(type) {
	case cmp.StructField:
		want, _ := s.Values()
		return want.IsValid() && want.IsZero()
	case cmp.MapIndex:
		want, _ := s.Values()
		return !want.IsValid()
	}
	return false
}, cmp.Ignore())

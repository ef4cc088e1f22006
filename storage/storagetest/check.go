package storagetest

import (
	"encoding/json"
	"errors"
	"fmt"
	"reflect"
	"slices"
	"testing"
	"time"

	"github.com/mageflow-go/mageflow/sig"
)

// slack is how far an expiry may be from the one the suite computes: the
// store's clock and the suite's are not the same instant.
const slack = 5 * time.Second

// marshal encodes v as JSON.
func marshal(t *testing.T, v any) []byte {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatalf("marshal %v: %v", v, err)
	}
	return b
}

// jsonEqual reports whether a and b are valid JSON of equal values
// (object keys in any order, numbers by value).
func jsonEqual(a, b []byte) bool {
	var x, y any
	if json.Unmarshal(a, &x) != nil || json.Unmarshal(b, &y) != nil {
		return false
	}
	return reflect.DeepEqual(x, y)
}

// expectJSON requires got to be JSON equal to want.
func expectJSON(t *testing.T, what string, got []byte, want string) {
	t.Helper()
	if !jsonEqual(got, []byte(want)) {
		t.Errorf("%s = %s, want %s", what, got, want)
	}
}

// expectErr requires err to wrap target.
func expectErr(t *testing.T, what string, err, target error) {
	t.Helper()
	if !errors.Is(err, target) {
		t.Errorf("%s: err = %v, want %v", what, err, target)
	}
}

// expectExpiry requires rec to expire ttl after some instant between from
// and to (give or take slack).
func expectExpiry(t *testing.T, rec *sig.Record, ttl time.Duration, from, to time.Time) {
	t.Helper()
	lo, hi := from.Add(ttl-slack), to.Add(ttl+slack)
	if rec.ExpiresAt.Before(lo) || rec.ExpiresAt.After(hi) {
		t.Errorf("%s (%s): ExpiresAt = %v, want %v after [%v, %v] (now %v)",
			rec.ID, rec.Status, rec.ExpiresAt, ttl, from, to, time.Now())
	}
}

// expectShape requires got to keep the shape fields the suite wrote.
func expectShape(t *testing.T, got, want *sig.Record) {
	t.Helper()
	type shape struct {
		ID, Root, Name, Parent string
		Kind                   sig.Kind
		Role                   sig.Role
		Index, Children        int
		OnSuccess, OnError     int
	}
	of := func(r *sig.Record) shape {
		return shape{r.ID, r.Root, r.Name, r.Parent, r.Kind, r.Role, r.Index, r.Children, r.OnSuccess, r.OnError}
	}
	if g, w := of(got), of(want); g != w {
		t.Errorf("%s: shape = %+v, want %+v", want.ID, g, w)
	}
	switch {
	case len(want.Args) == 0 && len(got.Args) != 0:
		t.Errorf("%s: Args = %s, want none", want.ID, got.Args)
	case len(want.Args) != 0 && !jsonEqual(got.Args, want.Args):
		t.Errorf("%s: Args = %s, want %s", want.ID, got.Args, want.Args)
	}
	switch {
	case want.Swarm == nil && got.Swarm != nil:
		t.Errorf("%s: Swarm = %+v, want none", want.ID, got.Swarm)
	case want.Swarm != nil && got.Swarm == nil:
		t.Errorf("%s: Swarm missing, want %+v", want.ID, want.Swarm)
	case want.Swarm != nil && (got.Swarm.Config != want.Swarm.Config || got.Swarm.Closed != want.Swarm.Closed):
		t.Errorf("%s: Swarm = %+v, want config %+v closed %v", want.ID, got.Swarm, want.Swarm.Config, want.Swarm.Closed)
	}
}

// expectFailure requires payload to be an error callback's input:
// {"input": input, "error": info}.
func expectFailure(t *testing.T, what string, payload []byte, input string, info sig.ErrorInfo) {
	t.Helper()
	var got struct {
		Input json.RawMessage `json:"input"`
		Error *sig.ErrorInfo  `json:"error"`
	}
	if err := json.Unmarshal(payload, &got); err != nil {
		t.Errorf("%s: payload %s: %v", what, payload, err)
		return
	}
	if !jsonEqual(got.Input, []byte(input)) {
		t.Errorf("%s: payload input = %s, want %s (payload %s)", what, got.Input, input, payload)
	}
	if got.Error == nil || *got.Error != info {
		t.Errorf("%s: payload error = %+v, want %+v (payload %s)", what, got.Error, info, payload)
	}
}

// keysOf returns the keys of ds.
func keysOf(ds []sig.Dispatch) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.Key
	}
	return out
}

// targets returns the targets of ds.
func targets(ds []sig.Dispatch) []string {
	out := make([]string, len(ds))
	for i, d := range ds {
		out[i] = d.Target
	}
	return out
}

// without returns the elements of a that are not in b.
func without(a, b []string) []string {
	var out []string
	for _, x := range a {
		if !slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// intersect returns the elements of a that are also in b.
func intersect(a, b []string) []string {
	var out []string
	for _, x := range a {
		if slices.Contains(b, x) {
			out = append(out, x)
		}
	}
	return out
}

// sameSet reports whether a and b hold the same strings, in any order.
func sameSet(a, b []string) bool {
	a, b = slices.Clone(a), slices.Clone(b)
	slices.Sort(a)
	slices.Sort(b)
	return slices.Equal(a, b)
}

// key is the dispatch key of generation gen of task id.
func key(id string, gen int) string { return fmt.Sprintf("%s#%d", id, gen) }

// only requires ds to be exactly one dispatch, to target with key
// "<target>#<gen>", and returns it.
func only(t *testing.T, what string, ds []sig.Dispatch, target string, gen int) sig.Dispatch {
	t.Helper()
	if len(ds) != 1 {
		t.Fatalf("%s dispatched %v, want only %s", what, keysOf(ds), key(target, gen))
	}
	if ds[0].Target != target || ds[0].Key != key(target, gen) {
		t.Fatalf("%s dispatched %s to %s, want %s", what, ds[0].Key, ds[0].Target, key(target, gen))
	}
	return ds[0]
}

// none requires ds to be empty.
func none(t *testing.T, what string, ds []sig.Dispatch) {
	t.Helper()
	if len(ds) != 0 {
		t.Fatalf("%s dispatched %v, want nothing", what, keysOf(ds))
	}
}

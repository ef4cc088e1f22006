package hatchet

import (
	"bytes"
	"encoding/json"
	"reflect"
	"testing"
	"unicode/utf8"
)

// FuzzInput checks the envelope a Hatchet run carries, {"in","key"}:
// arbitrary bytes decode into input or fail, never panic; and an input
// Dispatch encodes arrives in run with its key and the same payload value
// (json.Marshal rewrites <, > and & as \u escapes, so texts differ), both
// when it is decoded directly and when it goes the SDK's way, through a
// map[string]any and back. That way numbers become float64, so there the
// payload is compared as the SDK leaves it: integers past 2^53 lose
// precision on the way to a task.
func FuzzInput(f *testing.F) {
	for _, in := range []input{
		{In: json.RawMessage(`{"id":7,"items":["a"]}`), Key: "01HF7YAT3VH53Z1B73YH2ESKJK.0#1"},
		{In: json.RawMessage(`{"args":[1,2],"in":null}`), Key: "nokey-3f1c"},
		{In: nil, Key: "01HF7YAT3VH53Z1B73YH2ESKJK#2"},
		{In: json.RawMessage(`{"input":1,"error":{"task":"t","message":"m","attempts":1,"kind":"error"}}`), Key: "x#1"},
	} {
		b, err := json.Marshal(in)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte(`{"in":`))
	f.Add([]byte(`{"in":{"id":12345678901234567890,"n":1.10},"key":"k"}`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var sent input
		if json.Unmarshal(data, &sent) != nil || !utf8.ValidString(sent.Key) {
			return
		}
		wire, err := json.Marshal(sent)
		if err != nil {
			t.Fatalf("input %q decodes but does not encode: %v", data, err)
		}
		var direct input
		if err := json.Unmarshal(wire, &direct); err != nil {
			t.Fatalf("encoded input %q does not decode: %v", wire, err)
		}
		if direct.Key != sent.Key || !reflect.DeepEqual(value(t, direct.In, true), value(t, sent.In, true)) {
			t.Fatalf("input %q came back as %q", wire, direct.In)
		}
		var m map[string]any // what the SDK holds a run's input as
		if err := json.Unmarshal(wire, &m); err != nil {
			t.Fatalf("encoded input %q is not an object: %v", wire, err)
		}
		again, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		var viaSDK input
		if err := json.Unmarshal(again, &viaSDK); err != nil {
			t.Fatalf("input %q through a map, %q, does not decode: %v", wire, again, err)
		}
		if viaSDK.Key != sent.Key || !reflect.DeepEqual(value(t, viaSDK.In, false), value(t, sent.In, false)) {
			t.Fatalf("input %q came back through a map as %q", wire, again)
		}
	})
}

func orNull(v []byte) []byte {
	if len(v) == 0 {
		return []byte("null")
	}
	return v
}

// value is the JSON value v, with its numbers as written or, as the SDK
// decodes them, as float64.
func value(t *testing.T, v []byte, exact bool) any {
	d := json.NewDecoder(bytes.NewReader(orNull(v)))
	if exact {
		d.UseNumber()
	}
	var x any
	if err := d.Decode(&x); err != nil {
		t.Fatalf("payload %q: %v", v, err)
	}
	return x
}

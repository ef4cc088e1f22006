package hatchet

import (
	"encoding/json"
	"testing"
	"unicode/utf8"
)

// FuzzInput checks the envelope a Hatchet run carries, {"payload","key"}
// (and {"in","key"} from runs triggered before "payload" existed):
// arbitrary bytes decode into input or fail, never panic; and the payload
// of any envelope, sent again the way Dispatch sends it, arrives in run
// with its key and the same bytes, both when it is decoded directly and
// when it goes the SDK's way, through a map[string]any and back (where a
// JSON value would have its numbers turned into float64).
func FuzzInput(f *testing.F) {
	for _, in := range []input{
		{Payload: `{"id":7,"items":["a"]}`, Key: "01HF7YAT3VH53Z1B73YH2ESKJK.0#1"},
		{Payload: `{"args":[1,2],"in":null}`, Key: "nokey-3f1c"},
		{Payload: `{"id":12345678901234567890,"n":1.10,"s":"<&>"}`, Key: "k"},
		{In: json.RawMessage(`{"id":7}`), Key: "01HF7YAT3VH53Z1B73YH2ESKJK#2"},
		{Key: "01HF7YAT3VH53Z1B73YH2ESKJK#3"},
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
		var got input
		if json.Unmarshal(data, &got) != nil {
			return
		}
		p := got.payload()
		if !json.Valid(p) || !utf8.Valid(p) || !utf8.ValidString(got.Key) {
			return // Dispatch sends the engine's JSON, and keys it made
		}
		wire, err := json.Marshal(input{Payload: string(p), Key: got.Key})
		if err != nil {
			t.Fatalf("payload %q does not encode: %v", p, err)
		}
		var direct input
		if err := json.Unmarshal(wire, &direct); err != nil {
			t.Fatalf("envelope %q does not decode: %v", wire, err)
		}
		if direct.Key != got.Key || string(direct.payload()) != string(p) {
			t.Fatalf("envelope %q came back as payload %q, key %q; want %q, %q", wire, direct.payload(), direct.Key, p, got.Key)
		}
		var m map[string]any // what the SDK holds a run's input as
		if err := json.Unmarshal(wire, &m); err != nil {
			t.Fatalf("envelope %q is not an object: %v", wire, err)
		}
		again, err := json.Marshal(m)
		if err != nil {
			t.Fatal(err)
		}
		var viaSDK input
		if err := json.Unmarshal(again, &viaSDK); err != nil {
			t.Fatalf("envelope %q through a map, %q, does not decode: %v", wire, again, err)
		}
		if viaSDK.Key != got.Key || string(viaSDK.payload()) != string(p) {
			t.Fatalf("envelope %q came back through a map as payload %q; want %q", wire, viaSDK.payload(), p)
		}
	})
}

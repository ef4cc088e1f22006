package transition_test

import (
	"bytes"
	"encoding/json"
	"slices"
	"testing"
	"unicode/utf8"

	"github.com/mageflow-go/mageflow/flow"
	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage/transition"
)

// same reports whether two JSON texts are the same value, byte for byte
// once compacted (json.RawMessage keeps a value's text as it came).
func same(a, b []byte) bool {
	var ca, cb bytes.Buffer
	return json.Compact(&ca, a) == nil && json.Compact(&cb, b) == nil && bytes.Equal(ca.Bytes(), cb.Bytes())
}

// orNull is what the envelopes write for an absent value.
func orNull(v []byte) []byte {
	if len(v) == 0 {
		return []byte("null")
	}
	return v
}

// FuzzTaskPayload checks the envelope of a task with bound args: with valid
// JSON args and input, TaskPayload is valid JSON that decodes into
// flow.Args (the type the task decodes) giving back both; without args it
// is the input itself. Garbage never makes it panic.
func FuzzTaskPayload(f *testing.F) {
	f.Add([]byte(`{"sku":"A-1","qty":2}`), []byte(`{"id":7}`), true)
	f.Add([]byte(`[1,2]`), []byte(nil), true)
	f.Add([]byte(nil), []byte(`"x"`), false)
	f.Add([]byte(` 12345678901234567890 `), []byte("\t[null, {\"a\" : \"\\u00e9\"}]"), true)
	f.Fuzz(func(t *testing.T, args, in []byte, bound bool) {
		if !bound {
			args = nil
		} else if args == nil {
			args = []byte{}
		}
		p := transition.TaskPayload(args, in)
		if !json.Valid(orNull(args)) || !json.Valid(orNull(in)) {
			return
		}
		if args == nil {
			if !bytes.Equal(p, orNull(in)) {
				t.Fatalf("TaskPayload(nil, %q) = %q, want the input", in, p)
			}
			return
		}
		var got flow.Args[json.RawMessage, json.RawMessage]
		if err := json.Unmarshal(p, &got); err != nil {
			t.Fatalf("TaskPayload(%q, %q) = %q does not decode: %v", args, in, p, err)
		}
		if !same(got.Args, orNull(args)) || !same(got.In, orNull(in)) {
			t.Fatalf("TaskPayload(%q, %q) decodes to args %q, in %q", args, in, got.Args, got.In)
		}
	})
}

// FuzzFailurePayload checks the input of an error callback: with a valid
// JSON input, FailurePayload is valid JSON that decodes into flow.Failure
// giving back the input and the ErrorInfo (whose strings are UTF-8: JSON
// has no other).
func FuzzFailurePayload(f *testing.F) {
	f.Add([]byte(`{"id":7}`), "charge", "card declined", 3, string(sig.ErrorTask), "")
	f.Add([]byte(nil), "alert", "panic: boom", 1, string(sig.ErrorPanic), "goroutine 1 [running]:\n\tmain.go:12")
	f.Add([]byte(`"\u2028"`), "t", "<script>&\"'", -1, "", "\x00\x1f")
	f.Fuzz(func(t *testing.T, input []byte, task, msg string, attempts int, kind, stack string) {
		info := sig.ErrorInfo{Task: task, Message: msg, Attempts: attempts, Kind: sig.ErrorKind(kind), Stack: stack}
		p := transition.FailurePayload(input, info)
		if !json.Valid(orNull(input)) {
			return
		}
		var got flow.Failure[json.RawMessage]
		if err := json.Unmarshal(p, &got); err != nil {
			t.Fatalf("FailurePayload(%q, %+v) = %q does not decode: %v", input, info, p, err)
		}
		if !same(got.Input, orNull(input)) {
			t.Fatalf("FailurePayload(%q, ...) decodes to input %q", input, got.Input)
		}
		for _, s := range []string{task, msg, kind, stack} {
			if !utf8.ValidString(s) {
				return // json.Marshal writes U+FFFD for bad bytes
			}
		}
		if got.Error != info {
			t.Fatalf("FailurePayload(..., %+v) decodes to error %+v", info, got.Error)
		}
	})
}

// FuzzListPayload checks a swarm's result: ListPayload of valid JSON items
// is a JSON array that decodes into a slice of the items, in order, with
// null for an absent one.
func FuzzListPayload(f *testing.F) {
	f.Add([]byte("1\x002\x00\x00{\"a\":[true]}"))
	f.Add([]byte(""))
	f.Add([]byte(`"x"`))
	f.Fuzz(func(t *testing.T, data []byte) {
		var items [][]byte
		if len(data) > 0 {
			items = bytes.Split(data, []byte{0}) // each item a separate JSON value
		}
		p := transition.ListPayload(items)
		if slices.ContainsFunc(items, func(it []byte) bool { return !json.Valid(orNull(it)) }) {
			return
		}
		var got []json.RawMessage
		if err := json.Unmarshal(p, &got); err != nil {
			t.Fatalf("ListPayload(%q) = %q does not decode: %v", items, p, err)
		}
		if len(got) != len(items) {
			t.Fatalf("ListPayload(%q) decodes to %d items", items, len(got))
		}
		for i := range items {
			if !same(got[i], orNull(items[i])) {
				t.Fatalf("item %d: %q decodes to %q", i, items[i], got[i])
			}
		}
	})
}

// FuzzIsDispatchKey checks that IsDispatchKey agrees with DispatchKey.
func FuzzIsDispatchKey(f *testing.F) {
	f.Add("01ABC.0", 3, "01ABC.0#3")
	f.Add("a", 1, "a#01")
	f.Add("a", 1, "a#+1")
	f.Add("a.1", 12, "a.1#12")
	f.Fuzz(func(t *testing.T, id string, gen int, key string) {
		if got, want := transition.IsDispatchKey(key, id, gen), key == transition.DispatchKey(id, gen); got != want {
			t.Fatalf("IsDispatchKey(%q, %q, %d) = %v, want %v", key, id, gen, got, want)
		}
		if !transition.IsDispatchKey(transition.DispatchKey(id, gen), id, gen) {
			t.Fatalf("IsDispatchKey(DispatchKey(%q, %d)) = false", id, gen)
		}
	})
}

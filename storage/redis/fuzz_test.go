package redis

import (
	"errors"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/vmihailenco/msgpack/v5"

	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
)

// seedRecords are records as the engine makes them: a root chain with a
// step, a swarm with its state, a failed task with an outbox.
func seedRecords() []*sig.Record {
	now := time.UnixMilli(1_700_000_000_123)
	root := sig.NewRootID(now)
	info := &sig.ErrorInfo{Task: "charge", Message: "card declined", Attempts: 3, Kind: sig.ErrorTask, Stack: "goroutine 1"}
	return []*sig.Record{
		{ID: root, Root: root, Kind: sig.KindChain, Name: "order", Role: sig.RoleRoot, Children: 2, OnError: 1,
			Input: []byte(`{"id":7}`), Status: sig.Active, Entered: true, Cursor: 1, Live: 2,
			ActiveTTL: time.Hour, DoneTTL: 24 * time.Hour, CreatedAt: now, UpdatedAt: now},
		{ID: sig.ChildID(root, 1), Root: root, Kind: sig.KindSwarm, Parent: root, Role: sig.RoleChild, Index: 1, Children: 4,
			Status: sig.Active, Swarm: &sig.SwarmState{Config: sig.SwarmConfig{MaxConcurrency: 2, StopAfterNFailures: 1, MaxItems: 9},
				Closed: true, Next: 3, Running: 2, Done: 1, Failed: 1, LastError: info}},
		{ID: sig.ErrorID(sig.ChildID(root, 0), 0), Root: root, Kind: sig.KindTask, Name: "alert", Parent: sig.ChildID(root, 0),
			Role: sig.RoleError, Args: []byte(`[1,2]`), Result: []byte(`true`), Error: info, Status: sig.Failed,
			LastStatus: sig.Suspended, Held: true, Gen: 2, RunID: "run-1", Attempts: 3, EndedAt: now,
			Outbox: []sig.Dispatch{{Key: "x#2", Task: "alert", Target: "x", Root: root, Payload: []byte(`{"args":[1,2],"in":null}`)}}},
	}
}

// FuzzWireDecode feeds arbitrary bytes to the decoders of what Redis
// returns: a stored record (Get), a claim reply and an effects reply. Each
// either fails to decode or gives a record, without panicking or running
// out of memory or stack; a record that decodes encodes again into bytes
// that decode to the same record.
func FuzzWireDecode(f *testing.F) {
	for _, r := range seedRecords() {
		b, err := msgpack.Marshal(toWire(r))
		if err != nil {
			f.Fatal(err)
		}
		f.Add(r.ID, b)
		c, _ := msgpack.Marshal(wireClaim{Outcome: "claimed", Record: *toWire(r)})
		f.Add(r.ID, c)
		e, _ := msgpack.Marshal(wireEffects{Source: r.ID, Dispatches: toWire(r).Outbox, Cancels: []string{"run-1"}})
		f.Add(r.ID, e)
	}
	f.Add("a", []byte("\xc1\xff garbage"))
	f.Fuzz(func(t *testing.T, id string, data []byte) {
		var w wireRecord
		if unmarshal(string(data), &w) == nil {
			r, err := fromWire(id, &w)
			if err != nil {
				return // an out-of-range TTL, reported as corrupt
			}
			b, err := msgpack.Marshal(toWire(r))
			if err != nil {
				t.Fatalf("decoded record does not encode: %v", err)
			}
			var w2 wireRecord
			if err := msgpack.Unmarshal(b, &w2); err != nil {
				t.Fatalf("re-encoded record does not decode: %v", err)
			}
			if r2, err := fromWire(id, &w2); err != nil || !reflect.DeepEqual(r, r2) {
				t.Fatalf("record changed through encode and decode (%v):\n%+v\n%+v", err, r, r2)
			}
		}
		var c wireClaim
		if unmarshal(string(data), &c) == nil {
			_, _ = fromWire(id, &c.Record)
		}
		var e wireEffects
		if unmarshal(string(data), &e) == nil {
			for _, d := range e.Dispatches {
				_ = fromWireDispatch(d)
			}
		}
	})
}

// FuzzWireRoundTrip checks that a record survives toWire, msgpack and
// fromWire unchanged, up to what the stored form keeps: times and TTLs in
// milliseconds, empty byte slices as nil, and id, root, parent, role and
// index derived from the id.
func FuzzWireRoundTrip(f *testing.F) {
	for _, r := range seedRecords() {
		f.Add(r.ID, r.Name, r.Args, r.Result, r.Children, r.Gen, r.ActiveTTL.Milliseconds(), r.UpdatedAt.UnixMilli(), r.Swarm != nil, r.Error != nil, len(r.Outbox) > 0)
	}
	f.Fuzz(func(t *testing.T, id, name string, args, result []byte, n, gen int, ttl, at int64, swarm, failed, outbox bool) {
		parent, role, index, _ := sig.Place(id)
		msTime := time.UnixMilli(at)
		if msTime.IsZero() || at == 0 { // both are stored as 0, read as the zero time
			msTime = time.Time{}
		}
		ttlDur := time.Duration(ttl%(1<<43)) * time.Millisecond
		status := sig.Status(name)
		if status == "" { // a record always has a status; pending is stored as none
			status = sig.Pending
		}
		r := &sig.Record{
			ID: id, Root: sig.RootOf(id), Kind: sig.KindTask, Name: name, Parent: parent, Role: role, Index: index,
			Children: n, OnSuccess: n / 2, OnError: -n, Args: nilIfEmpty(args), Input: nilIfEmpty(result), Result: nilIfEmpty(result),
			Status: status, LastStatus: sig.Pending, Entered: swarm, Held: failed, Gen: gen, RunID: name,
			Attempts: gen / 3, Cursor: n, Live: gen, Finished: outbox, ActiveTTL: ttlDur, DoneTTL: -ttlDur,
			CreatedAt: msTime, UpdatedAt: msTime, EndedAt: msTime,
		}
		info := &sig.ErrorInfo{Task: name, Message: string(args), Attempts: gen, Kind: sig.ErrorKind(result), Stack: id}
		if failed {
			r.Error = info
		}
		if swarm {
			r.Swarm = &sig.SwarmState{Config: sig.SwarmConfig{MaxConcurrency: n, StopAfterNFailures: gen, MaxItems: n}, Closed: failed, Next: n, Running: gen, Done: n, Failed: gen}
			if failed {
				r.Swarm.LastError = info
			}
		}
		if outbox {
			r.Outbox = []sig.Dispatch{{Key: id + "#1", Task: name, Target: id, Root: r.Root, Payload: nilIfEmpty(args)}, {}}
		}
		if swarm {
			r.Label = name
			r.Metadata = map[string]string{name: string(result), "k": id}
		}
		b, err := msgpack.Marshal(toWire(r))
		if err != nil {
			t.Fatalf("encode: %v", err)
		}
		var w wireRecord
		if err := msgpack.Unmarshal(b, &w); err != nil {
			t.Fatalf("decode: %v", err)
		}
		if got, err := fromWire(id, &w); err != nil || !reflect.DeepEqual(got, r) {
			t.Fatalf("record changed through the wire (%v):\n got %+v\nwant %+v", err, got, r)
		}
	})
}

func nilIfEmpty(b []byte) []byte {
	if len(b) == 0 {
		return nil
	}
	return b
}

// redisError is an error as go-redis returns it for an error reply.
type redisError string

func (e redisError) Error() string { return string(e) }
func (e redisError) RedisError()   {}

// FuzzTranslate reads error replies as Redis and the scripts send them:
// any text gives an error that names the operation, never a panic, and a
// script's code gives its storage sentinel.
func FuzzTranslate(f *testing.F) {
	for _, msg := range []string{
		"NOTFOUND 01H.0", "CORRUPT mf:{01H} field 01H.1 script: user_script:46: in function 'decode'",
		"WRONGTYPE Operation against a key holding the wrong kind of value", "STATE x: fail a done task",
		"ERR user_script:1: cmsgpack: bad data", "", " ", "NOTOWNER", "CONFLICT  script: ",
	} {
		f.Add(msg)
	}
	f.Fuzz(func(t *testing.T, msg string) {
		err := translate("claim 01H", "mf:{01H}", redisError(msg))
		if err == nil {
			t.Fatal("translate returned nil")
		}
		code, _, _ := strings.Cut(msg, " ")
		if want, ok := codes[code]; ok && !errors.Is(err, want) {
			t.Fatalf("translate(%q) = %v, not %v", msg, err, want)
		}
		if code == "WRONGTYPE" && !errors.Is(err, storage.ErrCorrupt) {
			t.Fatalf("translate(%q) = %v, not corrupt", msg, err)
		}
	})
}

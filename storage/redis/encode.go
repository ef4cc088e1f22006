package redis

import "github.com/vmihailenco/msgpack/v5"

// The stored forms encode themselves: msgpack's reflection allocates for
// every omitempty field it checks (36 allocations and 1.8 µs a pending
// item, the most of what storing a wide swarm costs the caller). Each
// writes the fields its tags name, those tagged omitempty only when set,
// as msgpack.Marshal of the tags would.

// mapWriter writes a msgpack map's entries, or only counts them.
type mapWriter struct {
	e   *msgpack.Encoder // nil: count
	n   int
	err error
}

// entry writes the key of an entry and reports whether its value is to
// be written next.
func (m *mapWriter) entry(key string) bool {
	if m.e == nil {
		m.n++
		return false
	}
	if m.err == nil {
		m.err = m.e.EncodeString(key)
	}
	return m.err == nil
}

func (m *mapWriter) str(key, v string, always bool) {
	if (v != "" || always) && m.entry(key) {
		m.err = m.e.EncodeString(v)
	}
}

func (m *mapWriter) num(key string, v int64, always bool) {
	if (v != 0 || always) && m.entry(key) {
		m.err = m.e.EncodeInt(v)
	}
}

func (m *mapWriter) flag(key string, v bool) {
	if v && m.entry(key) {
		m.err = m.e.EncodeBool(true)
	}
}

// value writes an entry whose value encodes itself, when set.
func (m *mapWriter) value(key string, set bool, v msgpack.CustomEncoder) {
	if set && m.entry(key) {
		m.err = v.EncodeMsgpack(m.e)
	}
}

// encodeMap writes the map that fields describes.
func encodeMap(e *msgpack.Encoder, fields func(*mapWriter)) error {
	count := mapWriter{}
	fields(&count)
	if err := e.EncodeMapLen(count.n); err != nil {
		return err
	}
	w := mapWriter{e: e}
	fields(&w)
	return w.err
}

// EncodeMsgpack implements msgpack.CustomEncoder.
func (w *wireRecord) EncodeMsgpack(e *msgpack.Encoder) error {
	return encodeMap(e, func(m *mapWriter) {
		m.str("k", w.Kind, false)
		m.str("n", w.Name, false)
		m.str("lb", w.Label, false)
		m.value("md", len(w.Metadata) > 0, metadata(w.Metadata))
		m.num("c", int64(w.Children), false)
		m.num("os", int64(w.OnSuccess), false)
		m.num("oe", int64(w.OnError), false)
		m.str("a", w.Args, false)
		m.str("ad", w.Added, false)
		m.str("in", w.Input, false)
		m.str("re", w.Result, false)
		m.value("er", w.Error != nil, w.Error)
		m.str("s", w.Status, false)
		m.str("ls", w.LastStatus, false)
		m.flag("en", w.Entered)
		m.flag("h", w.Held)
		m.num("g", int64(w.Gen), false)
		m.str("run", w.RunID, false)
		m.num("ah", w.AheadUntil, false)
		m.str("lo", w.Lone, false)
		m.num("at", int64(w.Attempts), false)
		m.num("sp", int64(w.Spawned), false)
		m.num("ep", int64(w.Epoch), false)
		m.num("cu", int64(w.Cursor), false)
		m.value("sw", w.Swarm != nil, w.Swarm)
		m.num("lv", int64(w.Live), false)
		m.flag("fi", w.Finished)
		if len(w.Outbox) > 0 { // an interface of a slice is allocated
			m.value("ob", true, outbox(w.Outbox))
		}
		m.num("ta", w.ActiveTTL, false)
		m.num("td", w.DoneTTL, false)
		m.num("ca", w.CreatedAt, false)
		m.num("ua", w.UpdatedAt, false)
		m.num("ea", w.EndedAt, false)
	})
}

// EncodeMsgpack implements msgpack.CustomEncoder.
func (w *wireError) EncodeMsgpack(e *msgpack.Encoder) error {
	return encodeMap(e, func(m *mapWriter) {
		m.str("t", w.Task, true)
		m.str("m", w.Message, true)
		m.num("at", int64(w.Attempts), false)
		m.str("k", w.Kind, false)
		m.str("st", w.Stack, false)
	})
}

// EncodeMsgpack implements msgpack.CustomEncoder.
func (w *wireSwarm) EncodeMsgpack(e *msgpack.Encoder) error {
	return encodeMap(e, func(m *mapWriter) {
		m.num("mc", int64(w.MaxConcurrency), false)
		m.num("sf", int64(w.StopAfterNFailures), false)
		m.num("mi", int64(w.MaxItems), false)
		m.flag("cl", w.Closed)
		m.flag("se", w.Settled)
		m.num("nx", int64(w.Next), true)
		m.num("rn", int64(w.Running), true)
		m.num("dn", int64(w.Done), true)
		m.num("fl", int64(w.Failed), true)
		m.value("le", w.LastError != nil, w.LastError)
	})
}

// EncodeMsgpack implements msgpack.CustomEncoder.
func (d *wireDispatch) EncodeMsgpack(e *msgpack.Encoder) error {
	return encodeMap(e, func(m *mapWriter) {
		m.str("k", d.Key, true)
		m.str("t", d.Task, true)
		m.str("tg", d.Target, true)
		m.str("rt", d.Root, true)
		m.str("p", d.Payload, true)
		m.str("cx", d.Cancel, false)
		m.num("sp", int64(d.Spawned), false)
		m.num("at", int64(d.Attempts), false)
		m.num("ep", int64(d.Epoch), false)
		m.str("rn", d.Run, false)
	})
}

// metadata is a record's metadata, encoded as a map of strings.
type metadata map[string]string

// EncodeMsgpack implements msgpack.CustomEncoder.
func (md metadata) EncodeMsgpack(e *msgpack.Encoder) error {
	if err := e.EncodeMapLen(len(md)); err != nil {
		return err
	}
	for k, v := range md {
		if err := e.EncodeString(k); err != nil {
			return err
		}
		if err := e.EncodeString(v); err != nil {
			return err
		}
	}
	return nil
}

// outbox is a record's outbox, encoded as an array of maps.
type outbox []wireDispatch

// EncodeMsgpack implements msgpack.CustomEncoder.
func (ob outbox) EncodeMsgpack(e *msgpack.Encoder) error {
	if err := e.EncodeArrayLen(len(ob)); err != nil {
		return err
	}
	for i := range ob {
		if err := ob[i].EncodeMsgpack(e); err != nil {
			return err
		}
	}
	return nil
}

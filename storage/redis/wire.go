package redis

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/vmihailenco/msgpack/v5"
	"github.com/vmihailenco/msgpack/v5/msgpcode"

	"github.com/mageflow-go/mageflow/sig"
)

// wireRecord is a record as stored: a msgpack map with short keys, read
// and written by the scripts too. A record's id, root, parent, role and
// index are not stored: the hash field is the id, and the rest derive from
// it. Times and TTLs are milliseconds, which Lua's numbers hold exactly.
// A task's kind, a pending status, and the time of the latest change while
// it is the creation time are left out: a pending item of a wide swarm
// keeps its task's name and its creation time only (lib.lua's pack and
// decode do the same).
type wireRecord struct {
	Kind       string            `msgpack:"k,omitempty"`
	Name       string            `msgpack:"n,omitempty"`
	Label      string            `msgpack:"lb,omitempty"`
	Metadata   map[string]string `msgpack:"md,omitempty"`
	Children   int               `msgpack:"c,omitempty"`
	OnSuccess  int               `msgpack:"os,omitempty"`
	OnError    int               `msgpack:"oe,omitempty"`
	Args       string            `msgpack:"a,omitempty"`
	Added      string            `msgpack:"ad,omitempty"`
	Input      string            `msgpack:"in,omitempty"`
	Result     string            `msgpack:"re,omitempty"`
	Error      *wireError        `msgpack:"er,omitempty"`
	Status     string            `msgpack:"s,omitempty"`
	LastStatus string            `msgpack:"ls,omitempty"`
	Entered    bool              `msgpack:"en,omitempty"`
	Held       bool              `msgpack:"h,omitempty"`
	Gen        int               `msgpack:"g,omitempty"`
	RunID      string            `msgpack:"run,omitempty"`
	AheadUntil int64             `msgpack:"ah,omitempty"`
	Lone       string            `msgpack:"lo,omitempty"`
	Attempts   int               `msgpack:"at,omitempty"`
	Spawned    int               `msgpack:"sp,omitempty"`
	Epoch      int               `msgpack:"ep,omitempty"`
	Cursor     int               `msgpack:"cu,omitempty"`
	Swarm      *wireSwarm        `msgpack:"sw,omitempty"`
	Live       int               `msgpack:"lv,omitempty"`
	Finished   bool              `msgpack:"fi,omitempty"`
	Outbox     []wireDispatch    `msgpack:"ob,omitempty"`
	ActiveTTL  int64             `msgpack:"ta,omitempty"`
	DoneTTL    int64             `msgpack:"td,omitempty"`
	CreatedAt  int64             `msgpack:"ca,omitempty"`
	UpdatedAt  int64             `msgpack:"ua,omitempty"`
	EndedAt    int64             `msgpack:"ea,omitempty"`
}

// isRecord says w can be a stored record: it names its kind or, a task
// (whose kind is left out), its task.
func (w *wireRecord) isRecord() bool { return w.Kind != "" || w.Name != "" }

// wireError is an ErrorInfo as stored. Its first fields are always
// written, so that Lua never sees it as an empty table (which it would
// write back as an array).
type wireError struct {
	Task     string `msgpack:"t"`
	Message  string `msgpack:"m"`
	Attempts int    `msgpack:"at,omitempty"`
	Kind     string `msgpack:"k,omitempty"`
	Stack    string `msgpack:"st,omitempty"`
}

// wireSwarm is a swarm's state as stored; the counters are always written
// (see wireError).
type wireSwarm struct {
	MaxConcurrency     int        `msgpack:"mc,omitempty"`
	StopAfterNFailures int        `msgpack:"sf,omitempty"`
	MaxItems           int        `msgpack:"mi,omitempty"`
	Closed             bool       `msgpack:"cl,omitempty"`
	Settled            bool       `msgpack:"se,omitempty"`
	Next               int        `msgpack:"nx"`
	Running            int        `msgpack:"rn"`
	Done               int        `msgpack:"dn"`
	Failed             int        `msgpack:"fl"`
	LastError          *wireError `msgpack:"le,omitempty"`
}

// wireDispatch is an outbox entry as stored.
type wireDispatch struct {
	Key      string `msgpack:"k"`
	Task     string `msgpack:"t"`
	Target   string `msgpack:"tg"`
	Root     string `msgpack:"rt"`
	Payload  string `msgpack:"p"`
	Cancel   string `msgpack:"cx,omitempty"`
	Spawned  int    `msgpack:"sp,omitempty"`
	Attempts int    `msgpack:"at,omitempty"`
	Epoch    int    `msgpack:"ep,omitempty"`
	Run      string `msgpack:"rn,omitempty"`
}

// wireEffects is what the transition scripts return.
type wireEffects struct {
	Source     string         `msgpack:"src"`
	Dispatches []wireDispatch `msgpack:"d"`
	Cancels    []string       `msgpack:"c"`
	Flows      []wireDispatch `msgpack:"fw,omitempty"`
	Ended      *wireRecord    `msgpack:"en,omitempty"`
	Swarms     []wireStarted  `msgpack:"sw,omitempty"`
	Claimed    string         `msgpack:"cl,omitempty"`
}

// wireStarted is a swarm a transition started.
type wireStarted struct {
	ID   string `msgpack:"id"`
	Name string `msgpack:"n"`
}

// wireClaim is what the claim script returns.
type wireClaim struct {
	Outcome string     `msgpack:"o"`
	Record  wireRecord `msgpack:"r"`
}

// maxDepth bounds the nesting of a stored value or a reply; ours nest
// three deep (a claim's record's outbox's entries).
const maxDepth = 16

// unmarshal decodes the msgpack value raw into v. It first walks raw
// without building anything, so that corrupt bytes fail as an error rather
// than crash the process: msgpack v5.4.1 allocates a slice of structs as
// long as an array header claims (five bytes can ask for 300 GB), and skips
// unknown fields recursively (deep nesting overflows the stack).
func unmarshal(raw string, v any) error {
	if err := walk(msgpack.NewDecoder(strings.NewReader(raw)), 0); err != nil {
		return err
	}
	return msgpack.Unmarshal([]byte(raw), v)
}

// walk reads one value from d, checking that it nests at most maxDepth
// deep; a container's elements must all be there, so a length never
// exceeds what the input holds.
func walk(d *msgpack.Decoder, depth int) error {
	if depth > maxDepth {
		return errors.New("msgpack value nested too deep")
	}
	c, err := d.PeekCode()
	if err != nil {
		return err
	}
	n := 0
	switch {
	case msgpcode.IsFixedMap(c), c == msgpcode.Map16, c == msgpcode.Map32:
		n, err = d.DecodeMapLen()
		n *= 2
	case msgpcode.IsFixedArray(c), c == msgpcode.Array16, c == msgpcode.Array32:
		n, err = d.DecodeArrayLen()
	default:
		return d.Skip()
	}
	if err != nil {
		return err
	}
	for i := 0; i < n; i++ {
		if err := walk(d, depth+1); err != nil {
			return err
		}
	}
	return nil
}

func ms(t time.Time) int64 {
	if t.IsZero() {
		return 0
	}
	return t.UnixMilli()
}

func fromMS(v int64) time.Time {
	if v == 0 {
		return time.Time{}
	}
	return time.UnixMilli(v)
}

// maxMS is the most milliseconds a time.Duration holds.
const maxMS = math.MaxInt64 / int64(time.Millisecond)

// durationOf is v milliseconds; a count a time.Duration cannot hold is
// corrupt (toWire never writes one).
func durationOf(field string, v int64) (time.Duration, error) {
	if v > maxMS || v < -maxMS {
		return 0, fmt.Errorf("%s of %d ms is out of range", field, v)
	}
	return time.Duration(v) * time.Millisecond, nil
}

func bytesOf(s string) []byte {
	if s == "" {
		return nil
	}
	return []byte(s)
}

func toWireError(e *sig.ErrorInfo) *wireError {
	if e == nil {
		return nil
	}
	return &wireError{Task: e.Task, Message: e.Message, Attempts: e.Attempts, Kind: string(e.Kind), Stack: e.Stack}
}

func fromWireError(e *wireError) *sig.ErrorInfo {
	if e == nil {
		return nil
	}
	return &sig.ErrorInfo{Task: e.Task, Message: e.Message, Attempts: e.Attempts, Kind: sig.ErrorKind(e.Kind), Stack: e.Stack}
}

// toWire converts a record to its stored form.
func toWire(r *sig.Record) *wireRecord {
	w := &wireRecord{
		Name:       r.Name,
		Label:      r.Label,
		Metadata:   r.Metadata,
		Children:   r.Children,
		OnSuccess:  r.OnSuccess,
		OnError:    r.OnError,
		Args:       string(r.Args),
		Added:      r.Added,
		Input:      string(r.Input),
		Result:     string(r.Result),
		Error:      toWireError(r.Error),
		LastStatus: string(r.LastStatus),
		Entered:    r.Entered,
		Held:       r.Held,
		Gen:        r.Gen,
		RunID:      r.RunID,
		AheadUntil: ms(r.AheadUntil),
		Lone:       r.Lone,
		Attempts:   r.Attempts,
		Spawned:    r.Spawned,
		Epoch:      r.Epoch,
		Cursor:     r.Cursor,
		Live:       r.Live,
		Finished:   r.Finished,
		ActiveTTL:  r.ActiveTTL.Milliseconds(),
		DoneTTL:    r.DoneTTL.Milliseconds(),
		CreatedAt:  ms(r.CreatedAt),
		EndedAt:    ms(r.EndedAt),
	}
	if r.Kind != sig.KindTask {
		w.Kind = string(r.Kind)
	}
	if r.Status != sig.Pending {
		w.Status = string(r.Status)
	}
	if u := ms(r.UpdatedAt); u != w.CreatedAt {
		w.UpdatedAt = u
	}
	if s := r.Swarm; s != nil {
		w.Swarm = &wireSwarm{
			MaxConcurrency:     s.Config.MaxConcurrency,
			StopAfterNFailures: s.Config.StopAfterNFailures,
			MaxItems:           s.Config.MaxItems,
			Closed:             s.Closed,
			Settled:            s.Settled,
			Next:               s.Next,
			Running:            s.Running,
			Done:               s.Done,
			Failed:             s.Failed,
			LastError:          toWireError(s.LastError),
		}
	}
	for _, d := range r.Outbox {
		w.Outbox = append(w.Outbox, toWireDispatch(d))
	}
	return w
}

func toWireDispatch(d sig.Dispatch) wireDispatch {
	return wireDispatch{Key: d.Key, Task: d.Task, Target: d.Target, Root: d.Root, Payload: string(d.Payload), Cancel: d.Cancel, Spawned: d.Spawned, Attempts: d.Attempts, Epoch: d.Epoch, Run: d.Run}
}

func fromWireDispatch(d wireDispatch) sig.Dispatch {
	return sig.Dispatch{Key: d.Key, Task: d.Task, Target: d.Target, Root: d.Root, Payload: bytesOf(d.Payload), Cancel: d.Cancel, Spawned: d.Spawned, Attempts: d.Attempts, Epoch: d.Epoch, Run: d.Run}
}

// fromWire converts a stored record back; id is its id. It fails
// on a TTL no time.Duration holds.
func fromWire(id string, w *wireRecord) (*sig.Record, error) {
	activeTTL, err := durationOf("active TTL", w.ActiveTTL)
	if err != nil {
		return nil, err
	}
	doneTTL, err := durationOf("done TTL", w.DoneTTL)
	if err != nil {
		return nil, err
	}
	parent, role, index, _ := sig.Place(id)
	r := &sig.Record{
		ID:         id,
		Root:       sig.RootOf(id),
		Kind:       sig.Kind(w.Kind),
		Name:       w.Name,
		Label:      w.Label,
		Metadata:   w.Metadata,
		Parent:     parent,
		Role:       role,
		Index:      index,
		Children:   w.Children,
		OnSuccess:  w.OnSuccess,
		OnError:    w.OnError,
		Args:       bytesOf(w.Args),
		Added:      w.Added,
		Input:      bytesOf(w.Input),
		Result:     bytesOf(w.Result),
		Error:      fromWireError(w.Error),
		Status:     sig.Status(w.Status),
		LastStatus: sig.Status(w.LastStatus),
		Entered:    w.Entered,
		Held:       w.Held,
		Gen:        w.Gen,
		RunID:      w.RunID,
		AheadUntil: fromMS(w.AheadUntil),
		Lone:       w.Lone,
		Attempts:   w.Attempts,
		Spawned:    w.Spawned,
		Epoch:      w.Epoch,
		Cursor:     w.Cursor,
		Live:       w.Live,
		Finished:   w.Finished,
		ActiveTTL:  activeTTL,
		DoneTTL:    doneTTL,
		CreatedAt:  fromMS(w.CreatedAt),
		UpdatedAt:  fromMS(w.UpdatedAt),
		EndedAt:    fromMS(w.EndedAt),
	}
	if w.Kind == "" {
		r.Kind = sig.KindTask
	}
	if w.Status == "" {
		r.Status = sig.Pending
	}
	if w.UpdatedAt == 0 {
		r.UpdatedAt = r.CreatedAt
	}
	if s := w.Swarm; s != nil {
		r.Swarm = &sig.SwarmState{
			Config:    sig.SwarmConfig{MaxConcurrency: s.MaxConcurrency, StopAfterNFailures: s.StopAfterNFailures, MaxItems: s.MaxItems},
			Closed:    s.Closed,
			Settled:   s.Settled,
			Next:      s.Next,
			Running:   s.Running,
			Done:      s.Done,
			Failed:    s.Failed,
			LastError: fromWireError(s.LastError),
		}
	}
	for _, d := range w.Outbox {
		r.Outbox = append(r.Outbox, fromWireDispatch(d))
	}
	return r, nil
}

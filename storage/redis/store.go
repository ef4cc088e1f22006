package redis

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/vmihailenco/msgpack/v5"

	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
	"github.com/mageflow-go/mageflow/storage/transition"
)

// Store is a storage.Store in Redis. It is safe for concurrent use.
type Store struct {
	c      goredis.UniversalClient
	prefix string
	shards int
	// bases, owed, flows and expiries are, per shard, the start of its
	// graphs' keys, the key of its owed index, that of its index of
	// flows and that of its graphs' expiries, built once.
	bases, owed, flows, expiries []string
	now                          func() time.Time
	lua                          *scripts
	// calls says how operations run: as functions of the store's library
	// until the server turns out to have none, then as scripts.
	calls atomic.Int32
	load  sync.Mutex // one library load at a time
	// plainPubSub says the server has no sharded pub/sub (before Redis
	// 7): Ended subscribes with SUBSCRIBE.
	plainPubSub atomic.Bool
	log         *slog.Logger
	// unchecked says New did not check the server's maxmemory-policy
	// (WithoutPolicyCheck); warnOnce logs the risk at the first write.
	unchecked bool
	warnOnce  sync.Once
	// replicas and replicaWait are WithReplicas's n and timeout.
	replicas    int
	replicaWait time.Duration
	// batch holds the claims, completions and failures waiting for a
	// call of their graph (batch.go).
	batch batches
}

// How operations are called.
const (
	viaFunctions int32 = iota
	viaScripts
)

var _ storage.Store = (*Store)(nil)

var _ storage.Aheader = (*Store)(nil)

// New returns a store that keeps its records in Redis through c, which the
// caller configures (TLS, ACL user, Sentinel, Cluster) and closes.
//
// New checks, with INFO memory on every master, that the server's
// maxmemory-policy is noeviction, and returns an error wrapping
// [ErrEvictingServer] if it is not: an evicting server drops running
// flows without a word. A server that cannot be reached fails the check;
// [WithoutPolicyCheck] skips it.
func New(c goredis.UniversalClient, opts ...Option) (*Store, error) {
	if c == nil {
		return nil, errors.New("storage/redis: nil client")
	}
	lua, err := loadScripts()
	if err != nil {
		return nil, err
	}
	s := &Store{c: c, prefix: DefaultPrefix, shards: DefaultShards, now: time.Now, lua: lua, log: slog.Default()}
	for _, o := range opts {
		if o == nil {
			continue
		}
		if err := o(s); err != nil {
			return nil, err
		}
	}
	s.bases, s.owed = make([]string, s.shards), make([]string, s.shards)
	s.flows, s.expiries = make([]string, s.shards), make([]string, s.shards)
	for n := range s.shards {
		tag := s.prefix + ":{" + strconv.Itoa(n) + "}"
		s.bases[n], s.owed[n], s.flows[n], s.expiries[n] = tag+":", tag+"!owed", tag+"!flows", tag+"!expiries"
	}
	if err := s.checkReplicas(); err != nil {
		return nil, err
	}
	if !s.unchecked {
		if err := s.checkPolicy(); err != nil {
			return nil, err
		}
	}
	return s, nil
}

// Prefix returns the prefix of the store's keys.
func (s *Store) Prefix() string { return s.prefix }

// Library returns the name of the Redis function library the store loads,
// mageflow_<hash of its code>. Each version of the store's code has its
// own, so that workers of two versions run side by side during an
// upgrade; a library stays on the server (and in its persistence) until
// it is deleted, and every one makes each call of the server's Lua a
// little slower, so an upgrade ends with FUNCTION DELETE of the libraries
// no running version uses (RELIABILITY.md, "Upgrades").
func (s *Store) Library() string { return s.lua.name }

// Key returns the key of the hash that holds the graph rooted at root.
func (s *Store) Key(root string) string { return s.shardBase(s.shard(root)) + root }

// Field returns the field of record id in the hash of its graph ([Store.Key]
// of its root): the id less its root, which the key names, so "" for the
// root and ".3" for the root's item 3.
func Field(id string) string {
	if i := strings.IndexByte(id, '.'); i >= 0 {
		return id[i:]
	}
	return ""
}

// shard returns the shard of the graph rooted at root: the FNV-1a hash of
// the root id, modulo the number of shards.
func (s *Store) shard(root string) int {
	h := uint32(2166136261)
	for i := 0; i < len(root); i++ {
		h ^= uint32(root[i])
		h *= 16777619
	}
	return int(h % uint32(s.shards))
}

// shardBase is the start of the keys of shard n's graphs.
func (s *Store) shardBase(n int) string { return s.bases[n] }

// owedKey is the key of shard n's index of owed records: a sorted set of
// record ids by the time since when they owe effects, in the slot of the
// shard's graphs.
func (s *Store) owedKey(n int) string { return s.owed[n] }

// flowsKey is the key of shard n's index of flows: a sorted set of root
// ids by creation time (milliseconds), in the slot of the shard's graphs.
// Beside it, shard n's expiries (a sorted set of root ids by when their
// graph expires, which every write of a graph's expiry updates) let it
// drop the entries of expired graphs and live exactly as long as the
// longest-lived of them.
func (s *Store) flowsKey(n int) string { return s.flows[n] }

// eval runs operation sc for the graph of id and returns its reply: a call
// of the library's function (loading the library first where the server
// lacks it), or the script on servers without functions.
func (s *Store) eval(ctx context.Context, sc *script, op, id string, args ...any) (any, error) {
	if !sig.ValidID(id) {
		return nil, fmt.Errorf("storage/redis: %s: invalid id %q: %w", op, id, storage.ErrNotFound)
	}
	root := sig.RootOf(id)
	n := s.shard(root)
	key := s.shardBase(n) + root
	return s.call(ctx, sc, op, id, key, []string{key, s.owedKey(n), s.flowsKey(n), s.expiries[n]}, args...)
}

// call runs operation sc on keys and returns its reply; op, id and key
// name it in errors.
func (s *Store) call(ctx context.Context, sc *script, op, id, key string, keys []string, args ...any) (any, error) {
	if s.unchecked {
		s.warnUnchecked()
	}
	argv := make([]any, 0, len(args)+1)
	argv = append(argv, s.now().UnixMilli())
	argv = append(argv, args...)
	res, err := s.run(ctx, sc, keys, argv)
	if err != nil {
		return nil, translate(strings.TrimSpace(op+" "+id), key, err)
	}
	return res, nil
}

// run runs operation sc: a call of the library's function (loading the
// library first where the server lacks it), or the script on servers
// without functions.
func (s *Store) run(ctx context.Context, sc *script, keys []string, argv []any) (any, error) {
	if s.calls.Load() == viaFunctions {
		fcall := func(c goredis.Cmdable) *goredis.Cmd { return c.FCall(ctx, sc.fn, keys, argv...) }
		res, err := s.do(ctx, keys[0], fcall)
		if missingFunction(err) {
			if err = s.loadLibrary(ctx); err == nil {
				res, err = s.do(ctx, keys[0], fcall)
			}
		}
		if !noFunctions(err) {
			return res, err
		}
		s.calls.Store(viaScripts)
	}
	res, err := s.do(ctx, keys[0], func(c goredis.Cmdable) *goredis.Cmd { return sc.eval.EvalSha(ctx, c, keys, argv...) })
	if err != nil && goredis.HasErrorPrefix(err, "NOSCRIPT") {
		res, err = s.do(ctx, keys[0], func(c goredis.Cmdable) *goredis.Cmd { return sc.eval.Eval(ctx, c, keys, argv...) })
	}
	return res, err
}

// loadLibrary loads the store's function library on the server, or on
// every master of a cluster (functions are not shared between shards).
func (s *Store) loadLibrary(ctx context.Context) error {
	s.load.Lock()
	defer s.load.Unlock()
	if cc, ok := s.c.(*goredis.ClusterClient); ok {
		return cc.ForEachMaster(ctx, func(ctx context.Context, n *goredis.Client) error {
			return n.FunctionLoadReplace(ctx, s.lua.library).Err()
		})
	}
	return s.c.FunctionLoadReplace(ctx, s.lua.library).Err()
}

// missingFunction reports whether err says the server lacks the function
// (a fresh server, or one restarted without persistence).
func missingFunction(err error) bool {
	return err != nil && strings.Contains(err.Error(), "Function not found")
}

// noFunctions reports whether err says the server has no functions
// (Redis before 7.0).
func noFunctions(err error) bool {
	if err == nil {
		return false
	}
	msg := strings.ToLower(err.Error())
	return unknownCommand(err) && (strings.Contains(msg, "fcall") || strings.Contains(msg, "function"))
}

// effects runs a transition script and decodes the effects it returns.
func (s *Store) effects(ctx context.Context, sc *script, op, id string, args ...any) (storage.Effects, error) {
	var res any
	var err error
	if batched[sc.name] {
		res, err = s.batched(ctx, sc, op, id, args...)
	} else {
		res, err = s.eval(ctx, sc, op, id, args...)
	}
	if err != nil {
		return storage.Effects{}, err
	}
	raw, ok := res.(string)
	if !ok {
		return storage.Effects{}, fmt.Errorf("storage/redis: %s %s: unexpected reply %T: %w", op, id, res, storage.ErrCorrupt)
	}
	var w wireEffects
	if err := unmarshal(raw, &w); err != nil {
		return storage.Effects{}, fmt.Errorf("storage/redis: %s %s: decode reply: %v: %w", op, id, err, storage.ErrCorrupt)
	}
	eff := storage.Effects{Source: w.Source, Cancels: w.Cancels, Claimed: w.Claimed}
	if len(eff.Cancels) == 0 {
		eff.Cancels = nil
	}
	for _, d := range w.Dispatches {
		eff.Dispatches = append(eff.Dispatches, fromWireDispatch(d))
	}
	for _, d := range w.Flows {
		eff.Flows = append(eff.Flows, fromWireDispatch(d))
	}
	if w.Ended != nil {
		root := sig.RootOf(id)
		r, err := fromWire(root, w.Ended)
		if err != nil {
			return storage.Effects{}, fmt.Errorf("storage/redis: %s %s: decode ended root: %v: %w", op, id, err, storage.ErrCorrupt)
		}
		eff.Ended = r
	}
	for _, sw := range w.Swarms {
		eff.Swarms = append(eff.Swarms, storage.Swarm{ID: sw.ID, Name: sw.Name})
	}
	return eff, nil
}

// records encodes prepared records as id/value pairs for a script.
func records(recs []*sig.Record) ([]any, error) {
	out := make([]any, 0, 2*len(recs))
	for _, r := range recs {
		b, err := msgpack.Marshal(toWire(r))
		if err != nil {
			return nil, fmt.Errorf("storage/redis: encode %s: %w", r.ID, err)
		}
		out = append(out, r.ID, b)
	}
	return out, nil
}

// CreateGraph implements storage.Store. One round trip.
func (s *Store) CreateGraph(ctx context.Context, g storage.Graph) (storage.Effects, error) {
	if len(g.Records) == 0 || g.Records[0] == nil {
		return storage.Effects{}, fmt.Errorf("storage/redis: create graph: no root record: %w", storage.ErrState)
	}
	root := g.Records[0].ID
	if g.Records[0].Role != sig.RoleRoot || sig.RootOf(root) != root || !sig.ValidID(root) {
		return storage.Effects{}, fmt.Errorf("storage/redis: create graph: first record %q is not a root: %w", root, storage.ErrState)
	}
	if g.ActiveTTL < time.Millisecond || g.DoneTTL < time.Millisecond {
		return storage.Effects{}, fmt.Errorf("storage/redis: create graph %s: TTLs must be at least 1ms (active %v, done %v): %w", root, g.ActiveTTL, g.DoneTTL, storage.ErrState)
	}
	recs, err := transition.Prepare(root, g.Records, nil, s.now(), g.Owned)
	if err != nil {
		return storage.Effects{}, fmt.Errorf("storage/redis: %w", err)
	}
	pairs, err := records(recs)
	if err != nil {
		return storage.Effects{}, err
	}
	start := "0"
	if g.Start {
		start = "1"
	}
	args := append([]any{root, start, orNull(g.Input), g.ActiveTTL.Milliseconds(), g.DoneTTL.Milliseconds()}, pairs...)
	return s.effects(ctx, s.lua.create, "create graph", root, args...)
}

// StartGraph implements storage.Store. One round trip.
func (s *Store) StartGraph(ctx context.Context, root string, input []byte) (storage.Effects, error) {
	return s.effects(ctx, s.lua.start, "start", root, root, orNull(input))
}

// Claim implements storage.Store. One round trip.
func (s *Store) Claim(ctx context.Context, id, runID string) (storage.Claim, error) {
	res, err := s.batched(ctx, s.lua.claim, "claim", id, id, runID)
	if err != nil {
		return storage.Claim{}, err
	}
	raw, _ := res.(string)
	var w wireClaim
	if err := unmarshal(raw, &w); err != nil {
		return storage.Claim{}, fmt.Errorf("storage/redis: claim %s: decode reply: %v: %w", id, err, storage.ErrCorrupt)
	}
	o, ok := outcomes[w.Outcome]
	if !ok {
		return storage.Claim{}, fmt.Errorf("storage/redis: claim %s: unknown outcome %q: %w", id, w.Outcome, storage.ErrCorrupt)
	}
	if o == storage.Claimed {
		return storage.Claim{Outcome: o}, nil // the script sends no record
	}
	r, err := fromWire(id, &w.Record)
	if err != nil {
		return storage.Claim{}, fmt.Errorf("storage/redis: claim %s: decode reply: %v: %w", id, err, storage.ErrCorrupt)
	}
	return storage.Claim{Outcome: o, Record: r}, nil
}

var outcomes = map[string]storage.Outcome{
	"claimed":   storage.Claimed,
	"ended":     storage.Ended,
	"duplicate": storage.Duplicate,
	"held":      storage.Held,
	"dropped":   storage.Dropped,
}

// Complete implements storage.Store. One round trip.
func (s *Store) Complete(ctx context.Context, id, runID string, result []byte) (storage.Effects, error) {
	return s.effects(ctx, s.lua.complete, "complete", id, id, runID, orNull(result))
}

// CompleteAhead implements storage.Aheader. One round trip, shared with
// other operations of the graph under load, as Complete's.
func (s *Store) CompleteAhead(ctx context.Context, id, runID string, result []byte, next string, lease time.Duration) (storage.Effects, error) {
	return s.effects(ctx, s.lua.complete, "complete", id, id, runID, orNull(result), next, lease.Milliseconds())
}

// Confirm implements storage.Aheader. One round trip.
func (s *Store) Confirm(ctx context.Context, id, runID string) error {
	_, err := s.eval(ctx, s.lua.confirm, "confirm", id, id, runID)
	return err
}

// Fail implements storage.Store. One round trip.
func (s *Store) Fail(ctx context.Context, id, runID string, info sig.ErrorInfo) (storage.Effects, error) {
	return s.effects(ctx, s.lua.fail, "fail", id, id, runID, info.Task, info.Message, info.Attempts, string(info.Kind), info.Stack)
}

// AddItems implements storage.Store. One round trip.
func (s *Store) AddItems(ctx context.Context, id string, base int, items []*sig.Record) (storage.Effects, error) {
	n := 0
	for _, it := range items {
		if it == nil {
			return storage.Effects{}, fmt.Errorf("storage/redis: add items to %s: nil item: %w", id, storage.ErrState)
		}
		if it.Parent == id && it.Role == sig.RoleChild {
			if it.Index != base+n {
				return storage.Effects{}, fmt.Errorf("storage/redis: add items to %s: item %s has index %d, want %d: %w", id, it.ID, it.Index, base+n, storage.ErrState)
			}
			n++
		}
	}
	recs, err := transition.Prepare(sig.RootOf(id), items, map[string]bool{id: true}, s.now(), false)
	if err != nil {
		return storage.Effects{}, fmt.Errorf("storage/redis: add items to %s: %w", id, err)
	}
	pairs, err := records(recs)
	if err != nil {
		return storage.Effects{}, err
	}
	return s.effects(ctx, s.lua.add, "add items to", id, append([]any{id, base, n}, pairs...)...)
}

// CloseSwarm implements storage.Store. One round trip.
func (s *Store) CloseSwarm(ctx context.Context, id string) (storage.Effects, error) {
	return s.effects(ctx, s.lua.close, "close swarm", id, id)
}

// Apply implements storage.Store. One round trip.
func (s *Store) Apply(ctx context.Context, root string, op sig.Op) (storage.Effects, error) {
	return s.effects(ctx, s.lua.apply, string(op), root, root, string(op))
}

// Ack implements storage.Store. One round trip.
func (s *Store) Ack(ctx context.Context, id string, keys []string) error {
	if len(keys) == 0 {
		return nil
	}
	args := make([]any, 0, len(keys)+1)
	args = append(args, id)
	for _, k := range keys {
		args = append(args, k)
	}
	_, err := s.eval(ctx, s.lua.ack, "ack", id, args...)
	return err
}

// Spawn implements storage.Store. One round trip.
func (s *Store) Spawn(ctx context.Context, id string, n int) error {
	_, err := s.eval(ctx, s.lua.spawn, "spawn", id, id, n)
	return err
}

// Touch implements storage.Store. One round trip.
func (s *Store) Touch(ctx context.Context, root string) error {
	_, err := s.eval(ctx, s.lua.touch, "touch", root, root)
	return err
}

// Owed implements storage.Store. One round trip.
func (s *Store) Owed(ctx context.Context, id string) (storage.Effects, error) {
	return s.effects(ctx, s.lua.owed, "owed by", id, id)
}

// Due implements storage.Store: one round trip per shard, shard by shard
// until n ids are found; the oldest owed first within a shard.
func (s *Store) Due(ctx context.Context, age time.Duration, n int) ([]string, error) {
	var ids []string
	cutoff := s.now().Add(-age).UnixMilli()
	for sh := 0; sh < s.shards && len(ids) < n; sh++ {
		key := s.owedKey(sh)
		res, err := s.call(ctx, s.lua.due, "due", "", key, []string{key, key}, cutoff, n-len(ids), s.shardBase(sh))
		if err != nil {
			return ids, err
		}
		list, ok := res.([]any)
		if !ok {
			return ids, fmt.Errorf("storage/redis: due: unexpected reply %T: %w", res, storage.ErrCorrupt)
		}
		for _, v := range list {
			if id, ok := v.(string); ok && sig.ValidID(id) {
				ids = append(ids, id)
			}
		}
	}
	return ids, nil
}

// Get implements storage.Store: one round trip of plain reads (HGET and
// PTTL, pipelined), so that a user who may only read can inspect flows
// and no code is loaded to read. It reads from the graph's master (a
// cluster client that routes reads to replicas could read stale state),
// and with WithReplicas it waits for the replicas too: what it returns
// survives a failover.
func (s *Store) Get(ctx context.Context, id string) (*sig.Record, error) {
	if !sig.ValidID(id) {
		return nil, fmt.Errorf("storage/redis: get: invalid id %q: %w", id, storage.ErrNotFound)
	}
	key := s.Key(sig.RootOf(id))
	var hget *goredis.StringCmd
	var pttl *goredis.DurationCmd
	werr := s.send(ctx, key, func(p goredis.Pipeliner) {
		hget = p.HGet(ctx, key, Field(id))
		pttl = p.PTTL(ctx, key)
	})
	if hget == nil {
		return nil, translate("get "+id, key, werr)
	}
	err := hget.Err()
	if err != nil && !errors.Is(err, goredis.Nil) {
		return nil, translate("get "+id, key, err)
	}
	if werr != nil {
		// what the primary has may not survive a failover yet
		return nil, translate("get "+id, key, werr)
	}
	if err != nil {
		return nil, fmt.Errorf("storage/redis: get %s: key %s has no record %s: %w", id, key, id, storage.ErrNotFound)
	}
	var w wireRecord
	if err := unmarshal(hget.Val(), &w); err != nil || !w.isRecord() {
		return nil, fmt.Errorf("storage/redis: get %s: key %s field %s does not decode (%v): %w", id, key, id, err, storage.ErrCorrupt)
	}
	r, err := fromWire(id, &w)
	if err != nil {
		return nil, fmt.Errorf("storage/redis: get %s: key %s field %s does not decode (%v): %w", id, key, id, err, storage.ErrCorrupt)
	}
	if ttl := pttl.Val(); ttl > 0 {
		r.ExpiresAt = time.Now().Add(ttl).Truncate(time.Millisecond) // the precision of PTTL
	}
	return r, nil
}

func orNull(v []byte) []byte {
	if len(v) == 0 {
		return []byte("null")
	}
	return v
}

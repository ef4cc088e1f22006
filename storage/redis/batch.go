package redis

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
)

// Batches. The claims, completions and failures of one graph that arrive
// while calls for that graph are under way wait, and go together in a
// next call (batch.lua), which runs each as its own call would, in order,
// and writes once. A graph has at most maxSenders such calls under way
// (two: one runs while the other's answer travels): a lone operation goes
// at once, as it did alone; under load (the items of a wide swarm) Redis
// runs one script and reads one request for many operations, which is
// most of what each costs it.

// maxBatch bounds the operations of one call, and maxBatchBytes the bytes
// of their arguments (the results completions store).
const (
	maxSenders    = 2
	maxBatch      = 128
	maxBatchBytes = 1 << 20
)

// batches holds, per graph key, the operations waiting for the calls
// under way for that graph; a key is present while a call is under way.
type batches struct {
	mu    sync.Mutex
	lanes map[string]*lane
	// ran and redone count the calls of more than one operation, and
	// those of them whose operations went again one by one.
	ran, redone atomic.Int64
}

type lane struct {
	senders int // the calls under way, at most maxSenders
	waiting []*batchOp
}

// batchOp is one operation waiting in a lane, and then its reply.
type batchOp struct {
	ctx    context.Context
	sc     *script
	op, id string
	args   []any
	size   int
	res    any
	err    error
	done   chan struct{}
}

// batched runs operation sc (claim, complete or fail) on the graph of id,
// in a batch with others of the same graph when a call for it is under
// way, and returns its reply as eval does.
func (s *Store) batched(ctx context.Context, sc *script, op, id string, args ...any) (any, error) {
	if !sig.ValidID(id) {
		return nil, fmt.Errorf("storage/redis: %s: invalid id %q: %w", op, id, storage.ErrNotFound)
	}
	root := sig.RootOf(id)
	n := s.shard(root)
	key := s.shardBase(n) + root
	keys := []string{key, s.owedKey(n), s.flowsKey(n), s.expiries[n]}
	b := &s.batch
	b.mu.Lock()
	if b.lanes == nil {
		b.lanes = map[string]*lane{}
	}
	l := b.lanes[key]
	if l == nil {
		l = &lane{}
		b.lanes[key] = l
	}
	if l.senders < maxSenders {
		// room for a call: this one goes now, alone
		l.senders++
		b.mu.Unlock()
		res, err := s.call(ctx, sc, op, id, key, keys, args...)
		s.handOff(key, keys)
		return res, err
	}
	o := &batchOp{ctx: ctx, sc: sc, op: op, id: id, args: args, size: argsSize(args), done: make(chan struct{})}
	l.waiting = append(l.waiting, o)
	b.mu.Unlock()
	select {
	case <-o.done:
		return o.res, o.err
	case <-ctx.Done():
		// not sent yet: it never will be; sent: its reply is lost to
		// the caller, as a reply lost on the way is
		s.withdraw(key, o)
		return nil, fmt.Errorf("storage/redis: %s %s: %w", op, id, ctx.Err())
	}
}

// withdraw takes o out of key's lane if it was not sent yet.
func (s *Store) withdraw(key string, o *batchOp) {
	b := &s.batch
	b.mu.Lock()
	defer b.mu.Unlock()
	if l := b.lanes[key]; l != nil {
		for i, w := range l.waiting {
			if w == o {
				l.waiting = append(l.waiting[:i], l.waiting[i+1:]...)
				return
			}
		}
	}
}

// handOff ends a call under way for key: when nothing waits its sender
// leaves the lane, else a goroutine sends what waits, batch after batch.
func (s *Store) handOff(key string, keys []string) {
	if next := s.take(key); next != nil {
		go s.drain(key, keys, next)
	}
}

// take returns the next batch of key's lane, or nil when nothing waits,
// after taking the caller out of the lane's senders (and the lane away
// when it was the last).
func (s *Store) take(key string) []*batchOp {
	b := &s.batch
	b.mu.Lock()
	defer b.mu.Unlock()
	l := b.lanes[key]
	if len(l.waiting) == 0 {
		if l.senders--; l.senders == 0 {
			delete(b.lanes, key)
		}
		return nil
	}
	n, size := 0, 0
	for n < len(l.waiting) && n < maxBatch && (n == 0 || size+l.waiting[n].size <= maxBatchBytes) {
		size += l.waiting[n].size
		n++
	}
	next := make([]*batchOp, n)
	copy(next, l.waiting)
	l.waiting = append(l.waiting[:0], l.waiting[n:]...)
	return next
}

// drain sends batch after batch of key's lane until nothing waits.
func (s *Store) drain(key string, keys []string, ops []*batchOp) {
	for ; ops != nil; ops = s.take(key) {
		ctx, cancel := batchContext(ops)
		s.send1(ctx, key, keys, ops)
		cancel()
	}
}

// batchContext is the context of a call for ops: the values of the first
// operation's (a tracing hook sees the call as that operation's), ended
// by no caller alone, with the latest of their deadlines when each has
// one.
func batchContext(ops []*batchOp) (context.Context, context.CancelFunc) {
	var latest time.Time
	for _, o := range ops {
		d, ok := o.ctx.Deadline()
		if !ok {
			return context.WithoutCancel(ops[0].ctx), func() {}
		}
		if d.After(latest) {
			latest = d
		}
	}
	return context.WithDeadline(context.WithoutCancel(ops[0].ctx), latest)
}

// send1 sends ops in one call (a lone one as its own) and hands each its
// reply. When an operation raised an error the call wrote nothing: that
// operation has its error, and the others go again, those before it
// first.
func (s *Store) send1(ctx context.Context, key string, keys []string, ops []*batchOp) {
	if len(ops) == 1 {
		o := ops[0]
		o.res, o.err = s.call(ctx, o.sc, o.op, o.id, key, keys, o.args...)
		close(o.done)
		return
	}
	if s.unchecked {
		s.warnUnchecked()
	}
	argv := make([]any, 0, 1+4*len(ops))
	argv = append(argv, s.now().UnixMilli())
	for _, o := range ops {
		argv = append(argv, o.sc.name, len(o.args))
		argv = append(argv, o.args...)
	}
	res, err := s.run(ctx, s.lua.batch, keys, argv)
	s.batch.ran.Add(1)
	if i, opErr, ok := raisedBy(err, len(ops)); ok {
		s.batch.redone.Add(1)
		o := ops[i]
		o.err = translate(o.op+" "+o.id, key, opErr)
		close(o.done)
		if i > 0 {
			s.send1(ctx, key, keys, ops[:i])
		}
		if i+1 < len(ops) {
			s.send1(ctx, key, keys, ops[i+1:])
		}
		return
	}
	replies, _ := res.([]any)
	if err == nil && len(replies) != len(ops) {
		err = fmt.Errorf("%d replies for %d operations: %w", len(replies), len(ops), storage.ErrCorrupt)
	}
	for i, o := range ops {
		if err != nil {
			// not run, or its answer lost: each operation's caller
			// hears it as it would of its own call
			o.err = translate(o.op+" "+o.id+" (in a batch)", key, err)
		} else {
			o.res = replies[i]
		}
		close(o.done)
	}
}

// opError is the error an operation of a batch raised, as the server
// answers it to the operation's own call.
type opError string

func (e opError) Error() string { return string(e) }
func (opError) RedisError()     {}

// raisedBy reports whether err says that operation i of a batch of n
// raised an error (batch.lua's "BATCHOP <i> <error>"), and returns that
// error.
func raisedBy(err error, n int) (int, error, bool) {
	var re goredis.Error
	if !errors.As(err, &re) {
		return 0, nil, false
	}
	rest, ok := strings.CutPrefix(re.Error(), "BATCHOP ")
	if !ok {
		return 0, nil, false
	}
	idx, msg, _ := strings.Cut(rest, " ")
	i, perr := strconv.Atoi(idx)
	if perr != nil || i < 0 || i >= n {
		return 0, nil, false
	}
	return i, opError(msg), true
}

// argsSize is about how many bytes args take on the wire.
func argsSize(args []any) int {
	n := 0
	for _, a := range args {
		switch v := a.(type) {
		case string:
			n += len(v)
		case []byte:
			n += len(v)
		default:
			n += 8
		}
	}
	return n
}

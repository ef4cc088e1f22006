package bench

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"fmt"
	"io"
	stdlog "log"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	machinery "github.com/RichardKnop/machinery/v2"
	mredisbackend "github.com/RichardKnop/machinery/v2/backends/redis"
	mresult "github.com/RichardKnop/machinery/v2/backends/result"
	mredisbroker "github.com/RichardKnop/machinery/v2/brokers/redis"
	"github.com/RichardKnop/machinery/v2/config"
	eagerlock "github.com/RichardKnop/machinery/v2/locks/eager"
	mlog "github.com/RichardKnop/machinery/v2/log"
	"github.com/RichardKnop/machinery/v2/tasks"
	goredis "github.com/redis/go-redis/v9"

	"github.com/mageflow-go/mageflow/internal/redistest"
)

// machineryWorkers is the concurrency of the machinery worker.
const machineryWorkers = 100

// machinerySendConcurrency bounds the goroutines machinery publishes a
// group's tasks with.
const machinerySendConcurrency = 100

// machineryPoll is how often a machinery chain's last result is read:
// machinery's Redis result backend has no notification.
const machineryPoll = 2 * time.Millisecond

// silenceMachinery drops machinery's debug, info and warning logs; its
// errors still go to stderr, marked "machinery: ".
var silenceMachinery = sync.OnceFunc(func() {
	quiet := stdlog.New(io.Discard, "", 0)
	mlog.SetDebug(quiet)
	mlog.SetInfo(quiet)
	mlog.SetWarning(quiet)
	loud := stdlog.New(os.Stderr, "machinery: ", stdlog.LstdFlags)
	mlog.SetError(loud)
	mlog.SetFatal(loud)
})

// machineryPeer is a machinery v2 server on a Redis broker and a Redis
// result backend, with a worker of machineryWorkers goroutines in this
// process. Its keys live in the database after the one
// MAGEFLOW_REDIS_URL names, each under prefix or named by a group id it
// records, and are deleted when the test ends. The lock machinery takes to
// trigger a chord has a fixed name; it deletes it on unlock.
type machineryPeer struct {
	server *machinery.Server
	worker *machinery.Worker
	prefix string
	seq    atomic.Int64
	errs   chan error // errors the worker reported
	ended  chan error // what LaunchAsync reports when the worker ends
	done   chan int64 // the sums the chord callback saw
	fired  atomic.Int64
	mu     sync.Mutex
	groups []string // group metadata keys, named by machinery
	halt   sync.Once
}

func newMachinery(tb testing.TB) *machineryPeer {
	tb.Helper()
	silenceMachinery()
	base := redistest.Client(tb) // skips or fails when Redis does not answer
	opt := *base.Options()
	opt.DB = (opt.DB + 1) % 16
	rc := goredis.NewClient(&opt)
	tb.Cleanup(func() { _ = rc.Close() })
	var b [6]byte
	_, _ = rand.Read(b[:])
	p := &machineryPeer{
		prefix: "mfpeer:" + hex.EncodeToString(b[:]),
		errs:   make(chan error, 16),
		ended:  make(chan error, 1),
		done:   make(chan int64, 16),
	}
	tb.Cleanup(func() { p.cleanup(tb, rc) })
	cnf := &config.Config{
		DefaultQueue:    p.prefix + ":queue",
		ResultsExpireIn: config.DefaultResultsExpireIn,
		Redis:           &config.RedisConfig{DelayedTasksKey: p.prefix + ":delayed"},
		NoUnixSignals:   true,
	}
	addr := opt.Addr
	if opt.Password != "" {
		addr = opt.Username + ":" + opt.Password + "@" + addr
	}
	broker := mredisbroker.NewGR(cnf, []string{addr}, opt.DB)
	backend := mredisbackend.NewGR(cnf, []string{addr}, opt.DB)
	p.server = machinery.NewServer(cnf, broker, backend, eagerlock.New())
	err := p.server.RegisterTasks(map[string]any{
		"peer-step": func(n int64) (int64, error) { return n + 1, nil },
		"peer-sum": func(xs ...int64) (int64, error) {
			var s int64
			for _, x := range xs {
				s += x
			}
			p.fired.Add(1)
			select {
			case p.done <- s:
			default:
			}
			return s, nil
		},
	})
	if err != nil {
		tb.Fatalf("machinery: register tasks: %v", err)
	}
	p.worker = p.server.NewWorker("mfpeer", machineryWorkers)
	p.worker.SetErrorHandler(func(err error) {
		select {
		case p.errs <- err:
		default:
		}
	})
	p.worker.LaunchAsync(p.ended)
	tb.Cleanup(func() { p.stop(tb) })
	// one task through, so that the worker consumes before any timing
	run := p.chain(tb, 1)
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	if out, err := run(ctx); err != nil || out != 1 {
		tb.Fatalf("machinery: warm-up task = %d, %v", out, err)
	}
	return p
}

// signature returns a no-op signature with an id under the prefix.
func (p *machineryPeer) signature(name string, args ...int64) *tasks.Signature {
	s := &tasks.Signature{
		UUID: p.prefix + ":task:" + strconv.FormatInt(p.seq.Add(1), 10),
		Name: name,
	}
	for _, a := range args {
		s.Args = append(s.Args, tasks.Arg{Type: "int64", Value: a})
	}
	return s
}

func (p *machineryPeer) chain(tb testing.TB, n int) func(ctx context.Context) (int, error) {
	tb.Helper()
	sigs := make([]*tasks.Signature, n)
	for i := range sigs {
		sigs[i] = p.signature("peer-step")
	}
	sigs[0].Args = []tasks.Arg{{Type: "int64", Value: int64(0)}}
	last := sigs[n-1]
	c, err := tasks.NewChain(sigs...)
	if err != nil {
		tb.Fatalf("machinery: new chain: %v", err)
	}
	return func(ctx context.Context) (int, error) {
		if _, err := p.server.SendChainWithContext(ctx, c); err != nil {
			return 0, fmt.Errorf("machinery: send chain: %w", err)
		}
		res := mresult.NewAsyncResult(last, p.server.GetBackend())
		tick := time.NewTicker(machineryPoll)
		defer tick.Stop()
		for {
			vals, err := res.Touch()
			if err != nil {
				return 0, fmt.Errorf("machinery: chain: %w", err)
			}
			if len(vals) > 0 {
				return int(vals[0].Int()), nil
			}
			select {
			case err := <-p.errs:
				return 0, fmt.Errorf("machinery: worker: %w", err)
			case <-ctx.Done():
				return 0, fmt.Errorf("machinery: chain of %d: %w", n, ctx.Err())
			case <-tick.C:
			}
		}
	}
}

func (p *machineryPeer) chord(tb testing.TB, n int) func(ctx context.Context) (int, error) {
	tb.Helper()
	sigs := make([]*tasks.Signature, n)
	for i := range sigs {
		sigs[i] = p.signature("peer-step", 0)
	}
	g, err := tasks.NewGroup(sigs...)
	if err != nil {
		tb.Fatalf("machinery: new group: %v", err)
	}
	c, err := tasks.NewChord(g, p.signature("peer-sum"))
	if err != nil {
		tb.Fatalf("machinery: new chord: %v", err)
	}
	p.mu.Lock()
	p.groups = append(p.groups, g.GroupUUID)
	p.mu.Unlock()
	drain(p.done)
	return func(ctx context.Context) (int, error) {
		if _, err := p.server.SendChordWithContext(ctx, c, machinerySendConcurrency); err != nil {
			return 0, fmt.Errorf("machinery: send chord: %w", err)
		}
		select {
		case s := <-p.done:
			return int(s), nil
		case err := <-p.errs:
			return 0, fmt.Errorf("machinery: worker: %w", err)
		case <-ctx.Done():
			return 0, fmt.Errorf("machinery: chord of %d: %w: %w", n, errNoCallback, ctx.Err())
		}
	}
}

func (p *machineryPeer) callbacks() int64 { return p.fired.Load() }

// stop quits the worker, which waits for the tasks it runs.
func (p *machineryPeer) stop(tb testing.TB) {
	p.halt.Do(func() {
		p.worker.Quit()
		select {
		case err := <-p.ended:
			if err != nil {
				tb.Errorf("machinery: worker ended with: %v", err)
			}
		case <-time.After(time.Minute):
			tb.Errorf("machinery: worker did not end within a minute of Quit")
		}
		for {
			select {
			case err := <-p.errs:
				tb.Errorf("machinery: worker: %v", err)
			default:
				return
			}
		}
	})
}

// cleanup deletes the keys the peer made.
func (p *machineryPeer) cleanup(tb testing.TB, rc *goredis.Client) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	keys := append([]string(nil), p.groups...)
	iter := rc.Scan(ctx, 0, p.prefix+":*", 1000).Iterator()
	for iter.Next(ctx) {
		keys = append(keys, iter.Val())
	}
	if err := iter.Err(); err != nil {
		tb.Errorf("machinery: scan %s: %v", p.prefix, err)
	}
	for len(keys) > 0 {
		k := min(len(keys), 1000)
		if err := rc.Del(ctx, keys[:k]...).Err(); err != nil {
			tb.Errorf("machinery: delete keys: %v", err)
			return
		}
		keys = keys[k:]
	}
}

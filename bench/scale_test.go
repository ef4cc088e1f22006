package bench

import (
	"bufio"
	"context"
	"os"
	"runtime/debug"
	"strconv"
	"strings"
	"sync"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/mageflow-go/mageflow/internal/redistest"
	redisstore "github.com/mageflow-go/mageflow/storage/redis"
)

// TestMain stops the local Redis Cluster the scale rows start.
func TestMain(m *testing.M) { redistest.Main(m) }

// The sizes of the scale rows: the cost per item is to be as flat at the
// second as at the first.
var scaleSizes = []struct {
	name  string
	items int
}{{"10k", 10_000}, {"1M", 1_000_000}}

// BenchmarkSwarmScale is a swarm of 10,000 and of 1,000,000 no-op items,
// 1,000 at once, on the memory backend with the memory store (items/s,
// and the peak RSS the run added, per item), with the Redis store and
// with a store on a local 3-master Redis Cluster (items/s, and the
// servers' time per store operation, and their calls per operation).
func BenchmarkSwarmScale(b *testing.B) {
	for _, size := range scaleSizes {
		b.Run("memory/"+size.name, func(b *testing.B) {
			c := client(b, memoryStore(b))
			rss := peakRSS(b, func() { runSwarm(b, c, size.items, swarmWidth) })
			b.ReportMetric(float64(rss)/float64(b.N*size.items), "rss-B/item")
		})
		b.Run("redis/"+size.name, func(b *testing.B) {
			s, rc, _ := redisStore(b)
			cs := &countingStore{Store: s}
			c := client(b, cs)
			serverTime(b, rc, cs, func() { runSwarm(b, c, size.items, swarmWidth) })
		})
		b.Run("cluster/"+size.name, func(b *testing.B) {
			cc := redistest.Cluster(b)
			s, err := redisstore.New(cc, redisstore.WithPrefix(redistest.Prefix(b, cc)))
			if err != nil {
				b.Fatal(err)
			}
			cs := &countingStore{Store: s}
			c := client(b, cs)
			serverTime(b, cc, cs, func() { runSwarm(b, c, size.items, swarmWidth) })
		})
	}
}

// peakRSS runs fn and returns how far the process's peak resident set
// rose above its resident set before it (Linux: /proc/self; 0 elsewhere).
// The memory earlier runs left free goes back to the system first: else a
// run reuses what the one before grew, and the rise says nothing.
func peakRSS(b *testing.B, fn func()) int64 {
	debug.FreeOSMemory()
	// "5" resets the peak (VmHWM) to the current resident set
	reset := os.WriteFile("/proc/self/clear_refs", []byte("5"), 0)
	before := procStatus(b, "VmRSS")
	fn()
	if reset != nil || before == 0 {
		b.Logf("no peak RSS: %v", reset)
		return 0
	}
	return procStatus(b, "VmHWM") - before
}

// procStatus returns field (in kB there) of /proc/self/status in bytes,
// 0 when it cannot be read.
func procStatus(b *testing.B, field string) int64 {
	f, err := os.Open("/proc/self/status")
	if err != nil {
		return 0
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		k, v, ok := strings.Cut(sc.Text(), ":")
		if !ok || k != field {
			continue
		}
		n, err := strconv.ParseInt(strings.TrimSuffix(strings.TrimSpace(v), " kB"), 10, 64)
		if err != nil {
			b.Fatalf("/proc/self/status %s: %v", field, err)
		}
		return n << 10
	}
	return 0
}

// serverTime runs fn and reports the time the Redis servers of c spent
// in the store's calls (FCALL, or EVALSHA without functions) meanwhile,
// from INFO commandstats: per store operation of cs (a claim, a
// completion; a call may run a batch of them), and the calls per
// operation.
func serverTime(b *testing.B, c goredis.UniversalClient, cs *countingStore, fn func()) {
	before, ops, runs := callStats(b, c), cs.ops(), cs.runs()
	fn()
	after := callStats(b, c)
	calls, usec := after.calls-before.calls, after.usec-before.usec
	if n := cs.ops() - ops; n > 0 {
		b.ReportMetric(float64(usec)/float64(n), "us/op")
		b.ReportMetric(float64(calls)/float64(n), "calls/op")
	}
	if n := cs.runs() - runs; n > 0 {
		b.ReportMetric(float64(usec)/float64(n), "us/task")
		b.ReportMetric(float64(cs.ops()-ops)/float64(n), "ops/task")
	}
}

// stats are the store calls a server counted and the microseconds it
// spent in them.
type stats struct{ calls, usec int64 }

// callStats sums the store calls of c's servers (every master of a
// cluster).
func callStats(b *testing.B, c goredis.UniversalClient) stats {
	ctx := context.Background()
	var mu sync.Mutex
	var sum stats
	add := func(ctx context.Context, c *goredis.Client) error {
		info, err := c.Info(ctx, "commandstats").Result()
		if err != nil {
			return err
		}
		s := parseCallStats(info)
		mu.Lock()
		sum.calls += s.calls
		sum.usec += s.usec
		mu.Unlock()
		return nil
	}
	var err error
	switch c := c.(type) {
	case *goredis.ClusterClient:
		err = c.ForEachMaster(ctx, add)
	case *goredis.Client:
		err = add(ctx, c)
	}
	if err != nil {
		b.Fatal(err)
	}
	return sum
}

// parseCallStats reads the fcall and evalsha lines of INFO commandstats.
func parseCallStats(info string) stats {
	var s stats
	for _, line := range strings.Split(info, "\n") {
		line = strings.TrimSpace(line)
		name, rest, ok := strings.Cut(line, ":")
		if !ok || (name != "cmdstat_fcall" && name != "cmdstat_evalsha") {
			continue
		}
		for _, kv := range strings.Split(rest, ",") {
			k, v, _ := strings.Cut(kv, "=")
			n, _ := strconv.ParseInt(v, 10, 64)
			switch k {
			case "calls":
				s.calls += n
			case "usec":
				s.usec += n
			}
		}
	}
	return s
}

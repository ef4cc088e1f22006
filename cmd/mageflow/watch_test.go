package main

import (
	"context"
	"errors"
	"io"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mageflow-go/mageflow/flow"
	"github.com/mageflow-go/mageflow/inspect"
	"github.com/mageflow-go/mageflow/internal/redistest"
	"github.com/mageflow-go/mageflow/sig"
	redisstore "github.com/mageflow-go/mageflow/storage/redis"
)

// watch's lines fit the width it is given, and tell the rate and the
// time left of a running flow.
func TestBarsFitTheWidth(t *testing.T) {
	now := time.Now()
	root := &sig.Record{ID: "01M8AY3ZQCFYNCEY35P1HEHTMQ", Root: "01M8AY3ZQCFYNCEY35P1HEHTMQ", Kind: sig.KindSwarm, Name: "swarm", Label: "a-rather-long-nightly-import-name",
		Role: sig.RoleRoot, Status: sig.Active, Children: 3000, Swarm: &sig.SwarmState{Done: 1000, Failed: 2}, CreatedAt: now.Add(-10 * time.Second)}
	for _, cols := range []int{40, 80, 200} {
		out := bars(&inspect.Node{Record: root}, cols, now)
		for _, l := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
			if n := len([]rune(l)); n > cols {
				t.Errorf("%d columns: a line of %d: %q", cols, n, l)
			}
		}
		if !strings.Contains(out, "1002/3000 (2 failed) active") || cols >= 80 && !strings.Contains(out, "1002/3000 (2 failed) active  10s  100.2/s  ETA 20s") {
			t.Errorf("%d columns: %q, want the counts, elapsed time, rate and ETA", cols, out)
		}
	}
}

// A watch costs what it draws, not what the flow holds: each tick reads
// the root and one page of its children, in two round trips to Redis
// (each a record and its key's TTL), for a swarm of 30 items as for one
// of 3,000: 8 round trips a second at the default interval.
func TestWatchCostsAReadPerContainer(t *testing.T) {
	rc := redistest.Client(t)
	hook := &redistest.Counter{}
	rc.AddHook(hook)
	e := newClientOn(t, rc, redistest.URL()) // no worker: the swarm stays active
	s, err := redisstore.New(rc, redisstore.WithPrefix(e.prefix))
	if err != nil {
		t.Fatal(err)
	}
	perTick := func(items int) float64 {
		fs := make([]flow.Flow[int, int], items)
		for i := range fs {
			fs[i] = inc
		}
		id := started(t, e, flow.Swarm(fs...))
		ticks := &ticking{Store: s, root: id}
		ctx, cancel := context.WithTimeout(context.Background(), 300*time.Millisecond)
		defer cancel()
		trips, cmds, _ := hook.Measure(func() {
			if err := watch(ctx, ticks, []string{"--interval", "10ms", id}, io.Discard); !errors.Is(err, context.DeadlineExceeded) {
				t.Errorf("watch of a running swarm: %v, want it to run until the deadline", err)
			}
		})
		n := ticks.reads.Load()
		if n < 5 {
			t.Fatalf("watch read the root %d times in 300ms at an interval of 10ms", n)
		}
		t.Logf("watch of a swarm of %d items: %d round trips (%d commands) in %d ticks", items, trips, cmds, n)
		return float64(trips) / float64(n)
	}
	small, large := perTick(30), perTick(3000)
	if large > 2.5 || small > 2.5 {
		t.Errorf("round trips per tick of a watch: %.1f for 30 items, %.1f for 3,000; want 2 (and the first tick's look-up)", small, large)
	}
}

// ticking is a store that counts the reads of the record root: one per
// tick of a watch.
type ticking struct {
	*redisstore.Store
	root  string
	reads atomic.Int32
}

func (s *ticking) Get(ctx context.Context, id string) (*sig.Record, error) {
	if id == s.root {
		s.reads.Add(1)
	}
	return s.Store.Get(ctx, id)
}

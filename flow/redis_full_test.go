package flow_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"github.com/mageflow-go/mageflow/flow"
	"github.com/mageflow-go/mageflow/flowsuite"
	"github.com/mageflow-go/mageflow/internal/redistest"
	redisstore "github.com/mageflow-go/mageflow/storage/redis"
	"github.com/mageflow-go/mageflow/task"
)

// oomCounter is a go-redis hook that counts the writes Redis refused for
// lack of memory.
type oomCounter struct{ n atomic.Int64 }

func (h *oomCounter) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (h *oomCounter) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		err := next(ctx, cmd)
		if err != nil && strings.HasPrefix(err.Error(), "OOM ") {
			h.n.Add(1)
		}
		return err
	}
}

func (h *oomCounter) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		err := next(ctx, cmds)
		for _, cmd := range cmds {
			if cmd.Err() != nil && strings.HasPrefix(cmd.Err().Error(), "OOM ") {
				h.n.Add(1)
			}
		}
		return err
	}
}

// TestFlowsWaitWhileRedisIsFull fills a noeviction Redis while chains
// run and one more is started: the store's writes are refused (ErrFull),
// the engine repeats them, and once memory frees every flow finishes with
// its result, nothing lost.
func TestFlowsWaitWhileRedisIsFull(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a redis-server and fills it")
	}
	t.Parallel()
	srv := redistest.NewServer(t, "--maxmemory", "16mb", "--maxmemory-policy", "noeviction", "--appendonly", "no")
	rc := srv.Client(t)
	oom := &oomCounter{}
	rc.AddHook(oom)
	s, err := redisstore.New(rc)
	if err != nil {
		t.Fatal(err)
	}
	release := make(chan struct{})
	var entered atomic.Int64
	gate := task.New("gate", func(ctx context.Context, n int) (int, error) {
		entered.Add(1)
		<-release
		return n, nil
	})
	step := task.New("step", func(ctx context.Context, n int) (int, error) { return n + 1, nil })
	e, warned := runClient(t, s, gate, step)
	c := e.Client
	ctx := testCtx(t)

	const flows = 20
	chain := flow.Chain(step, gate, step, step)
	var runs []*flow.Run[int]
	for i := range flows {
		run, err := flow.Start(ctx, c, chain, i*10)
		if err != nil {
			t.Fatal(err)
		}
		runs = append(runs, run)
	}
	flowsuite.Eventually(t, "every flow to reach its gate", func() bool { return entered.Load() == flows })

	// fill the server until it refuses writes
	big := strings.Repeat("x", 256<<10)
	var filler []string
	for i := 0; ; i++ {
		k := "filler:" + strconv.Itoa(i)
		err := rc.Set(ctx, k, big, 0).Err()
		if err != nil {
			if !strings.HasPrefix(err.Error(), "OOM ") {
				t.Fatalf("fill: %v", err)
			}
			break
		}
		filler = append(filler, k)
	}
	before := oom.n.Load()
	late := make(chan error, 1)
	var lateRun *flow.Run[int]
	go func() {
		var err error
		lateRun, err = flow.Start(ctx, c, chain, 1000)
		late <- err
	}()
	close(release)
	flowsuite.Eventually(t, "the store's writes to be refused", func() bool { return oom.n.Load() >= before+flows })
	if _, err := s.Claim(ctx, runs[0].ID()+".3", "probe"); !errors.Is(err, redisstore.ErrFull) {
		t.Errorf("a write on the full server: %v; want ErrFull", err)
	}

	if err := rc.Del(ctx, filler...).Err(); err != nil {
		t.Fatal(err)
	}
	if err := <-late; err != nil {
		t.Fatalf("Start while Redis was full: %v", err)
	}
	for i, run := range append(runs, lateRun) {
		in := i * 10
		if i == flows {
			in = 1000
		}
		out, err := run.Wait(ctx)
		if err != nil || out != in+3 {
			t.Fatalf("flow %d = %d, %v; want %d", i, out, err, in+3)
		}
	}
	t.Logf("%d writes refused while full, %d retry warnings; %d flows finished", oom.n.Load()-before, warned.warnings.Load(), flows+1)
}

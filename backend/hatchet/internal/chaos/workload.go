package chaos

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/mageflow-go/mageflow/flow"
	"github.com/mageflow-go/mageflow/task"
)

// Tasks are the tasks of the workload. Each execution of a task appends a
// line to a Redis list (the execution log), before the task returns: the
// audit reads it to count how many times each record ran, and where.
type Tasks struct {
	// Step adds one, after up to StepWork of work.
	Step task.Task[int, int]
	// Item adds its bound argument, after up to ItemWork of work.
	Item task.Task[flow.Args[int, int], int]
	// Sum adds a swarm's outputs.
	Sum task.Task[[]int, int]
	// Boom fails for good.
	Boom task.Task[int, int]
	// Done is the success callback: it logs the flow's output.
	Done task.Task[int, int]
	// Failed is the error callback: it logs the failed flow's input.
	Failed task.Task[flow.Failure[int], int]
}

// Work bounds of the tasks: long enough that kills find tasks running.
const (
	StepWork = 60 * time.Millisecond
	ItemWork = 100 * time.Millisecond
)

// Task names.
const (
	NameStep   = "chaos-step"
	NameItem   = "chaos-item"
	NameSum    = "chaos-sum"
	NameBoom   = "chaos-boom"
	NameDone   = "chaos-done"
	NameFailed = "chaos-failed"
)

// retries lets a task ride out a store or log write that failed while
// Redis was down.
var retries = []task.Option{task.WithRetries(8), task.WithBackoff(200*time.Millisecond, 2*time.Second)}

// NewTasks returns the tasks, logging to the list logKey of rc as worker
// worker.
func NewTasks(rc goredis.UniversalClient, logKey, worker string) *Tasks {
	l := &execLog{rc: rc, key: logKey, worker: worker}
	return &Tasks{
		Step: task.New(NameStep, func(ctx context.Context, n int) (int, error) {
			if err := work(ctx, StepWork); err != nil {
				return 0, err
			}
			return n + 1, l.add(ctx, n+1)
		}, retries...),
		Item: task.New(NameItem, func(ctx context.Context, a flow.Args[int, int]) (int, error) {
			if err := work(ctx, ItemWork); err != nil {
				return 0, err
			}
			return a.In + a.Args, l.add(ctx, a.In+a.Args)
		}, retries...),
		Sum: task.New(NameSum, func(ctx context.Context, xs []int) (int, error) {
			s := 0
			for _, x := range xs {
				s += x
			}
			return s, l.add(ctx, s)
		}, retries...),
		Boom: task.New(NameBoom, func(ctx context.Context, n int) (int, error) {
			if err := l.add(ctx, n); err != nil {
				return 0, err
			}
			return 0, task.NonRetryable(fmt.Errorf("boom at %d", n))
		}, retries...),
		Done: task.New(NameDone, func(ctx context.Context, out int) (int, error) {
			return out, l.add(ctx, out)
		}, retries...),
		Failed: task.New(NameFailed, func(ctx context.Context, f flow.Failure[int]) (int, error) {
			return f.Input, l.add(ctx, f.Input)
		}, retries...),
	}
}

// All lists the tasks, to register.
func (t *Tasks) All() []task.Registrable {
	return []task.Registrable{t.Step, t.Item, t.Sum, t.Boom, t.Done, t.Failed}
}

// work takes up to max, at random, or until ctx ends.
func work(ctx context.Context, max time.Duration) error {
	tm := time.NewTimer(rand.N(max) + time.Millisecond)
	defer tm.Stop()
	select {
	case <-tm.C:
		return nil
	case <-ctx.Done():
		return ctx.Err()
	}
}

// execLog appends executions to a Redis list.
type execLog struct {
	rc     goredis.UniversalClient
	key    string
	worker string
}

// add logs the execution running with ctx, which produced value. An error
// fails the attempt: the task runs again.
func (l *execLog) add(ctx context.Context, value int) error {
	info, ok := task.Info(ctx)
	if !ok {
		return fmt.Errorf("chaos: task run without run info")
	}
	e := Exec{Task: info.Task, Record: info.Record, Root: info.Root, Attempt: info.Attempt, Worker: l.worker, Value: value}
	return l.rc.RPush(context.WithoutCancel(ctx), l.key, e.String()).Err()
}

// Exec is one logged execution of a task.
type Exec struct {
	Task, Record, Root string
	Attempt            int
	Worker             string
	Value              int
}

func (e Exec) String() string {
	return strings.Join([]string{e.Task, e.Record, e.Root, strconv.Itoa(e.Attempt), e.Worker, strconv.Itoa(e.Value)}, " ")
}

// ParseExec reads a line of the execution log.
func ParseExec(s string) (Exec, error) {
	f := strings.Fields(s)
	if len(f) != 6 {
		return Exec{}, fmt.Errorf("chaos: bad log line %q", s)
	}
	att, err1 := strconv.Atoi(f[3])
	v, err2 := strconv.Atoi(f[5])
	if err1 != nil || err2 != nil {
		return Exec{}, fmt.Errorf("chaos: bad log line %q", s)
	}
	return Exec{Task: f[0], Record: f[1], Root: f[2], Attempt: att, Worker: f[4], Value: v}, nil
}

// Order is the flow most scenarios run: three chain steps, then a swarm of
// items (at most three at once) summed, with a success callback. It is
// OrderOutput(in, items).
func (t *Tasks) Order(items int) flow.Flow[int, int] {
	sw := make([]flow.Flow[int, int], items)
	for i := range sw {
		sw[i] = flow.Bind(t.Item, i)
	}
	body := flow.Then(flow.Then(flow.Chain(t.Step, t.Step, t.Step), flow.Flow[int, []int](flow.Swarm(sw...).WithConfig(flow.SwarmConfig{MaxConcurrency: 3}))), flow.Flow[[]int, int](t.Sum))
	return flow.OnSuccess(body, flow.Flow[int, int](t.Done))
}

// OrderOutput is the output of Order(items) on input in.
func OrderOutput(in, items int) int {
	return items*(in+3) + items*(items-1)/2
}

// Doomed is a flow that fails at its third task, with an error callback.
func (t *Tasks) Doomed() flow.Flow[int, int] {
	body := flow.Then(flow.Chain(t.Step, t.Step), flow.Flow[int, int](t.Boom))
	return flow.OnError(body, flow.Flow[flow.Failure[int], int](t.Failed))
}

// Wide is a swarm of items, at most limit at once, summed, with a success
// callback. It is OrderOutput-like: WideOutput(in, items).
func (t *Tasks) Wide(items, limit int) flow.Flow[int, int] {
	sw := make([]flow.Flow[int, int], items)
	for i := range sw {
		sw[i] = flow.Bind(t.Item, i)
	}
	body := flow.Then(flow.Flow[int, []int](flow.Swarm(sw...).WithConfig(flow.SwarmConfig{MaxConcurrency: limit})), flow.Flow[[]int, int](t.Sum))
	return flow.OnSuccess(body, flow.Flow[int, int](t.Done))
}

// WideOutput is the output of Wide(items, _) on input in.
func WideOutput(in, items int) int {
	return items*in + items*(items-1)/2
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"os/signal"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/mageflow-go/mageflow"
	membackend "github.com/mageflow-go/mageflow/backend/memory"
	"github.com/mageflow-go/mageflow/flow"
	"github.com/mageflow-go/mageflow/internal/redistest"
	"github.com/mageflow-go/mageflow/sig"
	redisstore "github.com/mageflow-go/mageflow/storage/redis"
	"github.com/mageflow-go/mageflow/task"
)

// TestMain runs the command itself, instead of the tests, in a process
// started with $MAGEFLOW_TEST_COMMAND=1 (the tests of mageflow mcp, whose
// client starts the server as a process of its own).
func TestMain(m *testing.M) {
	if os.Getenv(commandEnv) == "1" {
		ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
		code := run(ctx, os.Args[1:], os.Stdout, os.Stderr)
		stop()
		os.Exit(code)
	}
	redistest.Main(m)
}

// commandEnv makes the test binary the command.
const commandEnv = "MAGEFLOW_TEST_COMMAND"

var (
	inc  = task.New("inc", func(ctx context.Context, n int) (int, error) { return n + 1, nil })
	boom = task.New("boom", func(ctx context.Context, n int) (int, error) {
		return 0, task.NonRetryable(errors.New("card declined"))
	})
	alert = task.New("alert", func(ctx context.Context, f flow.Failure[int]) (int, error) { return 0, nil })
	sum   = task.New("sum", func(ctx context.Context, a flow.Args[int, []int]) (int, error) { return a.Args, nil })
)

// env is a client whose flows the command reads: the memory backend and
// the Redis store under a prefix of the test's own.
type env struct {
	c      *mageflow.Client
	prefix string
	url    string   // of the Redis the command reads
	flags  []string // that the command needs to reach it (--cluster)
	rc     goredis.UniversalClient
}

func newEnv(t *testing.T, tasks ...task.Registrable) env {
	t.Helper()
	e := newClient(t, tasks...)
	stop, err := e.c.StartWorker(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stop(context.Background()) })
	return e
}

// newClient is newEnv without a worker.
func newClient(t *testing.T, tasks ...task.Registrable) env {
	t.Helper()
	return newClientOn(t, redistest.Client(t), redistest.URL(), tasks...)
}

// newClientOn is newClient on the Redis of rc, which the command reaches
// at url.
func newClientOn(t *testing.T, rc goredis.UniversalClient, url string, tasks ...task.Registrable) env {
	t.Helper()
	prefix := redistest.Prefix(t, rc)
	s, err := redisstore.New(rc, redisstore.WithPrefix(prefix))
	if err != nil {
		t.Fatal(err)
	}
	c, err := mageflow.New(membackend.New(), s)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Register(append(tasks, inc, boom, alert, sum)...); err != nil {
		t.Fatal(err)
	}
	var flags []string
	if _, ok := rc.(*goredis.ClusterClient); ok {
		flags = []string{"--cluster"}
	}
	return env{c: c, prefix: prefix, url: url, flags: flags, rc: rc}
}

// finished runs f with input 1 and waits until it and its callbacks ended.
func finished[Out any](t *testing.T, e env, f flow.Flow[int, Out]) string {
	t.Helper()
	id := started(t, e, f)
	e.mageflow(t, -1, "watch", "--interval", "5ms", id)
	return id
}

func started[Out any](t *testing.T, e env, f flow.Flow[int, Out]) string {
	t.Helper()
	// The store keeps creation times in milliseconds: start each flow in a
	// millisecond of its own, so that newest first is one order.
	for ms := time.Now().UnixMilli(); time.Now().UnixMilli() == ms; {
	}
	r, err := flow.Start(context.Background(), e.c, f, 1)
	if err != nil {
		t.Fatal(err)
	}
	return r.ID()
}

// mageflow runs the command on e's store and returns its output, failing
// t unless it exits with status want (-1: any).
func (e env) mageflow(t *testing.T, want int, args ...string) string {
	t.Helper()
	out, errs := e.output(t, want, args...)
	return out + errs
}

// output is mageflow with its standard output and standard error apart.
func (e env) output(t *testing.T, want int, args ...string) (stdout, stderr string) {
	t.Helper()
	var out, errs bytes.Buffer
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	code := run(ctx, append(append([]string{"--redis", e.url, "--prefix", e.prefix}, e.flags...), args...), &out, &errs)
	if want >= 0 && code != want {
		t.Fatalf("mageflow %s: exit status %d, want %d\nstdout:\n%s\nstderr:\n%s", strings.Join(args, " "), code, want, out.String(), errs.String())
	}
	return out.String(), errs.String()
}

// stable replaces what changes from run to run: flow ids, ages, times.
func stable(s string, ids ...string) string {
	for i, id := range ids {
		s = strings.ReplaceAll(s, id, "ID"+string(rune('A'+i)))
	}
	s = regexp.MustCompile(`ended \+[0-9.]+[µnm]?s`).ReplaceAllString(s, "ended +T")
	return regexp.MustCompile(`(?m) +[0-9]+[smhd]$`).ReplaceAllString(s, "  AGE")
}

// words joins the words of each line of s with single spaces.
func words(s string) string {
	var b strings.Builder
	for _, l := range strings.Split(strings.TrimRight(s, "\n"), "\n") {
		b.WriteString(strings.Join(strings.Fields(l), " "))
		b.WriteByte('\n')
	}
	return b.String()
}

func TestLsListsFlowsNewestFirst(t *testing.T) {
	e := newEnv(t)
	a := finished(t, e, flow.Chain[int](inc, inc, inc))
	b := finished(t, e, flow.OnError[int, []int](flow.Swarm[int, int](inc, boom, inc), alert))
	c := finished(t, e, flow.Chain[int](inc, boom, inc))

	// Columns are aligned on the real ids: compare the words of each line.
	got := words(stable(e.mageflow(t, 0, "ls"), a, b, c))
	want := `ID NAME KIND STATUS PROGRESS AGE
IDC chain chain failed 2/3 (1 failed) AGE
IDB swarm swarm done 3/3 (1 failed) AGE
IDA chain chain done 3/3 AGE
`
	if got != want {
		t.Errorf("ls:\n%s\nwant:\n%s", got, want)
	}
	if got := stable(e.mageflow(t, 0, "ls", "--status", "failed"), a, b, c); !strings.Contains(got, "IDC") || strings.Count(got, "\n") != 2 {
		t.Errorf("ls --status failed:\n%s", got)
	}
	var rows []struct {
		ID    string         `json:"id"`
		Done  int            `json:"done"`
		Error *sig.ErrorInfo `json:"error"`
	}
	js, _ := e.output(t, 0, "ls", "--json", "--limit", "2")
	if err := json.Unmarshal([]byte(js), &rows); err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0].ID != c || rows[0].Error == nil || rows[0].Error.Message != "card declined" || rows[1].Done != 3 {
		t.Errorf("ls --json --limit 2 = %+v", rows)
	}
	if out := e.mageflow(t, 2, "ls", "--status", "sleepy"); !strings.Contains(out, `unknown status "sleepy"`) {
		t.Errorf("ls with a bad status: %s", out)
	}
}

func TestShowDrawsTheTree(t *testing.T) {
	e := newEnv(t)
	id := finished(t, e, flow.OnError[int, int](flow.Then(flow.Swarm[int, int](inc, boom, inc).WithConfig(flow.SwarmConfig{StopAfterNFailures: 1, MaxConcurrency: 1}), flow.Bind(sum, 7)), alert))
	raw := e.mageflow(t, 0, "show", "--items", "2", id)
	t.Logf("mageflow show --items 2 %s:\n%s", id, raw)
	tree, expiry, _ := strings.Cut(strings.TrimSuffix(raw, "\n"), "\nexpires ")
	if !regexp.MustCompile(`^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ \(in [0-9hms]+\)$`).MatchString(expiry) {
		t.Errorf("show's last line: expires %q, want when the flow expires", expiry)
	}
	got := stable(tree+"\n", id)
	want := `chain IDA  failed  1/2 (1 failed)  ended +T  error: boom: swarm stopped at its limit of 1 failed items; last: card declined (attempts 1)
├─ 0  swarm  failed  2/3 (1 failed)  ended +T  error: boom: swarm stopped at its limit of 1 failed items; last: card declined (attempts 1)
│  ├─ 0  task inc  done  ended +T
│  ├─ 1  task boom  failed  ended +T  error: boom: card declined (attempts 1)
│  └─ ... 1 more
├─ 1  task sum  pending
└─ on error 0  task alert  done  ended +T
`
	if got != want {
		t.Errorf("show:\n%s\nwant:\n%s", got, want)
	}
}

func TestWatchUntilTheEnd(t *testing.T) {
	release := make(chan struct{})
	wait := task.New("wait", func(ctx context.Context, n int) (int, error) {
		<-release
		return n, nil
	})
	e := newEnv(t, wait)
	id := started(t, e, flow.Chain[int](inc, wait, inc))
	done := make(chan string, 1)
	go func() { done <- e.mageflow(t, 0, "watch", "--interval", "5ms", id) }()
	close(release)
	out := <-done
	if !strings.Contains(out, "chain") || !regexp.MustCompile(`\[#+\] 3/3 done  [0-9.]+m?s  [0-9.]+/s\n`).MatchString(out) || !strings.HasSuffix(out, "done: 3\n") {
		t.Errorf("watch of a flow that ends well:\n%s", out)
	}
	for _, l := range strings.Split(out, "\n") {
		if n := len([]rune(l)); n > 80 {
			t.Errorf("watch drew a line of %d columns, more than 80: %q", n, l)
		}
	}
	failed := finished(t, e, flow.Swarm[int, int](boom).WithConfig(flow.SwarmConfig{StopAfterNFailures: 1}))
	if out := e.mageflow(t, 1, "watch", failed); !strings.Contains(out, "failed: boom: swarm stopped") {
		t.Errorf("watch of a failed flow:\n%s", out)
	}
}

func TestLifecycle(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	wait := task.New("wait", func(ctx context.Context, n int) (int, error) {
		select {
		case <-release:
		case <-ctx.Done(): // interrupted or canceled
		}
		return n, ctx.Err()
	})
	e := newEnv(t, wait)
	id := started(t, e, flow.Chain[int](wait, inc))
	steps := []struct {
		args []string
		want string
	}{
		{[]string{"suspend", id}, "suspended " + id},
		{[]string{"show", id}, "unless resumed: a paused flow is not kept alive"},
		{[]string{"resume", id}, "resume " + id + ": active"},
		{[]string{"interrupt", id}, "interrupt " + id + ": interrupted"},
		{[]string{"resume", id}, "resume " + id + ": active"},
		{[]string{"cancel", id}, "cancel " + id + ": canceled"},
	}
	for _, st := range steps {
		if out := e.mageflow(t, 0, st.args...); !strings.Contains(out, st.want) {
			t.Errorf("mageflow %v: %q, want %q", st.args, out, st.want)
		}
	}
	if out := e.mageflow(t, 1, "resume", id); !strings.Contains(out, "already ended: flow "+id+" ended (canceled), nothing to resume") {
		t.Errorf("resume of a canceled flow: %s", out)
	}
	running := started(t, e, flow.Chain[int](wait, inc))
	if out := e.mageflow(t, 1, "resume", running); !strings.Contains(out, "is active, not suspended or interrupted") {
		t.Errorf("resume of a running flow: %s", out)
	}
	if out := e.mageflow(t, 2, "suspend", running+".0"); !strings.Contains(out, "not a flow id") {
		t.Errorf("suspend of a step: %s", out)
	}
	done := finished(t, e, inc)
	if out := e.mageflow(t, 1, "suspend", done); !strings.Contains(out, "already ended: flow "+done+" ended (done)") {
		t.Errorf("suspend of an ended flow: %s", out)
	}
	// Without a worker the request expires: a worker that starts later
	// never applies it.
	idle := newClient(t)
	stale, err := flow.Sign(context.Background(), idle.c, flow.Chain[int](inc, inc))
	if err != nil {
		t.Fatal(err)
	}
	if out := idle.mageflow(t, 1, "cancel", "--wait", "50ms", stale.ID()); !strings.Contains(out, "never applies it") {
		t.Errorf("cancel with no worker: %s", out)
	}
	stop, err := idle.c.StartWorker(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = stop(context.Background()) }()
	fresh, err := flow.Sign(context.Background(), idle.c, flow.Chain[int](inc, inc))
	if err != nil {
		t.Fatal(err)
	}
	// requests are taken in order: once this one is applied, the stale
	// one was taken before it
	if out := idle.mageflow(t, 0, "cancel", fresh.ID()); !strings.Contains(out, "canceled") {
		t.Errorf("cancel with a worker: %s", out)
	}
	if out := idle.mageflow(t, 0, "show", stale.ID()); strings.Contains(out, "canceled") {
		t.Errorf("the expired cancel was applied later:\n%s", out)
	}
}

func TestUsage(t *testing.T) {
	e := newEnv(t)
	for _, args := range [][]string{{"frobnicate"}, {"show"}, {"show", "a", "b"}, {"ls", "extra"}} {
		if out := e.mageflow(t, 2, args...); out == "" {
			t.Errorf("mageflow %v printed nothing", args)
		}
	}
}

// retry runs a failed flow again through a worker, from where it failed,
// and refuses what it cannot retry.
func TestRetry(t *testing.T) {
	var down atomic.Bool
	down.Store(true)
	var firsts atomic.Int32
	first := task.New("first", func(ctx context.Context, n int) (int, error) { firsts.Add(1); return n + 1, nil })
	upload := task.New("upload", func(ctx context.Context, n int) (int, error) {
		if down.Load() {
			return 0, task.NonRetryable(errors.New("provider down"))
		}
		return n * 10, nil
	})
	e := newEnv(t, first, upload)
	id := finished(t, e, flow.Then(first, upload))
	down.Store(false)
	if out := e.mageflow(t, 0, "retry", id); !strings.Contains(out, "retry "+id+": ") {
		t.Errorf("retry of a failed flow: %s", out)
	}
	r, err := flow.Attach[int](e.c, id)
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if out, err := r.Wait(ctx); err != nil || out != 20 {
		t.Fatalf("after retry: %d, %v; want 20", out, err)
	}
	if n := firsts.Load(); n != 1 {
		t.Errorf("the step that succeeded ran %d times, want once", n)
	}
	e.mageflow(t, -1, "watch", "--interval", "5ms", id)
	if out := e.mageflow(t, 1, "retry", "--wait", "200ms", id); !strings.Contains(out, "nothing in the flow failed") {
		t.Errorf("retry of a flow that ended done: %s", out)
	}
	canceled, err := flow.Sign(ctx, e.c, flow.Then(first, upload))
	if err != nil {
		t.Fatal(err)
	}
	if err := canceled.Cancel(ctx); err != nil {
		t.Fatal(err)
	}
	if out := e.mageflow(t, 1, "retry", canceled.ID()); !strings.Contains(out, "it was canceled, nothing to retry") {
		t.Errorf("retry of a canceled flow: %s", out)
	}
}

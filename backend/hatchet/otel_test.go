package hatchet_test

import (
	"bufio"
	"context"
	"encoding/json"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	v0client "github.com/hatchet-dev/hatchet/pkg/client"
	goredis "github.com/redis/go-redis/v9"
	sdktrace "go.opentelemetry.io/otel/sdk/trace"
	"go.opentelemetry.io/otel/sdk/trace/tracetest"

	"github.com/mageflow-go/mageflow"
	hatchetbackend "github.com/mageflow-go/mageflow/backend/hatchet"
	"github.com/mageflow-go/mageflow/backend/hatchet/internal/hatchettest"
	"github.com/mageflow-go/mageflow/flow"
	"github.com/mageflow-go/mageflow/internal/redistest"
	otelmageflow "github.com/mageflow-go/mageflow/otel"
	redisstore "github.com/mageflow-go/mageflow/storage/redis"
	"github.com/mageflow-go/mageflow/task"
)

// The tasks of the traced flow: each runs in a worker process of its
// own.
var (
	tracedFirst  = task.New("traced-first", func(ctx context.Context, n int) (int, error) { return n + 1, nil })
	tracedSecond = task.New("traced-second", func(ctx context.Context, n int) (int, error) { return n * 10, nil })
)

// span is what a process writes of a span it ended.
type span struct {
	Trace, ID, Parent, Name, Record string
	PID                             int
}

// fileExporter writes the spans it is given to a file, one JSON object a
// line.
type fileExporter struct {
	mu sync.Mutex
	f  *os.File
}

func (e *fileExporter) ExportSpans(ctx context.Context, spans []sdktrace.ReadOnlySpan) error {
	e.mu.Lock()
	defer e.mu.Unlock()
	for _, s := range spans {
		rec := ""
		for _, a := range s.Attributes() {
			if a.Key == otelmageflow.AttrRecord {
				rec = a.Value.AsString()
			}
		}
		b, _ := json.Marshal(span{Trace: s.SpanContext().TraceID().String(), ID: s.SpanContext().SpanID().String(),
			Parent: s.Parent().SpanID().String(), Name: s.Name(), Record: rec, PID: os.Getpid()})
		if _, err := e.f.Write(append(b, '\n')); err != nil {
			return err
		}
	}
	return nil
}

func (e *fileExporter) Shutdown(context.Context) error { return e.f.Sync() }

// tracedWorker is the worker process of TestATraceAcrossProcesses
// (MAGEFLOW_TRACED_WORKER names its task): it runs the task with the
// OpenTelemetry middleware, writing its spans to MAGEFLOW_TRACED_SPANS,
// until its standard input closes.
func tracedWorker() {
	fail := func(err error) {
		fmt.Fprintln(os.Stderr, "traced worker:", err)
		os.Exit(1)
	}
	f, err := os.OpenFile(os.Getenv("MAGEFLOW_TRACED_SPANS"), os.O_CREATE|os.O_WRONLY|os.O_APPEND, 0o644)
	if err != nil {
		fail(err)
	}
	tp := sdktrace.NewTracerProvider(sdktrace.WithSyncer(&fileExporter{f: f}))
	hc, err := hatchetbackend.NewClient(v0client.WithNamespace(os.Getenv("MAGEFLOW_TRACED_NS")))
	if err != nil {
		fail(err)
	}
	b, err := hatchetbackend.New(hc, hatchetbackend.WithNamespace(os.Getenv("MAGEFLOW_TRACED_NS")), hatchetbackend.WithWorkerName("traced-"+os.Getenv("MAGEFLOW_TRACED_WORKER")))
	if err != nil {
		fail(err)
	}
	opt, err := goredis.ParseURL(os.Getenv("MAGEFLOW_TRACED_REDIS"))
	if err != nil {
		fail(err)
	}
	store, err := redisstore.New(goredis.NewClient(opt), redisstore.WithPrefix(os.Getenv("MAGEFLOW_TRACED_PREFIX")))
	if err != nil {
		fail(err)
	}
	c, err := mageflow.New(b, store, mageflow.WithMiddleware(otelmageflow.New(otelmageflow.WithTracerProvider(tp))))
	if err != nil {
		fail(err)
	}
	t := map[string]task.Registrable{"first": tracedFirst, "second": tracedSecond}[os.Getenv("MAGEFLOW_TRACED_WORKER")]
	if err := c.Register(t); err != nil {
		fail(err)
	}
	ctx := context.Background()
	stop, err := c.StartWorker(ctx)
	if err != nil {
		fail(err)
	}
	fmt.Println("ready")
	_, _ = bufio.NewReader(os.Stdin).ReadString('\n') // until the test closes it
	_ = stop(ctx)
	_ = tp.Shutdown(ctx)
	os.Exit(0)
}

// A flow's trace spans the processes that run its tasks, on a real
// Hatchet engine: the start in this process, its first step in a worker
// process, its second in another, each a child of the one before, in one
// trace carried by the dispatches' run metadata.
func TestATraceAcrossProcesses(t *testing.T) {
	if testing.Short() {
		t.Skip("starts worker processes on a local engine")
	}
	dev := hatchettest.Engine(t)
	rc := redistest.Client(t)
	prefix := redistest.Prefix(t, rc)
	ns := "traced" + strconv.FormatInt(time.Now().UnixNano(), 36)
	spansFile := filepath.Join(t.TempDir(), "spans.jsonl")
	for _, w := range []string{"first", "second"} {
		cmd := exec.Command(os.Args[0], "-test.run=^$")
		cmd.Env = append(append(os.Environ(), dev.Env()...), "MAGEFLOW_TRACED_WORKER="+w, "MAGEFLOW_TRACED_SPANS="+spansFile,
			"MAGEFLOW_TRACED_NS="+ns, "MAGEFLOW_TRACED_REDIS="+redistest.URL(), "MAGEFLOW_TRACED_PREFIX="+prefix, "HATCHET_CLIENT_LOG_LEVEL=error")
		stdin, err := cmd.StdinPipe()
		if err != nil {
			t.Fatal(err)
		}
		out, err := cmd.StdoutPipe()
		if err != nil {
			t.Fatal(err)
		}
		cmd.Stderr = os.Stderr
		if err := cmd.Start(); err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() {
			stdin.Close() // the worker stops and exits
			_ = cmd.Wait()
		})
		line, err := bufio.NewReader(out).ReadString('\n')
		if err != nil || line != "ready\n" {
			t.Fatalf("worker %s: %q, %v", w, line, err)
		}
	}

	recorder := tracetest.NewSpanRecorder()
	tp := sdktrace.NewTracerProvider(sdktrace.WithSpanProcessor(recorder))
	envMu.Lock()
	setEnv(dev)
	hc, err := hatchetbackend.NewClient(v0client.WithNamespace(ns))
	envMu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	b, err := hatchetbackend.New(hc, hatchetbackend.WithNamespace(ns))
	if err != nil {
		t.Fatal(err)
	}
	store, err := redisstore.New(rc, redisstore.WithPrefix(prefix))
	if err != nil {
		t.Fatal(err)
	}
	c, err := mageflow.New(b, store, mageflow.WithMiddleware(otelmageflow.New(otelmageflow.WithTracerProvider(tp))))
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Register(tracedFirst, tracedSecond); err != nil { // this process only starts
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
	defer cancel()
	run, err := flow.Start(ctx, c, flow.Then(tracedFirst, tracedSecond), 1)
	if err != nil {
		t.Fatal(err)
	}
	if out, err := run.Wait(ctx); err != nil || out != 20 {
		t.Fatalf("Wait = %d, %v; want 20", out, err)
	}
	var start sdktrace.ReadOnlySpan
	for _, s := range recorder.Ended() {
		if strings.HasPrefix(s.Name(), otelmageflow.OpStart+" ") {
			start = s
		}
	}
	if start == nil {
		t.Fatal("no start span in this process")
	}

	// the workers write their spans as they end; they ended before the
	// flow did
	spans := map[string]span{} // by record
	f, err := os.Open(spansFile)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		var s span
		if err := json.Unmarshal(sc.Bytes(), &s); err != nil {
			t.Fatal(err)
		}
		spans[s.Record] = s
	}
	first, second := spans[run.ID()+".0"], spans[run.ID()+".1"]
	trace, startID := start.SpanContext().TraceID().String(), start.SpanContext().SpanID().String()
	switch {
	case first.ID == "" || second.ID == "":
		t.Fatalf("the workers' spans: %v", spans)
	case first.Trace != trace || second.Trace != trace:
		t.Errorf("traces: start %s, first %s, second %s; want one", trace, first.Trace, second.Trace)
	case first.Parent != startID || second.Parent != first.ID:
		t.Errorf("parents: first's %s (start %s), second's %s (first %s)", first.Parent, startID, second.Parent, first.ID)
	case first.PID == second.PID || first.PID == os.Getpid():
		t.Errorf("processes: first %d, second %d, test %d; want three", first.PID, second.PID, os.Getpid())
	}
}

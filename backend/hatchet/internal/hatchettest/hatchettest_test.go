package hatchettest_test

import (
	"context"
	"net"
	"os"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/rs/zerolog"

	hatchet "github.com/hatchet-dev/hatchet/sdks/go"

	"github.com/mageflow-go/mageflow/backend/hatchet/internal/hatchettest"
)

func TestMain(m *testing.M) {
	hatchettest.Main(m)
}

// settingKeys are the settings hatchet-dev prints.
var settingKeys = []string{
	"HATCHET_CLIENT_TOKEN",
	"HATCHET_CLIENT_HOST_PORT",
	"HATCHET_CLIENT_SERVER_URL",
	"HATCHET_CLIENT_TLS_STRATEGY",
	"HATCHET_CLIENT_TENANT_ID",
	"MAGEFLOW_HATCHET_DATABASE",
}

// TestSettings checks that the engine printed every setting and that its
// gRPC port accepts connections.
func TestSettings(t *testing.T) {
	checkSettings(t, hatchettest.Engine(t))
}

// TestEndToEnd runs a task through the engine with a client configured by
// the settings only, from this process.
func TestEndToEnd(t *testing.T) {
	runTask(t, hatchettest.Engine(t), "hatchettest-e2e")
}

// TestRestart restarts the engine on its database, gracefully and after a
// SIGKILL, and checks that the new settings work.
func TestRestart(t *testing.T) {
	d := hatchettest.Engine(t)
	db := d.Settings["MAGEFLOW_HATCHET_DATABASE"]
	for _, c := range []struct {
		name    string
		restart func(testing.TB)
	}{{"graceful", d.Restart}, {"crash", d.Crash}} {
		start := time.Now()
		c.restart(t)
		t.Logf("%s restart took %s", c.name, time.Since(start).Round(time.Millisecond))
		checkSettings(t, d)
		if got := d.Settings["MAGEFLOW_HATCHET_DATABASE"]; got != db {
			t.Errorf("database after %s restart = %q, want %q", c.name, got, db)
		}
		runTask(t, d, "hatchettest-e2e-"+c.name)
	}
}

func checkSettings(t *testing.T, d *hatchettest.Dev) {
	t.Helper()
	for _, k := range settingKeys {
		if d.Settings[k] == "" {
			t.Errorf("setting %s is missing", k)
		}
	}
	if got := d.Settings["HATCHET_CLIENT_TLS_STRATEGY"]; got != "none" {
		t.Errorf("HATCHET_CLIENT_TLS_STRATEGY = %q, want none", got)
	}
	env := d.Env()
	if len(env) != len(d.Settings) || !slices.Contains(env, "HATCHET_CLIENT_TLS_STRATEGY=none") {
		t.Errorf("Env() = %d entries without HATCHET_CLIENT_TLS_STRATEGY=none", len(env))
	}
	addr := d.Settings["HATCHET_CLIENT_HOST_PORT"]
	conn, err := net.DialTimeout("tcp", addr, 5*time.Second)
	if err != nil {
		t.Fatalf("gRPC port %s: %v", addr, err)
	}
	_ = conn.Close()
}

type message struct {
	Text string `json:"text"`
}

// runTask registers a task called name, starts a worker for it, runs it once
// and checks its result; the worker is stopped before it returns.
func runTask(t *testing.T, d *hatchettest.Dev, name string) {
	t.Helper()
	for k, v := range d.Settings {
		t.Setenv(k, v)
	}
	t.Setenv("HATCHET_CLIENT_LOG_LEVEL", "warn")
	t.Setenv("HATCHET_CLIENT_NAMESPACE", "")

	c, err := hatchet.NewClient()
	if err != nil {
		t.Fatalf("NewClient: %v", err)
	}
	task := c.NewStandaloneTask(name, func(_ hatchet.Context, in message) (message, error) {
		return message{Text: strings.ToUpper(in.Text)}, nil
	})
	quiet := zerolog.New(os.Stderr).Level(zerolog.WarnLevel)
	w, err := c.NewWorker(name, hatchet.WithWorkflows(task), hatchet.WithSlots(1), hatchet.WithLogger(&quiet))
	if err != nil {
		t.Fatalf("NewWorker: %v", err)
	}
	stop, err := w.Start()
	if err != nil {
		t.Fatalf("worker Start: %v", err)
	}
	defer func() {
		if err := stop(); err != nil {
			t.Errorf("worker stop: %v", err)
		}
	}()

	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	start := time.Now()
	ref, err := task.RunNoWait(ctx, message{Text: "hello"})
	if err != nil {
		t.Fatalf("RunNoWait: %v", err)
	}
	type result struct {
		res *hatchet.WorkflowResult
		err error
	}
	results := make(chan result, 1)
	go func() { // Result ignores contexts
		res, err := ref.Result()
		results <- result{res, err}
	}()
	select {
	case <-ctx.Done():
		t.Fatalf("run %s: no result within 30 s", ref.RunId)
	case r := <-results:
		if r.err != nil {
			t.Fatalf("Result: %v", r.err)
		}
		var out message
		if err := r.res.TaskOutput(name).Into(&out); err != nil {
			t.Fatalf("Into: %v", err)
		}
		if out.Text != "HELLO" {
			t.Errorf("output = %q, want HELLO", out.Text)
		}
	}
	t.Logf("run %s took %s", name, time.Since(start).Round(time.Millisecond))
}

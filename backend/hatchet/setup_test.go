package hatchet_test

import (
	"crypto/rand"
	"encoding/hex"
	"os"
	"sync"
	"testing"
	"time"

	v0client "github.com/hatchet-dev/hatchet/pkg/client"

	"github.com/mageflow-go/mageflow"
	"github.com/mageflow-go/mageflow/backend"
	"github.com/mageflow-go/mageflow/backend/backendtest"
	hatchetbackend "github.com/mageflow-go/mageflow/backend/hatchet"
	"github.com/mageflow-go/mageflow/backend/hatchet/internal/hatchettest"
	"github.com/mageflow-go/mageflow/flowsuite"
	"github.com/mageflow-go/mageflow/internal/teststore"
	"github.com/mageflow-go/mageflow/task"
)

func TestMain(m *testing.M) {
	if os.Getenv("MAGEFLOW_TRACED_WORKER") != "" {
		tracedWorker() // a worker process of TestATraceAcrossProcesses
	}
	hatchettest.Main(m)
}

// envMu guards the process environment the SDK reads its settings from.
var envMu sync.Mutex

// newBackend returns a backend on the local engine, in a namespace of its
// own so that tests do not run each other's tasks.
func newBackend(t testing.TB) *hatchetbackend.Backend {
	t.Helper()
	return newBackendWith(t)
}

// setEnv puts the engine's settings where the SDK reads them. envMu is
// held.
func setEnv(dev *hatchettest.Dev) {
	for k, v := range dev.Settings {
		os.Setenv(k, v)
	}
	os.Setenv("HATCHET_CLIENT_LOG_LEVEL", "error")
}

// newBackendWith is newBackend with options.
func newBackendWith(t testing.TB, opts ...hatchetbackend.Option) *hatchetbackend.Backend {
	t.Helper()
	dev := hatchettest.Engine(t)
	var b [6]byte
	_, _ = rand.Read(b[:])
	ns := "t" + hex.EncodeToString(b[:])
	envMu.Lock()
	setEnv(dev)
	c, err := hatchetbackend.NewClient(v0client.WithNamespace(ns))
	envMu.Unlock()
	if err != nil {
		t.Fatal(err)
	}
	opts = append([]hatchetbackend.Option{hatchetbackend.WithNamespace(ns), hatchetbackend.WithWorkerName("test-" + ns)}, opts...)
	be, err := hatchetbackend.New(c, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return be
}

// TestConformance runs the backend suite against a real Hatchet engine.
func TestConformance(t *testing.T) {
	backendtest.Run(t, func(t *testing.T) backend.Backend { return newBackend(t) })
}

// TestFlows runs the flow-level suite on Hatchet with the Redis store.
func TestFlows(t *testing.T) {
	flowsuite.Run(t, flowsuite.Harness{
		Wait: time.Minute,
		New: func(t *testing.T, opts []mageflow.Option, tasks ...task.Registrable) flowsuite.Env {
			return flowsuite.NewEnv(t, newBackend(t), teststore.Redis(t), opts, tasks...)
		},
		Faulty: func(t *testing.T, opts []mageflow.Option, f flowsuite.Faults, tasks ...task.Registrable) flowsuite.Env {
			return flowsuite.NewFaultyEnv(t, newBackend(t), teststore.Redis(t), opts, f, tasks...)
		},
	})
}

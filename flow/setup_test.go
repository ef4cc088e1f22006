package flow_test

import (
	"context"
	"testing"
	"time"

	"github.com/mageflow-go/mageflow"
	membackend "github.com/mageflow-go/mageflow/backend/memory"
	"github.com/mageflow-go/mageflow/flowsuite"
	"github.com/mageflow-go/mageflow/internal/redistest"
	"github.com/mageflow-go/mageflow/internal/teststore"
	"github.com/mageflow-go/mageflow/task"
)

// TestMain stops the local Redis Cluster some runs start.
func TestMain(m *testing.M) { redistest.Main(m) }

// TestFlows runs the flow-level suite on the memory backend, with the
// store MAGEFLOW_TEST_STORE names.
func TestFlows(t *testing.T) {
	flowsuite.Run(t, flowsuite.Harness{
		New: func(t *testing.T, opts []mageflow.Option, tasks ...task.Registrable) flowsuite.Env {
			return setupWith(t, opts, tasks...).Env
		},
		Faulty: func(t *testing.T, opts []mageflow.Option, f flowsuite.Faults, tasks ...task.Registrable) flowsuite.Env {
			return flowsuite.NewFaultyEnv(t, membackend.New(), teststore.New(t), opts, f, tasks...)
		},
	})
}

// env is a flowsuite.Env on the memory backend, which tests here reach
// for fault injection.
type env struct {
	flowsuite.Env
	backend *membackend.Backend
	store   teststore.Store
}

// setup returns a client that executes tasks, stopped at the end of t.
func setup(t *testing.T, tasks ...task.Registrable) env {
	t.Helper()
	return setupWith(t, nil, tasks...)
}

func setupWith(t *testing.T, opts []mageflow.Option, tasks ...task.Registrable) env {
	t.Helper()
	b := membackend.New()
	s := teststore.New(t)
	return env{Env: flowsuite.NewEnv(t, b, s, opts, tasks...), backend: b, store: s}
}

// testCtx is a context bounded well within the test's time.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	t.Cleanup(cancel)
	return ctx
}

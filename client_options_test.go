package mageflow_test

import (
	"strings"
	"testing"

	"github.com/mageflow-go/mageflow"
	membackend "github.com/mageflow-go/mageflow/backend/memory"
	memstore "github.com/mageflow-go/mageflow/storage/memory"
)

// A nil logger means nothing is logged, as in every package's WithLogger.
func TestWithLoggerNilLogsNothing(t *testing.T) {
	if _, err := mageflow.New(membackend.New(membackend.WithLogger(nil)), memstore.New(), mageflow.WithLogger(nil)); err != nil {
		t.Fatalf("New with nil loggers: %v", err)
	}
}

// WithMiddleware refuses a nil middleware.
func TestWithMiddlewareRefusesNil(t *testing.T) {
	if _, err := mageflow.New(membackend.New(), memstore.New(), mageflow.WithMiddleware(nil)); err == nil || !strings.Contains(err.Error(), "middleware 0 is nil") {
		t.Errorf("WithMiddleware(nil): %v, want an error naming it", err)
	}
}

package mageflow_test

import (
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

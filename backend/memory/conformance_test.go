package memory_test

import (
	"log/slog"
	"testing"

	"github.com/mageflow-go/mageflow/backend"
	"github.com/mageflow-go/mageflow/backend/backendtest"
	"github.com/mageflow-go/mageflow/backend/memory"
)

func TestConformance(t *testing.T) {
	t.Parallel()
	backendtest.Run(t, func(t *testing.T) backend.Backend {
		return memory.New(memory.WithLogger(slog.New(slog.DiscardHandler)))
	})
}

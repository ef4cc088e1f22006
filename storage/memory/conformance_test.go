package memory_test

import (
	"testing"

	"github.com/mageflow-go/mageflow/storage"
	"github.com/mageflow-go/mageflow/storage/memory"
	"github.com/mageflow-go/mageflow/storage/storagetest"
)

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Store { return memory.New() })
}

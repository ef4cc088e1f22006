package redis

import (
	"context"
	"errors"
	"testing"

	"github.com/mageflow-go/mageflow/internal/redistest"
	"github.com/mageflow-go/mageflow/storage"
	"github.com/mageflow-go/mageflow/storage/storagetest"
)

// TestConformanceScripts runs the conformance suite with the operations
// called as scripts, as on a server without functions (Redis before 7).
func TestConformanceScripts(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Store {
		c := redistest.Client(t)
		s, err := New(c, WithPrefix(redistest.Prefix(t, c)))
		if err != nil {
			t.Fatal(err)
		}
		s.calls.Store(viaScripts)
		return s
	})
}

// A server that lost the library (restarted without persistence, or a
// new shard) gets it again on the next call.
func TestLibraryReloadedWhenMissing(t *testing.T) {
	c := redistest.Client(t)
	s, err := New(c, WithPrefix(redistest.Prefix(t, c)))
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	if _, err := s.Claim(ctx, "01M8AVWP3GWCX7WKK9VQXSBDYQ", "run"); err == nil {
		t.Fatal("Claim of a missing graph succeeded")
	}
	if err := c.FunctionDelete(ctx, s.lua.name).Err(); err != nil {
		t.Fatalf("FUNCTION DELETE: %v", err)
	}
	if _, err := s.Claim(ctx, "01M8AVWP3GWCX7WKK9VQXSBDYQ", "run"); err == nil || !isNotFound(err) {
		t.Fatalf("Claim after the library was deleted = %v; want not found", err)
	}
	if s.calls.Load() != viaFunctions {
		t.Error("the store fell back to scripts on a server with functions")
	}
}

func isNotFound(err error) bool { return errors.Is(err, storage.ErrNotFound) }

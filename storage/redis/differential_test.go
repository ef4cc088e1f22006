package redis_test

import (
	"strconv"
	"testing"
	"time"

	"pgregory.net/rapid"

	"github.com/mageflow-go/mageflow/internal/redistest"
	"github.com/mageflow-go/mageflow/storage"
	memstore "github.com/mageflow-go/mageflow/storage/memory"
	redisstore "github.com/mageflow-go/mageflow/storage/redis"
	"github.com/mageflow-go/mageflow/storage/storagetest"
)

// TestDifferentialWithMemory runs random operations on the memory store
// and on Redis, the same on both, and compares every answer and record
// after each: the Go rules and their Lua twin agree operation by
// operation, order of iteration included.
func TestDifferentialWithMemory(t *testing.T) {
	c := redistest.Client(t)
	prefix := redistest.Prefix(t, c)
	n := 0
	storagetest.Differential(t, func(rt *rapid.T, now func() time.Time) (storage.Store, storage.Store) {
		n++
		r, err := redisstore.New(c, redisstore.WithPrefix(prefix+":"+strconv.Itoa(n)), redisstore.WithClock(now))
		if err != nil {
			rt.Fatal(err)
		}
		return memstore.New(memstore.WithClock(now)), r
	})
}

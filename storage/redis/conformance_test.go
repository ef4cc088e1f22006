package redis_test

import (
	"testing"

	"github.com/mageflow-go/mageflow/internal/redistest"
	"github.com/mageflow-go/mageflow/storage"
	redisstore "github.com/mageflow-go/mageflow/storage/redis"
	"github.com/mageflow-go/mageflow/storage/storagetest"
)

func TestMain(m *testing.M) { redistest.Main(m) }

func TestConformance(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Store {
		c := redistest.Client(t)
		s, err := redisstore.New(c, redisstore.WithPrefix(redistest.Prefix(t, c)))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

func TestConformanceCluster(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Store {
		c := redistest.Cluster(t)
		s, err := redisstore.New(c, redisstore.WithPrefix(redistest.Prefix(t, c)))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

// TestConformanceWithoutFunctions runs the conformance suite on a server
// without functions or sharded pub/sub, as Redis before 7 is: a Redis of
// the test's own with those commands renamed away.
func TestConformanceWithoutFunctions(t *testing.T) {
	storagetest.Run(t, func(t *testing.T) storage.Store {
		c := redistest.Legacy(t)
		s, err := redisstore.New(c, redisstore.WithPrefix(redistest.Prefix(t, c)))
		if err != nil {
			t.Fatal(err)
		}
		return s
	})
}

package hatchet_test

import (
	goredis "github.com/redis/go-redis/v9"

	"github.com/mageflow-go/mageflow"
	hatchetbackend "github.com/mageflow-go/mageflow/backend/hatchet"
	redisstore "github.com/mageflow-go/mageflow/storage/redis"
)

// The package doc's wiring: a client over Hatchet and the Redis store. It
// compiles with the test; it needs an engine and a Redis to run.
func Example() {
	rc := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:6379"})
	hc, err := hatchetbackend.NewClient() // HATCHET_CLIENT_* from the environment
	if err != nil {
		panic(err)
	}
	b, err := hatchetbackend.New(hc, hatchetbackend.WithWorkerName("orders"))
	if err != nil {
		panic(err)
	}
	store, err := redisstore.New(rc)
	if err != nil {
		panic(err)
	}
	c, err := mageflow.New(b, store)
	if err != nil {
		panic(err)
	}
	_ = c
}

package proptest

import (
	"context"
	"flag"
	"os"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"pgregory.net/rapid"

	"github.com/mageflow-go/mageflow/internal/engine"
	"github.com/mageflow-go/mageflow/internal/redistest"
	redisstore "github.com/mageflow-go/mageflow/storage/redis"
)

// defaultChecks is how many graphs each property runs on each store
// (memory, then Redis) unless -rapid.checks (or RAPID_CHECKS) says
// otherwise.
const defaultChecks = 400

var (
	checksOnce sync.Once
	baseChecks int
)

// checks returns how many graphs a property runs on a store.
func checks() int {
	checksOnce.Do(func() {
		baseChecks = defaultChecks
		if _, env := os.LookupEnv("RAPID_CHECKS"); env {
			baseChecks, _ = strconv.Atoi(flag.Lookup("rapid.checks").Value.String())
		}
		flag.Visit(func(f *flag.Flag) {
			if f.Name == "rapid.checks" {
				baseChecks, _ = strconv.Atoi(f.Value.String())
			}
		})
	})
	return baseChecks
}

// withChecks runs fn with rapid's number of checks set to n. The tests of
// this package do not run in parallel, so setting the flag is safe.
func withChecks(t *testing.T, n int, fn func()) {
	t.Helper()
	f := flag.Lookup("rapid.checks")
	old := f.Value.String()
	if err := flag.Set("rapid.checks", strconv.Itoa(n)); err != nil {
		t.Fatal(err)
	}
	defer func() { _ = flag.Set("rapid.checks", old) }()
	fn()
}

// redisTarget returns a target over the Redis of the tests (skipping or
// failing as redistest says when there is none), under a prefix of t's.
func redisTarget(t *testing.T) Target {
	t.Helper()
	c := redistest.Client(t)
	prefix := redistest.Prefix(t, c)
	s, err := redisstore.New(c, redisstore.WithPrefix(prefix))
	if err != nil {
		t.Fatal(err)
	}
	return Target{Name: "redis", Store: s, KeyTTLs: func(ctx context.Context, root string) (map[string]time.Duration, error) {
		return keyTTLs(ctx, c, s.Key(root))
	}}
}

// keyTTLs returns the TTL of key and of every key that starts with it.
func keyTTLs(ctx context.Context, c goredis.UniversalClient, key string) (map[string]time.Duration, error) {
	out := map[string]time.Duration{}
	pattern := strings.NewReplacer("*", `\*`, "?", `\?`, "[", `\[`, "]", `\]`).Replace(key) + "*"
	iter := c.Scan(ctx, 0, pattern, 100).Iterator()
	for iter.Next(ctx) {
		d, err := c.PTTL(ctx, iter.Val()).Result()
		if err != nil {
			return nil, err
		}
		out[iter.Val()] = d
	}
	return out, iter.Err()
}

// property checks the named properties of generated cases (with faults
// or not), on the memory store and, when there is one, on Redis.
func property(t *testing.T, faults bool, names ...string) {
	var cs []Check
	for _, c := range Checks {
		for _, n := range names {
			if c.Name == n {
				cs = append(cs, c.Check)
			}
		}
	}
	if len(cs) != len(names) {
		t.Fatalf("unknown property among %v", names)
	}
	for _, store := range []string{"memory", "redis"} {
		t.Run(store, func(t *testing.T) {
			target := MemoryTarget()
			if store == "redis" {
				target = redisTarget(t)
			}
			withChecks(t, checks(), func() {
				rapid.Check(t, func(rt *rapid.T) {
					c := Cases(faults).Draw(rt, "case")
					p := PlanOf(c.Graph)
					e := Reference(p, c.Input, c.Retried())
					ctx, cancel := context.WithTimeout(context.Background(), 3*Wait)
					defer cancel()
					r, err := Execute(ctx, target, c)
					if err != nil {
						rt.Logf("%s", Report(c, p, e, r))
						rt.Fatalf("%s: %v", target.Name, err)
					}
					var problems []string
					for _, check := range cs {
						problems = append(problems, check(p, e, r)...)
					}
					if len(problems) > 0 {
						rt.Logf("%s", Report(c, p, e, r))
						rt.Fatalf("%s: %s", target.Name, strings.Join(problems, "\n"))
					}
				})
			})
		})
	}
}

// TestOutputMatchesReference: property 1, a run's output or failure is
// the reference interpreter's.
func TestOutputMatchesReference(t *testing.T) { property(t, false, "output") }

// TestCallbacksFireOnceOrNever: property 2, every callback runs exactly
// once or never, as the reference says, with the input it says.
func TestCallbacksFireOnceOrNever(t *testing.T) { property(t, false, "callbacks") }

// TestNothingRunsAfterItsContainerFailed: property 3, records are entered
// and tasks run exactly as the reference says; nothing after a failed
// chain step, no swarm item after the swarm's failure.
func TestNothingRunsAfterItsContainerFailed(t *testing.T) { property(t, false, "runs") }

// TestSwarmCapHolds: property 4, no swarm runs more items at once than
// its MaxConcurrency.
func TestSwarmCapHolds(t *testing.T) { property(t, false, "cap") }

// TestEndedGraphIsTerminalWithTTL: property 5, a finished graph has every
// entered record terminal, nothing owed, and its done TTL.
func TestEndedGraphIsTerminalWithTTL(t *testing.T) { property(t, false, "ended") }

// TestPropertiesHoldUnderFaults: property 6, all of the above with
// duplicate deliveries, redeliveries, crashes between complete and
// dispatch, and failed first attempts injected.
func TestPropertiesHoldUnderFaults(t *testing.T) {
	property(t, true, "output", "callbacks", "runs", "cap", "ended")
}

// TestMain shortens the engine's pauses between the tries of a refused
// dispatch, so that the Refuse fault's owed effects are recovered in
// milliseconds, not seconds.
func TestMain(m *testing.M) {
	engine.SetSendPause(time.Millisecond)
	os.Exit(m.Run())
}

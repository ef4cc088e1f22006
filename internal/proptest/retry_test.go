package proptest

import (
	"context"
	"strings"
	"testing"

	"pgregory.net/rapid"
)

// TestRetryAfterFixingFailures: property 7, a random graph whose failures
// (fail tasks, flaky tasks out of retries) end it, retried once they are
// fixed, ends with the fixed graph's reference output; no task that ended
// done runs again, and each callback fires once per end of its node. Its
// swarms stop at their first failure (Strict), so that every failure of
// the body fails the root.
func TestRetryAfterFixingFailures(t *testing.T) {
	for _, store := range []string{"memory", "redis"} {
		t.Run(store, func(t *testing.T) {
			target := MemoryTarget()
			if store == "redis" {
				target = redisTarget(t)
			}
			withChecks(t, checks()/4, func() {
				rapid.Check(t, func(rt *rapid.T) {
					g := Strict(Graphs().Draw(rt, "graph"))
					in := rapid.IntRange(-5, 5).Draw(rt, "input")
					fixed := PlanOf(Fixed(g))
					e := Reference(fixed, in, nil)
					ctx, cancel := context.WithTimeout(context.Background(), 3*Wait)
					defer cancel()
					r, err := ExecuteRetry(ctx, target, g, in)
					if err != nil {
						rt.Fatalf("%s: %v\ngraph %v", target.Name, err, g)
					}
					if problems := CheckRetried(PlanOf(g), e, r); len(problems) > 0 {
						rt.Fatalf("%s: graph %v, input %d, first ended (%d, %v), after the retry (%d, %v):\n%s",
							target.Name, g, in, r.First.Out, r.First.Err, r.Last.Out, r.Last.Err, strings.Join(problems, "\n"))
					}
				})
			})
		})
	}
}

package main

import (
	"bytes"
	"context"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/mageflow-go/mageflow/internal/redistest"
)

func TestRun(t *testing.T) {
	t.Parallel()
	t.Run("memory", func(t *testing.T) {
		t.Parallel()
		testRun(t, "")
	})
	t.Run("redis", func(t *testing.T) {
		t.Parallel()
		redistest.Client(t) // skips, or fails under MAGEFLOW_REQUIRE_SERVICES=1, without Redis
		testRun(t, redistest.URL())
	})
}

func testRun(t *testing.T, redisURL string) {
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	var buf bytes.Buffer
	if err := run(ctx, &buf, redisURL); err != nil {
		t.Fatalf("run: %v\noutput:\n%s", err, buf.String())
	}
	out := buf.String()
	t.Logf("output:\n%s", out)

	// Lines whose order is fixed by the flow: each must come after the
	// previous one. The swarm's checks run concurrently, so their lines
	// are only required to sit between score-fraud and make-receipt.
	inOrder := []string{
		"validate          A-1001  attempt 1/1  ok, subtotal €86.40",
		"score-fraud       A-1001  attempt 1/3  fraud service timed out, will retry",
		"score-fraud       A-1001  attempt 2/3  risk 0.12: ok",
		"make-receipt      A-1001  attempt 1/1  4 checks in, total €91.30",
		"email-receipt     A-1001  attempt 1/1  success callback: receipt for €91.30 e-mailed",
		"result: receipt for A-1001, total €91.30:\n" +
			"  - price: €86.40\n" +
			"  - address: deliverable\n" +
			"  - stock: reserved at warehouse BER-1\n" +
			"  - shipping: €4.90\n",
		"validate          B-2002  attempt 1/1  ok, subtotal €1249.00",
		"score-fraud       B-2002  attempt 1/3  fraud service timed out, will retry",
		"score-fraud       B-2002  attempt 2/3  risk 0.97: rejected (no retry)",
		"alert-ops         B-2002  attempt 1/1  error callback: paging ops: score-fraud failed after 2 attempts: order B-2002: risk 0.97 is above 0.90",
		"result: Wait returned a *flow.FailedError:",
		"failed: task score-fraud: order B-2002: risk 0.97 is above 0.90",
		`task score-fraud, 2 attempts, kind "error"`,
	}
	rest := out
	for _, want := range inOrder {
		i := strings.Index(rest, want)
		if i < 0 {
			t.Fatalf("output lacks %q after the previous expected line", want)
		}
		rest = rest[i+len(want):]
	}

	swarm := out[strings.Index(out, "risk 0.12: ok"):strings.Index(out, "4 checks in")]
	for _, want := range []string{
		"quote-price       A-1001  attempt 1/1  €86.40",
		"check-address     A-1001  attempt 1/1  deliverable",
		"reserve-stock     A-1001  attempt 1/1  reserved at warehouse BER-1",
		"estimate-shipping A-1001  attempt 1/1  €4.90",
	} {
		if strings.Count(swarm, want) != 1 {
			t.Errorf("the swarm's output should hold %q once:\n%s", want, swarm)
		}
	}

	m := regexp.MustCompile(`at most (\d+) checks ran at once`).FindStringSubmatch(out)
	if m == nil || (m[1] != "1" && m[1] != "2") {
		t.Errorf("the swarm should run at most 2 checks at once; got %q", m)
	}
	// The rejected order never reaches the swarm or the success callback.
	for _, never := range []string{"check-address     B-2002", "make-receipt      B-2002", "email-receipt     B-2002"} {
		if strings.Contains(out, never) {
			t.Errorf("output holds %q, which must not run", never)
		}
	}
}

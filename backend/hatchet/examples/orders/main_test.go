package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
	"time"

	"github.com/mageflow-go/mageflow/backend/hatchet/internal/hatchettest"
	"github.com/mageflow-go/mageflow/internal/redistest"
)

func TestMain(m *testing.M) { hatchettest.Main(m) }

func TestRun(t *testing.T) {
	dev := hatchettest.Engine(t)
	redistest.Client(t) // skips, or fails under MAGEFLOW_REQUIRE_SERVICES=1, without Redis
	for k, v := range dev.Settings {
		t.Setenv(k, v)
	}
	t.Setenv("HATCHET_CLIENT_LOG_LEVEL", "error")
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
	defer cancel()
	var buf bytes.Buffer
	if err := run(ctx, &buf, redistest.URL()); err != nil {
		t.Fatalf("run: %v\noutput:\n%s", err, buf.String())
	}
	out := buf.String()
	t.Logf("output:\n%s", out)
	for _, want := range []string{
		"stock A-1001: warehouse busy, Hatchet retries",
		"orders-stock     attempt 2/3  stock A-1001",
		"order A-1001: receipt: price €86.40, 3 items reserved, address deliverable",
		"success callback: e-mail the receipt",
		"order B-2002: failed in orders-validate: order has no items",
		"error callback: order B-2002 failed in orders-validate: order has no items",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("output lacks %q", want)
		}
	}
}

package main

import (
	"bytes"
	"context"
	"strings"
	"testing"
)

// One scrape holds the flows' metrics, with their labels.
func TestScrape(t *testing.T) {
	var out bytes.Buffer
	if err := run(context.Background(), "", true, &out); err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		`mageflow_task_executions_total{mageflow_outcome="done",mageflow_task="double"`,
		`mageflow_task_executions_total{mageflow_outcome="failed",mageflow_task="charge"`,
		`mageflow_flow_ended_total{mageflow_flow_kind="chain",mageflow_flow_name="checkout",mageflow_status="failed"`,
		`mageflow_task_duration_seconds_bucket`,
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the scrape lacks %s:\n%s", want, out.String())
		}
	}
}

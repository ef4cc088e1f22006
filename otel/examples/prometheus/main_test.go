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
		`messaging_client_consumed_messages_total{mageflow_outcome="done",mageflow_task="double",messaging_destination_name="double",messaging_operation_name="process",messaging_system="mageflow"`,
		`messaging_client_consumed_messages_total{error_type="*errors.errorString",mageflow_outcome="failed",mageflow_task="charge"`,
		`mageflow_flow_ended_total{mageflow_flow_kind="chain",mageflow_flow_name="checkout",mageflow_status="failed"`,
		`messaging_process_duration_seconds_bucket`,
		`mageflow_task_queue_latency_seconds_bucket`,
	} {
		if !strings.Contains(out.String(), want) {
			t.Errorf("the scrape lacks %s:\n%s", want, out.String())
		}
	}
}

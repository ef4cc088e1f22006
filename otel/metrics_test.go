package otelmageflow_test

import (
	"sort"
	"strings"

	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/sdk/metric/metricdata"
)

// sums flattens rm: "name k=v k=v" to a sum's value, or a histogram's
// count of observations.
func sums(rm metricdata.ResourceMetrics) map[string]int64 {
	out := map[string]int64{}
	key := func(name string, set attribute.Set) string {
		var kv []string
		for _, a := range set.ToSlice() {
			if strings.HasPrefix(string(a.Key), "messaging.") {
				continue // the conventions' system, operation and destination (the task)
			}
			k := strings.TrimPrefix(string(a.Key), "mageflow.")
			if k == "flow.name" {
				k = "name"
			}
			if k == "flow.kind" {
				continue
			}
			kv = append(kv, k+"="+a.Value.String())
		}
		sort.Slice(kv, func(i, j int) bool { return order(kv[i]) < order(kv[j]) })
		return strings.Join(append([]string{name}, kv...), " ")
	}
	for _, sm := range rm.ScopeMetrics {
		for _, m := range sm.Metrics {
			switch d := m.Data.(type) {
			case metricdata.Sum[int64]:
				for _, p := range d.DataPoints {
					out[key(m.Name, p.Attributes)] += p.Value
				}
			case metricdata.Histogram[float64]:
				for _, p := range d.DataPoints {
					out[key(m.Name, p.Attributes)] += int64(p.Count)
				}
			}
		}
	}
	return out
}

// order puts task, name and status before outcome.
func order(kv string) int {
	for i, p := range []string{"task=", "name=", "status=", "outcome="} {
		if strings.HasPrefix(kv, p) {
			return i
		}
	}
	return 9
}

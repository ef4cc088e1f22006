package engine

import (
	"context"
	"maps"
	"strconv"
	"strings"
)

// A flow's metadata (flow.WithMetadata) is stored on its root and
// carried by every dispatch of the flow as the dispatch's Meta, which a
// backend that shows metadata (Hatchet's run metadata) shows. A
// dispatch made while handling a delivery carries the delivery's; one
// made by Start, a lifecycle operation, a retry or a worker's recovery
// carries the root's. The keys of a delivery's metadata that are not
// under metaPrefix are the flow's: a backend names its own keys under it.

// metaPrefix starts the metadata keys of the engine and the backends,
// which are not the flow's.
const metaPrefix = "mageflow-"

// metaKey is the context key of the metadata the dispatches of a call
// carry.
type metaKey struct{}

// withMeta returns ctx carrying metadata m for the dispatches sent with it.
func withMeta(ctx context.Context, m map[string]string) context.Context {
	if len(m) == 0 {
		return ctx
	}
	return context.WithValue(ctx, metaKey{}, m)
}

// metaOf returns the metadata ctx carries for dispatches.
func metaOf(ctx context.Context) map[string]string {
	m, _ := ctx.Value(metaKey{}).(map[string]string)
	return m
}

// flowMeta returns the pairs of a delivery's metadata that are the
// flow's: those not under metaPrefix.
func flowMeta(meta map[string]string) map[string]string {
	var m map[string]string
	for k, v := range meta {
		if strings.HasPrefix(k, metaPrefix) {
			continue
		}
		if m == nil {
			m = make(map[string]string, len(meta))
		}
		m[k] = v
	}
	return m
}

// dispatchMeta returns the Meta of a dispatch: the flow's metadata m and,
// when they are not zero, the attempts its record made before and its
// epoch. A dispatch without counts shares m (backends do not change it).
func dispatchMeta(m map[string]string, attempts, epoch int) map[string]string {
	if attempts == 0 && epoch == 0 {
		if len(m) == 0 {
			return nil
		}
		return m
	}
	out := make(map[string]string, len(m)+2)
	maps.Copy(out, m)
	if attempts > 0 {
		out[metaAttempts] = strconv.Itoa(attempts)
	}
	if epoch > 0 {
		out[metaEpoch] = strconv.Itoa(epoch)
	}
	return out
}

// isEngineKey says whether metadata key k is the engine's or a
// backend's, not the flow's.
func isEngineKey(k string) bool { return strings.HasPrefix(k, metaPrefix) }

package engine

import (
	"context"
	"maps"
	"strings"
)

// A flow's metadata (flow.WithMetadata) is stored on its root and
// carried by every dispatch of the flow as the dispatch's Meta, which a
// backend that shows metadata (Hatchet's run metadata) shows. A
// dispatch made while handling a delivery carries the delivery's; one
// made by Start, a lifecycle operation or a retry carries the root's.
// Dispatches a worker's recovery re-sends carry none.

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
// when its record made attempts before, their count.
func dispatchMeta(m map[string]string, attempts string) map[string]string {
	if len(m) == 0 && attempts == "" {
		return nil
	}
	out := maps.Clone(m)
	if out == nil {
		out = make(map[string]string, 1)
	}
	if attempts != "" {
		out[metaAttempts] = attempts
	}
	return out
}

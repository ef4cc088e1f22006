package redis

import (
	"testing"
	"time"

	"github.com/mageflow-go/mageflow/sig"
)

// BenchmarkEncodePendingItems encodes a swarm of 1,000 pending items as
// CreateGraph does.
func BenchmarkEncodePendingItems(b *testing.B) {
	root := sig.NewRootID(time.Now())
	now := time.Now()
	recs := []*sig.Record{{ID: root, Root: root, Kind: sig.KindSwarm, Role: sig.RoleRoot, Children: 1000, Swarm: &sig.SwarmState{}, Status: sig.Pending, CreatedAt: now, UpdatedAt: now}}
	for i := range 1000 {
		recs = append(recs, &sig.Record{ID: sig.ChildID(root, i), Root: root, Kind: sig.KindTask, Name: "bench-inc", Parent: root, Role: sig.RoleChild, Index: i, Status: sig.Pending, CreatedAt: now, UpdatedAt: now})
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := records(recs); err != nil {
			b.Fatal(err)
		}
	}
}

package main

import (
	"strings"
	"testing"
	"time"

	"github.com/mageflow-go/mageflow/inspect"
	"github.com/mageflow-go/mageflow/sig"
)

// watch's lines fit the width it is given, and tell the rate and the
// time left of a running flow.
func TestBarsFitTheWidth(t *testing.T) {
	now := time.Now()
	root := &sig.Record{ID: "01M8AY3ZQCFYNCEY35P1HEHTMQ", Root: "01M8AY3ZQCFYNCEY35P1HEHTMQ", Kind: sig.KindSwarm, Name: "swarm", Label: "a-rather-long-nightly-import-name",
		Role: sig.RoleRoot, Status: sig.Active, Children: 3000, Swarm: &sig.SwarmState{Done: 1000, Failed: 2}, CreatedAt: now.Add(-10 * time.Second)}
	for _, cols := range []int{40, 80, 200} {
		out := bars(&inspect.Node{Record: root}, cols, now)
		for _, l := range strings.Split(strings.TrimRight(out, "\n"), "\n") {
			if n := len([]rune(l)); n > cols {
				t.Errorf("%d columns: a line of %d: %q", cols, n, l)
			}
		}
		if !strings.Contains(out, "1002/3000 (2 failed) active") || cols >= 80 && !strings.Contains(out, "1002/3000 (2 failed) active  10s  100.2/s  ETA 20s") {
			t.Errorf("%d columns: %q, want the counts, elapsed time, rate and ETA", cols, out)
		}
	}
}

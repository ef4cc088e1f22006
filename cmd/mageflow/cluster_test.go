package main

import (
	"context"
	"encoding/json"
	"slices"
	"strings"
	"testing"

	"github.com/mageflow-go/mageflow/flow"
	"github.com/mageflow-go/mageflow/internal/redistest"
)

// The command works on a Redis Cluster (--cluster): it lists the flows of
// every shard newest first, pages through them with a cursor, resolves an
// id prefix, shows, retries and serves them; without --cluster it says
// to add it.
func TestTheConsoleOnACluster(t *testing.T) {
	rc := redistest.Cluster(t)
	e := newClientOn(t, rc, redistest.ClusterURL())
	stop, err := e.c.StartWorker(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = stop(context.Background()) })
	var ids []string // newest first
	for i := range 6 {
		f := flow.Chain[int](inc, inc)
		if i == 2 {
			f = flow.Chain[int](inc, boom)
		}
		ids = append([]string{finished(t, e, flow.Named("order", f))}, ids...)
	}
	failed := ids[3]

	var all []string
	cursor := ""
	for range 6 {
		args := []string{"ls", "--json", "--limit", "4"}
		if cursor != "" {
			args = append(args, "--cursor", cursor)
		}
		var rows []struct {
			ID string `json:"id"`
		}
		js, _ := e.output(t, 0, args...)
		if err := json.Unmarshal([]byte(js), &rows); err != nil {
			t.Fatal(err)
		}
		for _, r := range rows {
			all = append(all, r.ID)
		}
		out := e.mageflow(t, 0, "ls", "--limit", "4", "--cursor", cursor)
		_, next, ok := strings.Cut(out, "more: --cursor ")
		if cursor == "" && !ok {
			t.Fatalf("the first page of 4 of 6 flows offers no next page:\n%s", out)
		}
		if !ok {
			break
		}
		cursor = strings.TrimSpace(next)
	}
	if !slices.Equal(all, ids) {
		t.Errorf("ls, 4 a page, on a cluster:\n%v\nwant (newest first):\n%v", all, ids)
	}
	if out := e.mageflow(t, 0, "ls", "--status", "failed"); !strings.Contains(out, failed) || strings.Count(out, "\n") != 2 {
		t.Errorf("ls --status failed on a cluster:\n%s", out)
	}
	if out := e.mageflow(t, 0, "show", failed[:20]); !strings.Contains(out, "task boom  failed") {
		t.Errorf("show of an id prefix on a cluster:\n%s", out)
	}
	if out := e.mageflow(t, 0, "retry", failed); !strings.Contains(out, "retry "+failed+": ") {
		t.Errorf("retry on a cluster: %s", out)
	}
	var listed []struct {
		ID string `json:"id"`
	}
	get(t, viewerOf(t, e).URL+"/api/flows", 200, &listed)
	if len(listed) != len(ids) || listed[0].ID != ids[0] {
		t.Errorf("the viewer on a cluster lists %v, want %d flows, newest %s", listed, len(ids), ids[0])
	}

	noFlag := e
	noFlag.flags = nil
	noFlag.url, _, _ = strings.Cut(e.url, "?") // one node
	if out := noFlag.mageflow(t, 1, "ls"); !strings.Contains(out, "add --cluster") {
		t.Errorf("the command on a cluster without --cluster: %s", out)
	}
}

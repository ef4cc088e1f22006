package main

import (
	"bufio"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mageflow-go/mageflow/flow"
	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/task"
	"github.com/mageflow-go/mageflow/viewer"

	redisstore "github.com/mageflow-go/mageflow/storage/redis"
)

// storeOf returns a store over e's keys.
func (e env) storeOf(t *testing.T) *redisstore.Store {
	t.Helper()
	s, err := redisstore.New(e.rc, redisstore.WithPrefix(e.prefix))
	if err != nil {
		t.Fatal(err)
	}
	return s
}

// viewerOf serves the viewer over e's store.
func viewerOf(t *testing.T, e env) *httptest.Server {
	t.Helper()
	srv := httptest.NewServer(viewer.New(e.storeOf(t), viewer.WithInterval(5*time.Millisecond)))
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, url string, want int, into any) {
	t.Helper()
	res, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	if res.StatusCode != want {
		t.Fatalf("GET %s: %s, want %d", url, res.Status, want)
	}
	if into != nil {
		if err := json.NewDecoder(res.Body).Decode(into); err != nil {
			t.Fatalf("GET %s: decode: %v", url, err)
		}
	}
}

func TestViewerAPI(t *testing.T) {
	release := make(chan struct{})
	defer close(release)
	wait := task.New("wait", func(ctx context.Context, n int) (int, error) {
		<-release
		return n, nil
	})
	e := newEnv(t, wait)
	done := finished(t, e, flow.Chain[int](inc, inc))
	running := started(t, e, flow.Chain[int](wait, inc))
	srv := viewerOf(t, e)

	res, err := http.Get(srv.URL + "/")
	if err != nil || res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/html") {
		t.Fatalf("GET /: %v %v", res, err)
	}
	res.Body.Close()

	var flows []struct {
		ID string `json:"id"`
	}
	get(t, srv.URL+"/api/flows", http.StatusOK, &flows)
	if len(flows) != 2 || flows[0].ID != running || flows[1].ID != done {
		t.Fatalf("GET /api/flows = %+v; want the running flow, then the done one", flows)
	}
	type node struct {
		ID       string     `json:"id"`
		Status   sig.Status `json:"status"`
		Input    any        `json:"input"`
		Children []node     `json:"children"`
	}
	var tree node
	get(t, srv.URL+"/api/flows/"+done, http.StatusOK, &tree)
	if tree.ID != done || len(tree.Children) != 2 || tree.Children[1].Status != sig.Done || tree.Input != float64(1) {
		t.Errorf("GET /api/flows/%s = %+v", done, tree)
	}
	get(t, srv.URL+"/api/flows/01M8AVWP3GWCX7WKK9VQXSBDYQ", http.StatusNotFound, nil)

	// A finished flow's events: its tree once, then the end.
	res, err = http.Get(srv.URL + "/api/flows/" + done + "/events")
	if err != nil {
		t.Fatal(err)
	}
	sc := bufio.NewScanner(res.Body)
	var lines []string
	for sc.Scan() {
		if l := sc.Text(); l != "" {
			lines = append(lines, l)
		}
	}
	res.Body.Close()
	if len(lines) != 3 || !strings.HasPrefix(lines[0], `data: {"id":"`+done+`"`) || lines[1] != "event: end" {
		t.Errorf("events of a finished flow: %q", lines)
	}

	// Suspend is a POST; a GET of it is refused.
	get(t, srv.URL+"/api/flows/"+running+"/suspend", http.StatusMethodNotAllowed, nil)
	post := func(id string, want int) string {
		t.Helper()
		res, err := http.Post(srv.URL+"/api/flows/"+id+"/suspend", "", nil)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		var body map[string]string
		_ = json.NewDecoder(res.Body).Decode(&body)
		if res.StatusCode != want {
			t.Fatalf("POST suspend %s: %s %v, want %d", id, res.Status, body, want)
		}
		return body["message"] + body["error"]
	}
	if msg := post(running, http.StatusOK); !strings.Contains(msg, "suspended "+running) {
		t.Errorf("suspend: %q", msg)
	}
	get(t, srv.URL+"/api/flows/"+running, http.StatusOK, &tree)
	if tree.Status != sig.Suspended {
		t.Errorf("after suspend the flow is %s", tree.Status)
	}
	if msg := post(done, http.StatusConflict); !strings.Contains(msg, "already ended") {
		t.Errorf("suspend of an ended flow: %q", msg)
	}
}

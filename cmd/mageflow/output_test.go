package main

import (
	"context"
	"encoding/json"
	"errors"
	"io"
	"net/http"
	"path/filepath"
	"reflect"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"

	"github.com/mageflow-go/mageflow/flow"
	"github.com/mageflow-go/mageflow/task"
)

// The text and JSON each command prints are what testdata/output holds
// (MAGEFLOW_UPDATE_GOLDEN=1 writes them), with what changes from run to
// run (ids, the prefix, times, ages, durations, rates) replaced; and
// `show --json` is the viewer's /api/flows/ID, the same shape.
func TestOutputGolden(t *testing.T) {
	var down atomic.Bool
	down.Store(true)
	release := make(chan struct{})
	defer close(release)
	// flaky fails while down, and then holds until the test ends (or it
	// is interrupted or canceled), so that a retried flow is active
	flaky := task.New("flaky", func(ctx context.Context, n int) (int, error) {
		if down.Load() {
			return 0, task.NonRetryable(errors.New("provider down"))
		}
		select {
		case <-release:
		case <-ctx.Done():
		}
		return n, ctx.Err()
	})
	hold := task.New("hold", func(ctx context.Context, n int) (int, error) {
		select {
		case <-release:
		case <-ctx.Done():
		}
		return n, ctx.Err()
	})
	e := newEnv(t, flaky, hold)
	t.Setenv("COLUMNS", "120") // watch's width, with room for its timing

	checkout := startedWith(t, e, flow.Named("checkout", flow.Chain[int](inc, inc)), flow.WithMetadata(map[string]string{"customer": "42", "region": "eu"}))
	e.mageflow(t, 0, "watch", "--interval", "5ms", checkout)
	swarm := finished(t, e, flow.OnError[int, int](flow.Then(flow.Swarm[int, int](inc, boom, inc).WithConfig(flow.SwarmConfig{StopAfterNFailures: 1, MaxConcurrency: 1}), flow.Bind(sum, 7)), alert))
	payment := finished(t, e, flow.Named("payment", flow.Then(inc, flaky)))
	held := started(t, e, flow.Named("held", flow.Then(inc, hold)))
	ids := []string{checkout, swarm, payment, held}

	cases := []struct {
		file string
		want int // exit status
		args []string
	}{
		{"ls.txt", 0, []string{"ls"}},
		{"ls-json.txt", 0, []string{"ls", "--json", "--limit", "3"}},
		{"ls-page.txt", 0, []string{"ls", "--limit", "1", "--status", "done,failed"}},
		{"ls-none.txt", 0, []string{"ls", "--name", "nosuch"}},
		{"show.txt", 0, []string{"show", swarm}},
		{"show-items.txt", 0, []string{"show", "--items", "1", swarm}},
		{"show-named.txt", 0, []string{"show", checkout}},
		{"show-json.txt", 0, []string{"show", "--json", swarm}},
		{"show-named-json.txt", 0, []string{"show", checkout, "--json"}},
		{"show-missing.txt", 1, []string{"show", "01M8AY3ZQCFYNCEY35P1HEHTMQ"}},
		{"watch.txt", 0, []string{"watch", checkout}},
		{"watch-failed.txt", 1, []string{"watch", swarm}},
		{"suspend.txt", 0, []string{"suspend", held}},
		{"show-suspended.txt", 0, []string{"show", held}},
		{"resume.txt", 0, []string{"resume", held}},
		{"interrupt.txt", 0, []string{"interrupt", held}},
		{"resume-interrupted.txt", 0, []string{"resume", held}},
		{"retry-refused.txt", 1, []string{"retry", held}},
		{"cancel-filter.txt", 1, []string{"cancel", "--name", "held"}},
		{"cancel-filter-yes.txt", 0, []string{"cancel", "--name", "held", "--yes"}},
		{"resume-ended.txt", 1, []string{"resume", held}},
		{"retry.txt", 0, []string{"retry", payment}},
	}
	for _, c := range cases {
		if c.file == "retry.txt" {
			down.Store(false) // the retried step now holds: the flow is active
		}
		got := normalize(e.mageflow(t, c.want, c.args...), e.prefix, ids...)
		golden(t, filepath.Join("testdata", "output", c.file), got)
	}

	// show --json and the viewer's API give the same object
	srv := viewerOf(t, e)
	for _, id := range []string{swarm, checkout} {
		var cmd, api any
		if err := json.Unmarshal([]byte(e.mageflow(t, 0, "show", "--json", id)), &cmd); err != nil {
			t.Fatal(err)
		}
		res, err := http.Get(srv.URL + "/api/flows/" + id)
		if err != nil {
			t.Fatal(err)
		}
		b, err := io.ReadAll(res.Body)
		res.Body.Close()
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Unmarshal(b, &api); err != nil {
			t.Fatal(err)
		}
		if cmd, api = withoutExpiry(cmd), withoutExpiry(api); !reflect.DeepEqual(cmd, api) {
			t.Errorf("show --json %s and /api/flows/%s differ:\n%v\n%v", id, id, cmd, api)
		}
	}
}

// startedWith is started with start options.
func startedWith[Out any](t *testing.T, e env, f flow.Flow[int, Out], opts ...flow.StartOption) string {
	t.Helper()
	r, err := flow.Start(context.Background(), e.c, f, 1, opts...)
	if err != nil {
		t.Fatal(err)
	}
	return r.ID()
}

// withoutExpiry is JSON value v without its "expires" (read from the
// key's TTL, it moves between two reads).
func withoutExpiry(v any) any {
	switch v := v.(type) {
	case map[string]any:
		delete(v, "expires")
		for k, c := range v {
			v[k] = withoutExpiry(c)
		}
	case []any:
		for i, c := range v {
			v[i] = withoutExpiry(c)
		}
	}
	return v
}

var (
	jsonTime   = regexp.MustCompile(`"(created|updated|ended|expires)": "[^"]+"`)
	jsonMillis = regexp.MustCompile(`"duration_ms": [0-9]+`)
	ended      = regexp.MustCompile(`ended \+[0-9.]+[µnm]?s`)
	expires    = regexp.MustCompile(`expires [0-9TZ:-]+ \(in [0-9hms.]+\)`)
	lsAge      = regexp.MustCompile(`(?m)  +[0-9]+[smhd]$`)
	timings    = regexp.MustCompile(`(\] [^\n]*?)  [0-9][0-9.hmsµn]*(  [0-9.]+/s)?(  ETA [0-9hms.]+)?\n`)
	cursor     = regexp.MustCompile(`--cursor [0-9A-Za-z._-]+`)
)

// normalize replaces in a command's output what changes from run to run:
// each of ids by a letter repeated to its length (tables stay aligned),
// prefix by PREFIX, times, ages, durations, rates and cursors.
func normalize(s, prefix string, ids ...string) string {
	for i, id := range ids {
		s = strings.ReplaceAll(s, id, strings.Repeat(string(rune('A'+i)), len(id)))
	}
	s = strings.ReplaceAll(s, prefix, "PREFIX")
	s = jsonTime.ReplaceAllString(s, `"$1": "TIME"`)
	s = jsonMillis.ReplaceAllString(s, `"duration_ms": 0`)
	s = ended.ReplaceAllString(s, "ended +T")
	s = expires.ReplaceAllString(s, "expires TIME (in D)")
	s = timings.ReplaceAllString(s, "$1  TIMING\n")
	s = lsAge.ReplaceAllString(s, "  AGE")
	return cursor.ReplaceAllString(s, "--cursor C")
}

package main

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/mageflow-go/mageflow/flow"
	"github.com/mageflow-go/mageflow/sig"
)

// Every command answers -h with its usage and flags, on standard output,
// with exit status 0.
func TestEveryCommandHasHelp(t *testing.T) {
	e := newEnv(t)
	for cmd, flags := range map[string][]string{
		"ls":        {"-status", "-name", "-meta", "-since", "-limit", "-cursor", "-json"},
		"show":      {"-items", "-json"},
		"watch":     {"-interval"},
		"suspend":   nil,
		"resume":    {"-wait"},
		"interrupt": {"-wait"},
		"cancel":    {"-wait"},
		"retry":     {"-wait"},
		"serve":     {"-addr"},
	} {
		for _, h := range []string{"-h", "--help"} {
			out := e.mageflow(t, 0, cmd, h)
			if !strings.HasPrefix(out, "usage: mageflow [--redis URL] [--prefix P] "+cmd) {
				t.Errorf("mageflow %s %s: %q", cmd, h, out)
			}
			for _, f := range flags {
				if !strings.Contains(out, f) {
					t.Errorf("mageflow %s %s does not list %s:\n%s", cmd, h, f, out)
				}
			}
		}
	}
	if out := e.mageflow(t, 0, "version"); !strings.HasPrefix(out, "mageflow ") {
		t.Errorf("version: %q", out)
	}
}

// Flags go anywhere after the command, and an id may be a prefix of one.
func TestFlagsAnywhereAndIDPrefixes(t *testing.T) {
	e := newEnv(t)
	id := finished(t, e, flow.Named("checkout", flow.Chain[int](inc, inc)))
	if out := e.mageflow(t, 0, "show", id, "--json"); !strings.Contains(out, `"id": "`+id+`"`) {
		t.Errorf("show ID --json:\n%s", out)
	}
	if out := e.mageflow(t, 0, "show", id[:len(id)-3]); !strings.Contains(out, "checkout: chain "+id) {
		t.Errorf("show of an id prefix:\n%s", out)
	}
	if out := e.mageflow(t, 2, "show", id, "--nonsense"); !strings.Contains(out, "mageflow show -h lists the flags") {
		t.Errorf("show with an unknown flag:\n%s", out)
	}
}

// ls filters by name, metadata and creation time, pages with a cursor,
// and says where it looked when nothing matched.
func TestLsFiltersAndPages(t *testing.T) {
	e := newEnv(t)
	var ids []string
	for i := range 3 {
		r, err := flow.Start(t.Context(), e.c, flow.Named("nightly", flow.Chain[int](inc, inc)), i,
			flow.WithMetadata(map[string]string{"customer": []string{"a", "b", "a"}[i]}))
		if err != nil {
			t.Fatal(err)
		}
		ids = append(ids, r.ID())
		e.mageflow(t, -1, "watch", "--interval", "5ms", r.ID())
	}
	finished(t, e, flow.Chain[int](inc))
	out := e.mageflow(t, 0, "ls", "--name", "nightly", "--meta", "customer=a", "--limit", "1")
	if strings.Count(out, "nightly") != 1 || !strings.Contains(out, "more: --cursor ") {
		t.Fatalf("ls --name nightly --meta customer=a --limit 1:\n%s", out)
	}
	cursor := strings.TrimSpace(out[strings.Index(out, "--cursor ")+len("--cursor "):])
	next := e.mageflow(t, 0, "ls", "--name", "nightly", "--meta", "customer=a", "--limit", "1", "--cursor", cursor)
	if strings.Contains(next, "more:") || strings.Count(next, "nightly") != 1 {
		t.Errorf("the next page:\n%s", next)
	}
	if !strings.Contains(out+next, ids[0]) || !strings.Contains(out+next, ids[2]) || strings.Contains(out+next, ids[1]) {
		t.Errorf("customer=a pages hold %s and %s, not %s:\n%s%s", ids[0], ids[2], ids[1], out, next)
	}
	if out := e.mageflow(t, 0, "ls", "--since", "1h", "--name", "nightly"); strings.Count(out, "nightly") != 3 {
		t.Errorf("ls --since 1h --name nightly:\n%s", out)
	}
	if out := e.mageflow(t, 0, "ls", "--name", "nothing"); !strings.Contains(out, `no flows under prefix "`+e.prefix+`" match`) {
		t.Errorf("ls of no match:\n%s", out)
	}
	empty := e
	empty.prefix = e.prefix + "-empty"
	if out := empty.mageflow(t, 0, "ls"); !strings.Contains(out, "flows are under") || !strings.Contains(out, e.prefix) {
		t.Errorf("ls under a prefix without flows:\n%s", out)
	}
}

// A filter steers every flow it selects: listed first, touched only with
// --yes.
func TestBulkByFilter(t *testing.T) {
	e := newEnv(t)
	a := finished(t, e, flow.Named("bulk", flow.Chain[int](inc, boom)))
	b := finished(t, e, flow.Named("bulk", flow.Chain[int](inc, boom)))
	finished(t, e, flow.Named("bulk", flow.Chain[int](inc)))
	out := e.mageflow(t, 1, "retry", "--name", "bulk", "--status", "failed")
	if !strings.Contains(out, "retry 2 flows:") || !strings.Contains(out, a) || !strings.Contains(out, b) || !strings.Contains(out, "add --yes to retry these 2 flows") {
		t.Fatalf("retry by filter without --yes:\n%s", out)
	}
	out = e.mageflow(t, 0, "retry", "--name", "bulk", "--status", "failed", "--yes")
	if !strings.Contains(out, "retry "+a+": ") || !strings.Contains(out, "retry "+b+": ") {
		t.Errorf("retry by filter with --yes:\n%s", out)
	}
	if out := e.mageflow(t, 2, "cancel", a, "--name", "bulk"); !strings.Contains(out, "want one flow id, or a filter") {
		t.Errorf("an id and a filter:\n%s", out)
	}
}

// The help of every command is what testdata/help/<command>.txt holds
// (MAGEFLOW_UPDATE_GOLDEN=1 writes them).
func TestHelpGolden(t *testing.T) {
	e := newEnv(t)
	for _, cmd := range []string{"ls", "show", "watch", "suspend", "resume", "interrupt", "cancel", "retry", "serve", "mcp"} {
		got := e.mageflow(t, 0, cmd, "-h")
		golden(t, filepath.Join("testdata", "help", cmd+".txt"), got)
	}
	golden(t, filepath.Join("testdata", "help", "mageflow.txt"), e.mageflow(t, 0, "help"))
}

// golden compares got with the file at path, or writes it there with
// MAGEFLOW_UPDATE_GOLDEN=1.
func golden(t *testing.T, path, got string) {
	t.Helper()
	if os.Getenv("MAGEFLOW_UPDATE_GOLDEN") == "1" {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (MAGEFLOW_UPDATE_GOLDEN=1 writes it)", err)
	}
	if got != string(want) {
		t.Errorf("%s differs:\n--- got\n%s\n--- want\n%s", path, got, want)
	}
}

// parse takes flags anywhere; "--" ends them, unless it is a flag's value.
func TestParseEndsFlagsAtDashDash(t *testing.T) {
	cases := []struct {
		args []string
		rest []string
		js   bool
		name string
	}{
		{[]string{"ID", "--json"}, []string{"ID"}, true, ""},
		{[]string{"--json", "ID"}, []string{"ID"}, true, ""},
		{[]string{"ID", "--", "--json"}, []string{"ID", "--json"}, false, ""},
		{[]string{"--", "--json", "-x"}, []string{"--json", "-x"}, false, ""},
		{[]string{"--json", "--", "ID", "--name", "n"}, []string{"ID", "--name", "n"}, true, ""},
		{[]string{"--name", "--", "ID", "--json"}, []string{"ID"}, true, "--"},
		{[]string{"A", "--name=x", "B"}, []string{"A", "B"}, false, "x"},
	}
	for _, c := range cases {
		fs := flag.NewFlagSet("t", flag.ContinueOnError)
		js := fs.Bool("json", false, "")
		name := fs.String("name", "", "")
		rest, err := parse(fs, "t", c.args)
		if err != nil || fmt.Sprint(rest) != fmt.Sprint(c.rest) || *js != c.js || *name != c.name {
			t.Errorf("parse %q: %q json=%v name=%q (%v), want %q json=%v name=%q", c.args, rest, *js, *name, err, c.rest, c.js, c.name)
		}
	}
}

// Global flags go after the command too; a command's help needs no
// server; ls --json writes its next cursor aside, keeping its output one
// JSON array; watch of a part of a flow ends with the part, and refuses
// an interval that is not positive.
func TestGlobalFlagsHelpAndWatchOfAPart(t *testing.T) {
	e := newEnv(t)
	a := finished(t, e, flow.Chain[int](inc, boom))
	finished(t, e, flow.Chain[int](inc))

	var out, errs bytes.Buffer
	if code := run(context.Background(), []string{"ls", "--prefix", e.prefix, "--redis=" + e.url, "--limit", "1", "--json"}, &out, &errs); code != 0 {
		t.Fatalf("ls with the global flags after it: exit status %d\n%s%s", code, out.String(), errs.String())
	}
	var rows []map[string]any
	if err := json.Unmarshal(out.Bytes(), &rows); err != nil || len(rows) != 1 {
		t.Errorf("ls --json --limit 1: %v %s", err, out.String())
	}
	if !strings.HasPrefix(errs.String(), "more: --cursor ") {
		t.Errorf("ls --json of a page with more after it: standard error %q, want its cursor", errs.String())
	}
	for _, cmd := range []string{"cancel", "ls", "serve"} {
		out.Reset()
		errs.Reset()
		if code := run(context.Background(), []string{"--redis", "redis://127.0.0.1:1", cmd, "-h"}, &out, &errs); code != 0 || !strings.Contains(out.String(), "usage: mageflow") {
			t.Errorf("%s -h with no server: exit status %d\n%s%s", cmd, code, out.String(), errs.String())
		}
	}
	if out := e.mageflow(t, 1, "watch", "--interval", "5ms", sig.ChildID(a, 1)); !strings.Contains(out, "failed: boom: card declined") {
		t.Errorf("watch of a failed step:\n%s", out)
	}
	if out := e.mageflow(t, 2, "watch", "--interval", "0", a); !strings.Contains(out, "want a positive interval") {
		t.Errorf("watch --interval 0: %s", out)
	}
}

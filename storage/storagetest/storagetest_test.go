package storagetest

import (
	"strings"
	"testing"

	"github.com/mageflow-go/mageflow/sig"
)

func TestCasesHaveNamesAndRules(t *testing.T) {
	seen := map[string]bool{}
	for _, c := range cases() {
		switch {
		case c.Name == "" || strings.ContainsAny(c.Name, " /"):
			t.Errorf("case %q: name must be non-empty, without spaces or slashes", c.Name)
		case seen[c.Name]:
			t.Errorf("case %q: name used twice", c.Name)
		case c.Rule == "" || !strings.HasSuffix(c.Rule, "."):
			t.Errorf("case %q: rule %q must be one sentence ending with a period", c.Name, c.Rule)
		case c.Test == nil:
			t.Errorf("case %q: no test", c.Name)
		}
		seen[c.Name] = true
	}
}

func TestLowerOrdersParentsFirst(t *testing.T) {
	g := newGraph("R", chain(
		task("a").withArgs(`{"x":1}`).success(task("cb")),
		swarm(sig.SwarmConfig{MaxConcurrency: 2}, task("b"), chain(task("c"), task("d"))).opened(),
	).failure(task("eb")), defaultTTLs)
	want := []string{"R", "R.0", "R.0.s0", "R.1", "R.1.0", "R.1.1", "R.1.1.0", "R.1.1.1", "R.e0"}
	if got := g.ids(); strings.Join(got, " ") != strings.Join(want, " ") {
		t.Fatalf("ids = %v, want %v", got, want)
	}
	if g.ttl != defaultTTLs {
		t.Errorf("graph TTLs %+v, want %+v", g.ttl, defaultTTLs)
	}
	byID := map[string]*sig.Record{}
	for _, r := range g.recs {
		byID[r.ID] = r
		if r.Root != "R" {
			t.Errorf("%s: Root %q", r.ID, r.Root)
		}
		if r.ID != "R" && byID[r.Parent] == nil {
			t.Errorf("%s: parent %q not before it", r.ID, r.Parent)
		}
	}
	root := byID["R"]
	if root.Role != sig.RoleRoot || root.Kind != sig.KindChain || root.Children != 2 || root.OnError != 1 || root.OnSuccess != 0 {
		t.Errorf("root = %+v", root)
	}
	if r := byID["R.0.s0"]; r.Role != sig.RoleSuccess || r.Parent != "R.0" || r.Index != 0 {
		t.Errorf("callback = %+v", r)
	}
	if r := byID["R.1"]; r.Swarm == nil || r.Swarm.Closed || r.Swarm.Config.MaxConcurrency != 2 || r.Children != 2 {
		t.Errorf("swarm = %+v", r)
	}
	if r := byID["R.1.1.1"]; r.Role != sig.RoleChild || r.Index != 1 || r.Parent != "R.1.1" {
		t.Errorf("nested step = %+v", r)
	}
	if string(byID["R.0"].Args) != `{"x":1}` {
		t.Errorf("args = %s", byID["R.0"].Args)
	}
	items := lowerItems("R", "R.1", 2, chain(task("e"), task("f")))
	if len(items) != 3 || items[0].ID != "R.1.2" || items[0].Index != 2 || items[0].Parent != "R.1" || items[2].ID != "R.1.2.1" {
		t.Errorf("items = %v", items)
	}
}

func TestJSONEqual(t *testing.T) {
	for _, c := range []struct {
		a, b string
		eq   bool
	}{
		{`{"a":1,"b":[1,2]}`, `{"b":[1,2.0],"a":1}`, true},
		{`[1,2]`, `[2,1]`, false},
		{`1`, `"1"`, false},
		{`not json`, `not json`, false},
	} {
		if got := jsonEqual([]byte(c.a), []byte(c.b)); got != c.eq {
			t.Errorf("jsonEqual(%s, %s) = %v", c.a, c.b, got)
		}
	}
}

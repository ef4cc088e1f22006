package storagetest

import (
	"testing"
	"time"

	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
)

// malformedCases check that a store refuses graphs and items whose records
// do not make a graph.
func malformedCases() []testCase {
	return []testCase{
		{
			Name: "CreateRefusesMalformedGraphs",
			Rule: "CreateGraph refuses, with ErrState and writing nothing, records that do not make a graph: a duplicate id, a record before its parent or outside the graph, an id that does not match its place, a child or callback the parent counts but that is missing, or one the parent does not count, and records whose kind, role or counts are wrong.",
			Test: testCreateRefusesMalformedGraphs,
		},
		{
			Name: "AddRefusesMalformedItems",
			Rule: "AddItems refuses, with ErrState and writing nothing, items whose descendants do not make a graph: a duplicate, a descendant before its parent, a callback its item does not count or one it counts that is missing, a record with the id of a stored one (the swarm, the root), a callback of the swarm, an index far beyond the swarm's.",
			Test: testAddRefusesMalformedItems,
		},
	}
}

func testCreateRefusesMalformedGraphs(t *testing.T, e *env) {
	// base is a root chain of a task with a success callback and a swarm
	// of two tasks: every case below breaks it one way.
	base := func() *graph {
		return e.graph(chain(task("a").success(task(taskEcho)), swarm(sig.SwarmConfig{}, task("b"), task("c"))))
	}
	find := func(recs []*sig.Record, id string) int {
		for i, r := range recs {
			if r.ID == id {
				return i
			}
		}
		t.Fatalf("no record %s", id)
		return -1
	}
	cases := []struct {
		name  string
		spoil func(root string, recs []*sig.Record) []*sig.Record
	}{
		{"duplicate id", func(root string, recs []*sig.Record) []*sig.Record {
			c := *recs[find(recs, sig.ChildID(sig.ChildID(root, 1), 0))]
			return append(recs, &c)
		}},
		{"record before its parent", func(root string, recs []*sig.Record) []*sig.Record {
			i, j := find(recs, sig.ChildID(root, 1)), find(recs, sig.ChildID(sig.ChildID(root, 1), 0))
			recs[i], recs[j] = recs[j], recs[i]
			return recs
		}},
		{"record of another graph", func(root string, recs []*sig.Record) []*sig.Record {
			other := sig.NewRootID(time.Now())
			recs[len(recs)-1].Root = other
			return recs
		}},
		{"id not matching its place", func(root string, recs []*sig.Record) []*sig.Record {
			recs[find(recs, sig.ChildID(root, 0))].Index = 3
			return recs
		}},
		{"index written with a leading zero", func(root string, recs []*sig.Record) []*sig.Record {
			r := recs[find(recs, sig.ChildID(sig.ChildID(root, 1), 1))]
			r.ID = sig.ChildID(root, 1) + ".01"
			return recs
		}},
		{"counted child missing", func(root string, recs []*sig.Record) []*sig.Record {
			return append(recs[:find(recs, sig.ChildID(sig.ChildID(root, 1), 1))], recs[find(recs, sig.ChildID(sig.ChildID(root, 1), 1))+1:]...)
		}},
		{"counted callback missing", func(root string, recs []*sig.Record) []*sig.Record {
			recs[find(recs, sig.ChildID(root, 0))].OnError = 1
			return recs
		}},
		{"child its parent does not count", func(root string, recs []*sig.Record) []*sig.Record {
			sw := sig.ChildID(root, 1)
			return append(recs, &sig.Record{ID: sig.ChildID(sw, 2), Root: root, Kind: sig.KindTask, Name: "d", Parent: sw, Role: sig.RoleChild, Index: 2})
		}},
		{"callback of a record that has none", func(root string, recs []*sig.Record) []*sig.Record {
			p := sig.ChildID(sig.ChildID(root, 1), 0)
			return append(recs, &sig.Record{ID: sig.SuccessID(p, 0), Root: root, Kind: sig.KindTask, Name: "d", Parent: p, Role: sig.RoleSuccess})
		}},
		{"second root", func(root string, recs []*sig.Record) []*sig.Record {
			c := *recs[0]
			return append(recs, &c)
		}},
		{"task with children", func(root string, recs []*sig.Record) []*sig.Record {
			recs[find(recs, sig.ChildID(root, 0))].Children = 1
			return recs
		}},
		{"chain without steps", func(root string, recs []*sig.Record) []*sig.Record {
			return []*sig.Record{{ID: root, Root: root, Kind: sig.KindChain, Name: "chain", Role: sig.RoleRoot}}
		}},
		{"negative count", func(root string, recs []*sig.Record) []*sig.Record {
			recs[0].OnSuccess = -1
			return recs
		}},
		{"count beyond the records given", func(root string, recs []*sig.Record) []*sig.Record {
			sw := recs[find(recs, sig.ChildID(root, 1))]
			sw.Children = 1 << 40
			return append(recs, &sig.Record{ID: sig.ChildID(sw.ID, 1<<40-1), Root: root, Kind: sig.KindTask, Name: "d", Parent: sw.ID, Role: sig.RoleChild, Index: 1<<40 - 1})
		}},
		{"unknown kind", func(root string, recs []*sig.Record) []*sig.Record {
			recs[find(recs, sig.ChildID(root, 0))].Kind = "job"
			return recs
		}},
		{"unknown role", func(root string, recs []*sig.Record) []*sig.Record {
			recs[find(recs, sig.ChildID(root, 0))].Role = "step"
			return recs
		}},
		{"nil record", func(root string, recs []*sig.Record) []*sig.Record {
			return append(recs, nil)
		}},
	}
	for _, c := range cases {
		g := base()
		st := g.stored(false, nil)
		st.Records = c.spoil(g.root, st.Records)
		_, err := e.s.CreateGraph(e.ctx, st)
		expectErr(t, "CreateGraph with a "+c.name, err, storage.ErrState)
		if _, err := e.s.Get(e.ctx, g.root); err == nil {
			t.Errorf("CreateGraph with a %s stored the root", c.name)
		}
	}
}

func testAddRefusesMalformedItems(t *testing.T, e *env) {
	cases := []struct {
		name  string
		spoil func(items []*sig.Record) []*sig.Record
	}{
		{"duplicate", func(items []*sig.Record) []*sig.Record {
			c := *items[len(items)-1]
			return append(items, &c)
		}},
		{"descendant before its parent", func(items []*sig.Record) []*sig.Record {
			items[0], items[1] = items[1], items[0]
			return items
		}},
		{"callback its item does not count", func(items []*sig.Record) []*sig.Record {
			items[0].OnSuccess = 0
			return items
		}},
		{"counted callback missing", func(items []*sig.Record) []*sig.Record {
			return items[:1]
		}},
		{"record with the swarm's id", func(items []*sig.Record) []*sig.Record {
			sw := items[0].Parent
			return append([]*sig.Record{{ID: sw, Root: items[0].Root, Kind: sig.KindChain, Name: "chain", Parent: items[0].Root, Role: sig.RoleChild, Children: 1}}, items...)
		}},
		{"record with the root's id", func(items []*sig.Record) []*sig.Record {
			return append([]*sig.Record{{ID: items[0].Root, Root: items[0].Root, Kind: sig.KindTask, Name: "task", Role: sig.RoleRoot}}, items...)
		}},
		{"callback of the swarm", func(items []*sig.Record) []*sig.Record {
			sw := items[0].Parent
			return append(items, &sig.Record{ID: sig.SuccessID(sw, 0), Root: items[0].Root, Kind: sig.KindTask, Name: "d", Parent: sw, Role: sig.RoleSuccess})
		}},
		{"error callback far beyond the swarm", func(items []*sig.Record) []*sig.Record {
			sw := items[0].Parent
			return append(items, &sig.Record{ID: sig.ErrorID(sw, 1<<60), Root: items[0].Root, Kind: sig.KindTask, Name: "d", Parent: sw, Role: sig.RoleError, Index: 1 << 60})
		}},
	}
	for _, c := range cases {
		// the swarm is a chain's step, so that the root and the swarm
		// are two stored records
		g := e.graph(chain(swarm(sig.SwarmConfig{}, task("a")).opened()))
		e.start(g, `1`)
		sw := sig.ChildID(g.root, 0)
		items := lowerItems(g.root, sw, 1, task("b").success(task(taskEcho)))
		_, err := e.s.AddItems(e.ctx, sw, 1, c.spoil(items))
		expectErr(t, "AddItems with a "+c.name, err, storage.ErrState)
		if _, err := e.s.Get(e.ctx, sig.ChildID(sw, 1)); err == nil {
			t.Errorf("AddItems with a %s stored the item", c.name)
		}
		for id, kind := range map[string]sig.Kind{g.root: sig.KindChain, sw: sig.KindSwarm} {
			if r, err := e.s.Get(e.ctx, id); err != nil || r.Kind != kind || (kind == sig.KindSwarm && r.Children != 1) {
				t.Errorf("after AddItems with a %s: %s is %+v (%v), want the %s as it was", c.name, id, r, err, kind)
			}
		}
	}
}

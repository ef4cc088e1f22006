package memory

import (
	"context"
	"testing"
	"time"

	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
	"github.com/mageflow-go/mageflow/storage/transition"
)

// TestChildTx checks that GetChild and ReadChild answer as Get and Read
// of sig.ChildID do, records and errors alike, also for children the
// transition holds already and for a graph held in an index; and that
// they allocate nothing.
func TestChildTx(t *testing.T) {
	ctx := context.Background()
	for _, n := range []int{3, 40} { // 40: more than maxSmall, an index
		s := New()
		root := sig.NewRootID(time.Now())
		recs := []*sig.Record{{ID: root, Root: root, Kind: sig.KindChain, Name: "chain", Role: sig.RoleRoot, Children: n}}
		for i := range n {
			recs = append(recs, &sig.Record{ID: sig.ChildID(root, i), Root: root, Kind: sig.KindTask, Name: "t", Parent: root, Role: sig.RoleChild, Index: i})
		}
		if _, err := s.CreateGraph(ctx, storage.Graph{Records: recs, ActiveTTL: time.Hour, DoneTTL: time.Hour, Owned: true}); err != nil {
			t.Fatal(err)
		}
		for _, parent := range []string{root, sig.ChildID(root, 1), "0NOSUCHROOT"} {
			err := s.run(ctx, "test", root, func(ttx transition.Tx) error {
				mt := ttx.(*tx)
				for round := range 2 { // the second finds them held
					for i := range n + 1 {
						id := sig.ChildID(parent, i)
						read, rerr := mt.Read(id)
						rc, rcerr := mt.ReadChild(parent, i)
						if rc != read || errText(rcerr) != errText(rerr) {
							t.Errorf("round %d: ReadChild(%s, %d) = %p, %v; Read = %p, %v", round, parent, i, rc, rcerr, read, rerr)
						}
						var gc *sig.Record
						var gcerr error
						if (i+round)%2 == 0 {
							gc, gcerr = mt.GetChild(parent, i)
						} else {
							gc, gcerr = mt.Get(id)
						}
						get, gerr := mt.Get(id)
						if gc != get || errText(gcerr) != errText(gerr) || (get != nil && gerr != nil) {
							t.Errorf("round %d: GetChild(%s, %d) = %p, %v; Get = %p, %v", round, parent, i, gc, gcerr, get, gerr)
						}
					}
				}
				if allocs := testing.AllocsPerRun(10, func() {
					_, _ = mt.GetChild(root, n-1)
					_, _ = mt.ReadChild(root, 0)
				}); allocs != 0 {
					t.Errorf("GetChild and ReadChild allocate %v times", allocs)
				}
				return nil
			})
			if err != nil {
				t.Fatal(err)
			}
		}
	}
}

func errText(err error) string {
	if err == nil {
		return ""
	}
	return err.Error()
}

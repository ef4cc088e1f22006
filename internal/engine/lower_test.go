package engine

import (
	"testing"

	"github.com/mageflow-go/mageflow/sig"
)

// TestChildIDs checks that the ids lowering makes in one allocation are
// those sig.ChildID makes.
func TestChildIDs(t *testing.T) {
	t.Parallel()
	for _, parent := range []string{"01JABCDEFGHJKMNPQRSTVWXYZ0", "01JABCDEFGHJKMNPQRSTVWXYZ0.3.s1"} {
		for _, n := range []int{0, 1, 2, 9, 10, 11, 99, 100, 101, 1000, 10001} {
			ids := newChildIDs(parent, n)
			for i := range n {
				var id string
				id, ids = ids.next(i)
				if want := sig.ChildID(parent, i); id != want {
					t.Fatalf("child %d of %d of %s: id %q, want %q", i, n, parent, id, want)
				}
			}
			if ids.all != "" {
				t.Fatalf("%d children of %s: %q left over", n, parent, ids.all)
			}
		}
	}
}

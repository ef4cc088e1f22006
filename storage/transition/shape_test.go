package transition

import (
	"testing"

	"github.com/mageflow-go/mageflow/sig"
)

// FuzzIsPlace checks that isPlace agrees with the id sig makes for a
// parent, a role and an index, without making it.
func FuzzIsPlace(f *testing.F) {
	f.Add("r.1", "r", 0, 1)
	f.Add("r.01", "r", 0, 1)
	f.Add("r.s0", "r", 1, 0)
	f.Add("r.e12", "r", 2, 12)
	f.Add("r.e12", "r.e", 0, 12)
	f.Fuzz(func(t *testing.T, id, parent string, k, index int) {
		if k < 0 || k > 2 || index < 0 {
			return
		}
		want := []func(string, int) string{sig.ChildID, sig.SuccessID, sig.ErrorID}[k](parent, index)
		if got := isPlace(id, parent, k, index); got != (id == want) {
			t.Fatalf("isPlace(%q, %q, %d, %d) = %v; the id of that place is %q", id, parent, k, index, got, want)
		}
		if !isPlace(want, parent, k, index) {
			t.Fatalf("isPlace(%q, %q, %d, %d) = false for the id of that place", want, parent, k, index)
		}
	})
}

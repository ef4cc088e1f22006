package storagetest

import (
	"testing"

	"github.com/mageflow-go/mageflow/storage"
)

// testCase is one rule of the protocol and the test that checks it.
type testCase struct {
	// Name names the subtest.
	Name string
	// Rule states, in one sentence, the protocol rule the case checks.
	Rule string
	// Test checks the rule on a fresh store.
	Test func(t *testing.T, e *env)
}

// Run runs every case of the suite against stores made by newStore. Each
// case is a parallel subtest with a store of its own: newStore is called
// once per case, from the case's goroutine, and may register cleanups on
// the t it is given.
func Run(t *testing.T, newStore func(t *testing.T) storage.Store) {
	t.Helper()
	for _, c := range cases() {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("rule: %s", c.Rule)
				}
			})
			s := newStore(t)
			if s == nil {
				t.Fatal("storagetest: newStore returned nil")
			}
			c.Test(t, newEnv(t, s))
		})
	}
}

// cases returns the whole table, group by group.
func cases() []testCase {
	var all []testCase
	for _, group := range [][]testCase{
		createCases(),
		malformedCases(),
		claimCases(),
		aheadCases(),
		completeCases(),
		failCases(),
		swarmCases(),
		concurrencyCases(),
		ttlCases(),
		lifecycleCases(),
		retryCases(),
		owedCases(),
		notifierCases(),
		listerCases(),
		indexCases(),
		requestsCases(),
		tasksCases(),
	} {
		all = append(all, group...)
	}
	return all
}

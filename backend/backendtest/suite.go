package backendtest

import (
	"testing"

	"github.com/mageflow-go/mageflow/backend"
)

// testCase is one rule of the contract and the test that checks it.
type testCase struct {
	// Name names the subtest.
	Name string
	// Rule is the rule checked, in one sentence.
	Rule string
	// Test checks the rule on h's fresh, unstarted Backend.
	Test func(t *testing.T, h *harness)
}

// cases is the suite, one rule per case.
var cases = []testCase{
	{"Delivers", "A dispatch delivers its payload, task name and metadata to the handler exactly once, with the run id Dispatch returned.", testDelivers},
	{"PayloadExact", "A payload arrives as the same JSON value with its numbers exact: integers past 2^53 keep every digit.", testPayloadExact},
	{"AttemptNumbers", "The first attempt of a run has Attempt 1 and MaxAttempts = Retries+1.", testAttemptNumbers},
	{"RetryUntilSuccess", "A failing handler is retried with the same RunID and an Attempt one higher each time, until it succeeds.", testRetryUntilSuccess},
	{"RetriesStopAtMaxAttempts", "A handler that always fails is attempted MaxAttempts times and no more.", testRetriesStop},
	{"FinalNotRetried", "An error marked with backend.Final is not retried.", testFinalNotRetried},
	{"BackoffDelaysRetry", "A retry starts no earlier than the task's backoff after the failed attempt returned.", testBackoff},
	{"UnknownTask", "Dispatching a task name no worker knows fails with an error wrapping backend.ErrUnknownTask.", testUnknownTask},
	{"Known", "Known reports true for a registered task name and false for any other.", testKnown},
	{"RegisterTwice", "Registering a task name twice fails.", testRegisterTwice},
	{"RegisterAfterStart", "Register after Start fails with an error wrapping backend.ErrWorkerStarted, and the task stays unknown to the worker.", testRegisterAfterStart},
	{"DedupeKey", "Two dispatches with the same Key, the second while the first run is running, give one delivery and the same run id.", testDedupeKey},
	{"DispatchBatch", "A backend.Batcher's batch delivers each dispatch once (keyed or not), with its payload and metadata, under the run id at its place; a dispatch of a task no worker knows fails alone, with ErrUnknownTask; one whose Key a running run holds gives that run's id.", testDispatchBatch},
	{"DispatchFromHandler", "A handler can dispatch another task with its own context.", testDispatchFromHandler},
	{"Timeout", "The task's timeout cancels the handler's context.", testTimeout},
	{"Cancel", "Cancel cancels the context of a running handler.", testCancel},
	{"CancelEnded", "Canceling a run that ended is not an error.", testCancelEnded},
	{"Concurrent", "Handlers run concurrently: two handlers that wait for each other both finish.", testConcurrent},
	{"StopWaits", "stop returns nil only after the running handler returned.", testStopWaits},
}

// Run runs the conformance suite, each case in a parallel subtest on a
// fresh, unstarted Backend from newBackend. newBackend may register cleanups
// with t; the suite starts the Backend and stops it in a cleanup, and fails
// when stop does not return nil within [WaitTimeout].
func Run(t *testing.T, newBackend func(t *testing.T) backend.Backend) {
	t.Helper()
	for _, c := range cases {
		t.Run(c.Name, func(t *testing.T) {
			t.Parallel()
			t.Cleanup(func() {
				if t.Failed() {
					t.Logf("rule: %s", c.Rule)
				}
			})
			c.Test(t, newHarness(t, c.Name, newBackend(t)))
		})
	}
}

// Package flowsuite is the flow-level test suite of mageflow: every
// semantic of chains, swarms, callbacks, retries, validation, lifecycle,
// errors and expiry, run through the public API against a client that a
// [Harness] builds. The flow package runs it on the memory backend (with
// the store MAGEFLOW_TEST_STORE names), and backend/hatchet runs it on a
// real Hatchet engine with the Redis store, so every backend and store
// keeps the same behaviour.
//
// A third-party backend or store runs the same cases ours do, as it runs
// backend/backendtest or storage/storagetest:
//
//	func TestFlows(t *testing.T) {
//		flowsuite.Run(t, flowsuite.Harness{
//			New: func(t *testing.T, opts []mageflow.Option, tasks ...task.Registrable) flowsuite.Env {
//				return flowsuite.NewEnv(t, mybackend.New(), flowsuite.Store{Store: mystore.New()}, opts, tasks...)
//			},
//			Faulty: func(t *testing.T, opts []mageflow.Option, f flowsuite.Faults, tasks ...task.Registrable) flowsuite.Env {
//				return flowsuite.NewFaultyEnv(t, mybackend.New(), flowsuite.Store{Store: mystore.New()}, opts, f, tasks...)
//			},
//		})
//	}
//
// Tests of one run may share a backend's engine or a store's server, but
// must not see each other's tasks or records (a key prefix per test).
package flowsuite

import (
	"context"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/mageflow-go/mageflow"
	"github.com/mageflow-go/mageflow/backend"
	"github.com/mageflow-go/mageflow/storage"
	"github.com/mageflow-go/mageflow/task"
)

// Store is the store of one test, with what the suite may ask of it
// besides storage.Store.
type Store struct {
	storage.Store
	// Records counts the records the store holds for this test (nil: the
	// cases that count records check the errors only).
	Records func() int
	// KeyTTLs returns the remaining time to live of every key the store
	// holds for this test (-1 for a key without one), for stores with
	// keys; nil otherwise.
	KeyTTLs func() map[string]time.Duration
}

// Env is one test's client, with a running worker, and its store.
type Env struct {
	Client *mageflow.Client
	Store  storage.Store
	// Records counts the records the store holds for this test.
	Records func() int
	// KeyTTLs returns the time to live of each key the store holds for
	// this test, for stores with keys (nil otherwise).
	KeyTTLs func() map[string]time.Duration
	// Stop stops the worker before the test ends (a worker that goes
	// away while others run on), waiting up to a minute for running
	// tasks; the end of the test stops it otherwise. Calls after the
	// first do nothing.
	Stop func()
	// StopWithin stops the worker as Stop does, waiting for running
	// tasks until ctx ends, and returns the worker's stop error. Calls
	// after the first of Stop and StopWithin do nothing (and return nil).
	StopWithin func(ctx context.Context) error
}

// Harness builds the environment of one test.
type Harness struct {
	// New returns a client with options opts over a fresh backend and
	// store, that has registered tasks and started its worker; the worker
	// stops when t ends. Tests of one run may share a backend's engine but
	// must not see each other's tasks.
	New func(t *testing.T, opts []mageflow.Option, tasks ...task.Registrable) Env
	// Faulty is New with the client's backend and store wrapped by the
	// test's faults (see NewFaultyEnv).
	Faulty func(t *testing.T, opts []mageflow.Option, f Faults, tasks ...task.Registrable) Env
	// Wait bounds every wait of a test: 20 s unless longer (the longest
	// Wait of the harnesses run in one process holds for all).
	Wait time.Duration
}

// testCase is one behaviour and the test that checks it.
type testCase struct {
	name string
	test func(t *testing.T, h Harness)
}

// Run runs the whole suite as parallel subtests.
func Run(t *testing.T, h Harness) {
	t.Helper()
	if h.Wait > 0 {
		waitFor.Store(int64(max(h.Wait, time.Duration(waitFor.Load()))))
	}
	for _, c := range cases() {
		t.Run(c.name, func(t *testing.T) { c.test(t, h) })
	}
}

func cases() []testCase {
	return []testCase{
		{"ThenPassesOutputs", testThenPassesOutputs},
		{"ChainHelperAndNesting", testChainHelperAndNesting},
		{"ChainFailureStopsAndFiresCallbacksOnce", testChainFailureStopsAndFiresCallbacksOnce},
		{"SwarmOrderInputAndConcurrency", testSwarmOrderInputAndConcurrency},
		{"SwarmDefaultConcurrencyIs30", testSwarmDefaultConcurrencyIs30},
		{"SwarmToleratesFailuresByDefault", testSwarmToleratesFailuresByDefault},
		{"SwarmStopsAfterNFailures", testSwarmStopsAfterNFailures},
		{"SwarmStopCancelsRunningItems", testSwarmStopCancelsRunningItems},
		{"SwarmConcurrentCompletionsExactlyOnce", testSwarmConcurrentCompletionsExactlyOnce},
		{"SignSwarmGrowsWhileRunning", testSignSwarmGrowsWhileRunning},
		{"SignSwarmMaxItemsClosesIt", testSignSwarmMaxItemsClosesIt},
		{"SwarmNestsChainsAndIsAChainStep", testSwarmNestsChainsAndIsAChainStep},
		{"EverySuccessCallbackFiresOnce", testEverySuccessCallbackFiresOnce},
		{"ErrorCallbackOnlyAfterFinalAttempt", testErrorCallbackOnlyAfterFinalAttempt},
		{"RetriedTaskSucceedsWithoutErrorCallback", testRetriedTaskSucceedsWithoutErrorCallback},
		{"NonRetryableSkipsRetries", testNonRetryableSkipsRetries},
		{"PanicIsAFailureWithStack", testPanicIsAFailureWithStack},
		{"TimeoutFailsTheAttempt", testTimeoutFailsTheAttempt},
		{"BindStoresArgs", testBindStoresArgs},
		{"LargeIntegersKeepTheirDigits", testLargeIntegersKeepTheirDigits},
		{"SuspendChainStopsBeforeNextStepAndResumeContinuesOnce", testSuspendChainStopsBeforeNextStepAndResumeContinuesOnce},
		{"SuspendedSwarmKeepsItsCapAndRunsEveryItemOnce", testSuspendedSwarmKeepsItsCapAndRunsEveryItemOnce},
		{"InterruptStopsRunningTaskAndResumeRunsItAgain", testInterruptStopsRunningTaskAndResumeRunsItAgain},
		{"CancelStopsEverythingWithoutErrorCallbacks", testCancelStopsEverythingWithoutErrorCallbacks},
		{"RequestsAppliedByWorker", testRequestsAppliedByWorker},
		{"BadFlowsAreRejectedBeforeStoring", testBadFlowsAreRejectedBeforeStoring},
		{"NothingOutlivesItsTTL", testNothingOutlivesItsTTL},
		{"RetriedTaskStartsItsFlowsOnce", testRetriedTaskStartsItsFlowsOnce},
		{"FreshIDsStartFlowsAgain", testFreshIDsStartFlowsAgain},
		{"FollowUpRefusedOnLastAttemptIsRecovered", testFollowUpRefusedOnLastAttemptIsRecovered},
		{"ErrorCallbackRefusedIsRecovered", testErrorCallbackRefusedIsRecovered},
		{"RefusedResumeIsRecovered", testRefusedResumeIsRecovered},
		{"InterruptWithNextStepUnsentResumesIt", testInterruptWithNextStepUnsentResumesIt},
		{"RefusedCancelReachesTheRunningTask", testRefusedCancelReachesTheRunningTask},
		{"LostStartReplyRunsOnce", testLostStartReplyRunsOnce},
		{"StartWithIDRunsOnce", testStartWithIDRunsOnce},
		{"RefusedAddRunsTheItemOnce", testRefusedAddRunsTheItemOnce},
		{"LostAddReplyAddsOnce", testLostAddReplyAddsOnce},
		{"TaskRootEndedWhileSuspendedFiresCallbacksOnResume", testTaskRootEndedWhileSuspendedFiresCallbacksOnResume},
		{"OverrunningAttemptTimesOut", testOverrunningAttemptTimesOut},
		{"FedSwarmRootStaysSmall", testFedSwarmRootStaysSmall},
		{"LongTaskOutlivesTheActiveTTL", testLongTaskOutlivesTheActiveTTL},
		{"CancelReachesTheFlowsItsTasksStarted", testCancelReachesTheFlowsItsTasksStarted},
		{"RetriedTaskDoesNotRestartAnExpiredChild", testRetriedTaskDoesNotRestartAnExpiredChild},
		{"SuspendedRetryKeepsItsAttempts", testSuspendedRetryKeepsItsAttempts},
		{"ErrorsUsersMatch", testErrorsUsersMatch},
		{"RetryRunsAgainFromWhereItFailed", testRetryRunsAgainFromWhereItFailed},
		{"RetrySwarmRunsWhatItDidNotFinish", testRetrySwarmRunsWhatItDidNotFinish},
		{"RetryRefusesWhatHasNotFailed", testRetryRefusesWhatHasNotFailed},
		{"EmptySwarmClosedCompletes", testEmptySwarmClosedCompletes},
		{"LostRetryReplyRunsOnce", testLostRetryReplyRunsOnce},
		{"RetryStartsATasksFlowsAfresh", testRetryStartsATasksFlowsAfresh},
		{"RetryWaitsForTheCallbacks", testRetryWaitsForTheCallbacks},
		{"NamedFlowsCarryTheirMetadata", testNamedFlowsCarryTheirMetadata},
		{"BadNamesAndMetadataAreRefused", testBadNamesAndMetadataAreRefused},
		{"SettledSwarmListsEveryItem", testSettledSwarmListsEveryItem},
		{"MiddlewareWrapsEveryExecutionInOrder", testMiddlewareWrapsEveryExecutionInOrder},
		{"MiddlewarePanicsAndRefusals", testMiddlewarePanicsAndRefusals},
		{"MiddlewareCarriesAndHearsEnds", testMiddlewareCarriesAndHearsEnds},
		{"MiddlewareHearsSwarmsFanOut", testMiddlewareHearsSwarmsFanOut},
		{"MiddlewareFansOutNestedAndAdded", testMiddlewareFansOutNestedAndAdded},
		{"StartersCannotHideAFailedStart", testStartersCannotHideAFailedStart},
		{"StopEndsTheRetriesOfAnUnreachableStore", testStopEndsTheRetriesOfAnUnreachableStore},
		{"StopRecordsWhatItsCanceledTasksReturn", testStopRecordsWhatItsCanceledTasksReturn},
	}
}

// setup returns the environment of a test that runs tasks.
func (h Harness) setup(t *testing.T, tasks ...task.Registrable) Env {
	t.Helper()
	return h.New(t, nil, tasks...)
}

// setupWith is setup with client options.
func (h Harness) setupWith(t *testing.T, opts []mageflow.Option, tasks ...task.Registrable) Env {
	t.Helper()
	return h.New(t, opts, tasks...)
}

// waitFor is how long a test waits for anything (nanoseconds): 20 s, or
// the longest Wait of the harnesses run in this process.
var waitFor atomic.Int64

func init() { waitFor.Store(int64(20 * time.Second)) }

// testCtx is a context bounded well within the test's time.
func testCtx(t *testing.T) context.Context {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), time.Duration(waitFor.Load()))
	t.Cleanup(cancel)
	return ctx
}

// NewEnv returns the environment of a client with options opts over
// backend b and store s, with tasks registered and its worker started;
// the worker stops when t ends, waiting up to a minute for running tasks.
func NewEnv(t testing.TB, b backend.Backend, s Store, opts []mageflow.Option, tasks ...task.Registrable) Env {
	t.Helper()
	// The client gets the store itself, not the wrapper, so that it sees
	// what the store implements besides storage.Store (Notifier, Requests).
	c, err := mageflow.New(b, s.Store, opts...)
	if err != nil {
		t.Fatal(err)
	}
	if err := c.Register(tasks...); err != nil {
		t.Fatal(err)
	}
	stop, err := c.StartWorker(context.Background())
	if err != nil {
		t.Fatal(err)
	}
	var once sync.Once
	stopNow := func() {
		once.Do(func() {
			ctx, cancel := context.WithTimeout(context.Background(), time.Minute)
			defer cancel()
			if err := stop(ctx); err != nil {
				t.Errorf("stop worker: %v", err)
			}
		})
	}
	stopWithin := func(ctx context.Context) error {
		var err error
		once.Do(func() { err = stop(ctx) })
		return err
	}
	t.Cleanup(stopNow)
	return Env{Client: c, Store: s.Store, Records: s.Records, KeyTTLs: s.KeyTTLs, Stop: stopNow, StopWithin: stopWithin}
}

// Package flowtest runs flows in a test, in memory, without Hatchet or
// Redis, and asserts what they dispatched.
//
// [New] returns an [Env]: a mageflow client on the in-memory backend and
// store, with a [Clock] the store reads (advance it to expire records), a
// worker that is stopped when the test ends, and a record of every task
// run dispatched. Register the tasks the flow uses, start it with
// [flow.Start] or [Run], then assert:
//
//	e := flowtest.New(t)
//	e.Register(reserve, charge, ship)
//	out, err := flowtest.Run(t, e, checkout, Order{ID: 7})
//	flowtest.AssertTaskDispatched(t, e, charge, flowtest.Partial(Payment{Order: 7}))
//	flowtest.AssertChainDispatched(t, e, reserve, charge, ship)
//
// Matches are typed by the task's input: [Exact] compares with go-cmp,
// [Partial] compares only the fields set in the wanted value, [Where] takes
// a predicate and [Anything] accepts any input. A failed assertion says what
// was expected and lists what was dispatched, with a diff per candidate.
//
// Tasks can be replaced ([Stub]) and made to misbehave: [Env.FailOnAttempt]
// fails an attempt of a task, [Env.DeliverTwice] delivers a dispatch twice
// and [Env.CrashAfterComplete] loses the dispatches that follow a task, as a
// worker dying at that point would; the flow must come out the same.
// [Env.Quiesce] waits until nothing runs any more.
//
// The helpers take a testing.TB: *testing.T, *testing.B or *testing.F.
package flowtest

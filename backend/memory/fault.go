package memory

import (
	"errors"
	"fmt"
	"slices"
)

// ErrCrashed is wrapped by the error of a Dispatch blocked by a
// [CrashBeforeDispatch] fault.
var ErrCrashed = errors.New("backend/memory: worker crashed before dispatch (injected fault)")

// FaultKind is a kind of injected misbehaviour.
type FaultKind int

const (
	// DuplicateDelivery makes the next matching Dispatch create its run and
	// a second run of the same payload and metadata with a different run
	// id, both delivered concurrently, as a queue that publishes twice
	// would. The second run ignores the dedupe key. A Dispatch answered
	// from the dedupe map creates nothing and does not fire the fault. The
	// fault matches on the dispatched task's name.
	DuplicateDelivery FaultKind = iota + 1

	// Redeliver makes the run of a matching delivery whose handler returned
	// nil be delivered once more, with the same RunID and Attempt, as when
	// a worker died after finishing and before acknowledging.
	Redeliver

	// CrashBeforeDispatch simulates a worker that dies after its task
	// completed but before it sent the follow-up dispatches. It fires on
	// the first Dispatch made with the handler's context (or one derived
	// from it) of a matching delivery: that Dispatch and every later one
	// from the same delivery fail with an error wrapping [ErrCrashed] and
	// backend.ErrStopped (the worker is gone; sending again is no use) and
	// dispatch nothing. After the handler returns, whatever it returned,
	// the run is delivered again with the same RunID and Attempt; that is
	// not counted as a retry. The fault fires only when a Dispatch was
	// actually blocked: a matching delivery that dispatches nothing leaves
	// it armed.
	CrashBeforeDispatch
)

// String returns the kind's Go name.
func (k FaultKind) String() string {
	switch k {
	case DuplicateDelivery:
		return "DuplicateDelivery"
	case Redeliver:
		return "Redeliver"
	case CrashBeforeDispatch:
		return "CrashBeforeDispatch"
	}
	return fmt.Sprintf("FaultKind(%d)", int(k))
}

// Fault is a misbehaviour to inject with [Backend.Inject].
type Fault struct {
	// Task is the name of the task the fault applies to; "" matches every
	// task.
	Task string
	// Kind is what goes wrong.
	Kind FaultKind
	// Times is how many times the fault fires; 0 means once.
	Times int
}

// armedFault is an injected fault and how many times it may still fire.
type armedFault struct {
	Fault
	left int
}

// Inject arms f. Faults fire in the order they were injected; each fires
// f.Times times (once when Times is 0 or less) and is then gone. Inject may
// be called at any time. It panics on an unknown [FaultKind], which is a bug
// in the test that calls it.
func (b *Backend) Inject(f Fault) {
	switch f.Kind {
	case DuplicateDelivery, Redeliver, CrashBeforeDispatch:
	default:
		panic(fmt.Sprintf("backend/memory: inject: unknown fault kind %v", f.Kind))
	}
	left := max(f.Times, 1)
	b.mu.Lock()
	defer b.mu.Unlock()
	b.faults = append(b.faults, &armedFault{Fault: f, left: left})
}

// fire consumes one firing of the first armed fault of kind k matching task
// and reports whether there was one. b.mu must be held.
func (b *Backend) fire(k FaultKind, task string) bool {
	for i, f := range b.faults {
		if f.Kind != k || (f.Task != "" && f.Task != task) {
			continue
		}
		f.left--
		if f.left == 0 {
			b.faults = slices.Delete(b.faults, i, i+1)
		}
		b.stats.FaultsFired++
		return true
	}
	return false
}

// crash reports whether a Dispatch from delivery a must fail because a
// [CrashBeforeDispatch] fault fired for it. b.mu must be held.
func (b *Backend) crash(a *attempt) bool {
	if !a.crashed && b.fire(CrashBeforeDispatch, a.run.task.spec.Name) {
		a.crashed = true
	}
	return a.crashed
}

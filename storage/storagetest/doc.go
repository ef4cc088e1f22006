// Package storagetest is the conformance suite of [storage.Store]: every
// store runs it, so every store keeps the same protocol.
//
// A store's test calls [Run] with a function that returns a fresh, empty
// store:
//
//	func TestConformance(t *testing.T) {
//		storagetest.Run(t, func(t *testing.T) storage.Store { return memory.New() })
//	}
//
// Each case of the suite is a parallel subtest named after what it checks,
// with a one-sentence rule that is logged when the case fails. The rules
// are those of the storage package documentation and of package
// storage/transition; a disagreement between a store and a case is a bug in
// one of them, never a reason to skip the case.
//
// The suite uses only the [storage.Store] interface (and
// [storage.Notifier] when the store has it). It builds graphs by hand, with
// a fresh root id per graph, plays the engine itself (claim, complete or
// fail, send, acknowledge), waits only with deadlines, and relies on no
// timing but the TTLs it sets. It can therefore run against a store that
// other tests share, such as one Redis server or Redis Cluster, provided
// newStore isolates each call (a key prefix per store is enough).
package storagetest

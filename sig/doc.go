// Package sig holds the types shared by every layer of mageflow: record ids,
// statuses, node kinds, the stored record of one node of a started graph,
// outbox dispatches and error information.
//
// It is a leaf package (standard library only) so that stores, backends and
// the engine can all speak about the same records without importing each
// other.
//
// # Ids
//
// A graph's root id is a time-ordered random string without dots. Every other
// node's id is derived from its parent's: [ChildID] for chain steps and swarm
// items, [SuccessID] and [ErrorID] for callbacks. The root of any id is its
// prefix up to the first dot ([RootOf]), which lets a store keep a whole graph
// under one hash slot.
package sig

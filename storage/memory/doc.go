// Package memory is an in-process [storage.Store]: records in maps behind
// one mutex, each transition run by package storage/transition inside that
// lock, so every transition is atomic. Expired records are invisible at
// once and swept now and then.
//
// It is the store of the embedded default (with backend/memory) for
// development and tests: its data lives as long as the process. The clock is
// injectable ([WithClock]) so tests can pass TTLs without sleeping.
package memory

// Package bench holds mageflow's benchmarks against its own limits and
// against a peer (machinery), side by side on one machine. It is a module
// of its own so that the library does not depend on the peer. See
// BENCHMARKS.md at the repository's root for the figures and how to
// reproduce each.
package bench

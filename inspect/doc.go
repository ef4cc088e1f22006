// Package inspect reads what a store holds, for tools that show and steer
// running flows (the mageflow command): a listing of the flows, newest
// first, with their progress; and a flow as a tree of its steps, items and
// callbacks. Progress comes from the counts a chain and a swarm keep, so a
// listing reads one record per flow however large its swarms, and a tree
// loads at most a given number of a container's children.
package inspect

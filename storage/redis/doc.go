// Package redis is the Redis [storage.Store] (import it as redisstore): the
// store production deployments run, with the Hatchet backend.
//
//	rc := goredis.NewClient(&goredis.Options{Addr: "127.0.0.1:6379"})
//	store, err := redisstore.New(rc, redisstore.WithPrefix("myapp"))
//
// It takes the caller's go-redis client (any goredis.UniversalClient:
// a single server, Sentinel, or Cluster, with the TLS and ACL settings the
// caller chose) and never closes it.
//
// # The server
//
// The server must not evict keys: [New] checks that every master's
// maxmemory-policy is noeviction and refuses any other (every key of the
// store has a TTL, so even volatile-lru drops running flows);
// [WithoutPolicyCheck] skips the check where a service hides INFO. A full
// server refuses writes, which the store reports as [ErrFull] and the
// engine repeats. [WithReplicas] makes each write wait for replicas, so a
// failover loses nothing acknowledged. Reads ([Store.Get], the listing,
// [Store.Ended]) are plain reads and subscriptions that a read-only ACL
// user may run. RELIABILITY.md ("Running Redis for mageflow") gives the
// persistence, replica, Cluster and ACL settings and what each costs.
//
// # Keys
//
// A graph lives in one hash, under
//
//	<prefix>:{<shard>}:<root id>
//
// whose fields are record ids less the root, which the key names ([Field]:
// "" for the root, ".3" for its item 3, ".3.s0" for that item's first
// success callback), and whose values are records encoded with msgpack
// (short keys; times and TTLs in milliseconds; a task's kind, a pending
// status and an update time that is the creation time left out). An item
// of a swarm that ended also notes its outcome, as the swarm's result
// lists it, in a field of its own (its field and "="), until the swarm
// ends, done, failed or stopped: the swarm's end reads those short
// strings, not every item's record (a swarm of 20,000 items ended in one
// call of 25 ms of Redis time rather than 56-67). While the swarm runs, an
// ended item's result is so held twice (TestOutcomeNotesGoWithTheirSwarm
// checks that none outlives its swarm). The shard (the
// FNV-1a hash of the root id modulo [WithShards], 16 by default) between
// braces is a hash tag: every key of a graph is in its shard's slot, with
// the shard's index of owed records,
//
//	<prefix>:{<shard>}!owed
//
// a sorted set of the ids of records whose outbox holds effects, by the
// time since when, which every script that changes an outbox updates in
// the same call. So every script touches one slot and works on Redis
// Cluster, and [Store.Due] finds owed effects with one call per shard
// whatever the number of stored graphs. Ids encode a record's place (a chain step
// or swarm item is <parent>.<index>, a callback <parent>.s<i> or
// <parent>.e<i>), so records hold no lists of children: a swarm item is
// found from its index, and "start the next items" and "an item ended"
// cost the same however many items the swarm has. A pending item of a
// swarm of tasks takes about 76 bytes, its task's name and its creation
// time (MEMORY USAGE, by TestMemoryPerPendingSwarmItem, for a task named
// "resize-image"; 148 bytes with full ids as fields and every field
// written).
//
// Records that end are announced on the shard channel
// <prefix>:{<shard>}:<root id>:ended (in the graph's slot), which [Store.Ended]
// subscribes to, so waiting for a run costs no polling.
//
// # Round trips
//
// Every operation is one round trip, one command or a share of one (but
// Get, two plain reads in one round trip): an FCALL of the
// operation's function in the store's library, mageflow_<hash of the
// code> (a server that lacks the library, fresh or restarted without
// persistence, gets it with FUNCTION LOAD on the first call, on every
// master of a cluster). On servers without functions (before Redis 7) the
// operation is an EVALSHA of a script with the same code, and records
// that end are announced with PUBLISH, for lack of sharded pub/sub
// (TestConformanceWithoutFunctions, and the flow suite with
// MAGEFLOW_TEST_STORE=redis-legacy, run on a server with those commands
// renamed away).
// TestOneRoundTripPerOperation asserts it with a go-redis hook. A library
// loaded once saves each call the cost of defining the protocol's
// helpers: about 9 µs of Redis time per call here (37 µs per call as
// scripts, 28 µs as functions, INFO commandstats over the 20,000-item
// swarm benchmark of bench/).
//
//	operation    commands  code
//	CreateGraph  1         create.lua
//	StartGraph   1         start.lua
//	Claim        1 or less claim.lua (batch.lua)
//	Complete     1 or less complete.lua (batch.lua)
//	Fail         1 or less fail.lua (batch.lua)
//	AddItems     1         add.lua
//	CloseSwarm   1         close.lua
//	Apply        1         apply.lua
//	Ack          1         ack.lua
//	Owed         1         owed.lua
//	Touch        1         touch.lua
//	Due          1/shard   due.lua
//	Get          2         HGET, PTTL (pipelined; plain reads)
//	Request      1         request.lua
//
// Claims, completions and failures of one graph share calls under load:
// while two calls for a graph are under way, the next ones wait and go
// together in one call of batch.lua (at most 128, about 1 MiB of
// arguments), which runs each as its own call would, in order, and
// writes once at the end. A lone operation (a chain's step) goes at once,
// alone, as before; the items of a wide swarm share calls. Most of what
// an operation costs Redis is the call around it (reading the request,
// the script's setup, its writes of the expiry and the indexes), so a
// batch costs much less per operation: a swarm of 10,000 no-op items on
// the memory backend (bench/, BenchmarkSwarmScale) went from 8,000-14,000
// to about 22,000 items/s and from 27-42 to 17 µs of Redis time per
// operation. When an operation of a batch raises an error (a stale
// completion, a canceled task) the call wrote nothing: that operation
// answers with its error and the others go again, those before it first.
// A batch's call carries the values of its first operation's context and
// the latest of their deadlines; a caller that gives up before its
// operation is sent takes it out of the batch.
// TestBatchAnswersAsCallsOneByOne checks, over drawn graphs and drawn
// operations, that a batch answers each operation as the same operations
// one by one do and leaves the same graph, expiry and indexes.
//
// The code is storage/transition's rules in Lua (lua/lib.lua), checked
// against the Go version by storage/storagetest (with functions and, in
// TestConformanceScripts, as scripts). It buffers its writes and makes
// them at the end, so an operation that stops on an error writes nothing.
//
// # Expiry
//
// The graph's hash carries the graph's active TTL from its latest write,
// and its done TTL once it ended; a shard's index lives at least as long
// as the graphs it names (an entry whose graph expired is dropped by the
// next Due); the list of lifecycle requests, <prefix>:requests, lives
// until the latest deadline of the requests it holds (a request no worker
// took by its deadline is dropped, never applied); with [WithReplicas],
// a shard's sync key <prefix>:{<shard>}!sync lives 10 seconds after its
// latest write; no key of the store lives without a TTL.
//
// # Errors
//
// Errors are translated in one place: the scripts' answers become the
// storage sentinels, a key or field that is not ours gives
// storage.ErrCorrupt naming it, a full server gives [ErrFull], a write
// too few replicas acknowledged [ErrNotReplicated], and an unreachable
// server gives an error wrapping go-redis's.
package redis

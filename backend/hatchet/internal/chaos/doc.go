// Package chaos is the reliability suite of mageflow on Hatchet: real worker
// processes (chaosworker) on a local Hatchet engine and a Redis server of
// its own, with faults injected while flows run: workers killed with
// SIGKILL, a worker frozen after a task's result is stored and before what
// follows it is sent, Redis killed and restarted on its append-only file,
// the engine restarted, triggers refused for seconds, store replies cut
// after Redis applied the command (proxy.go), Interrupt and Cancel across
// worker kills. Every run ends with an audit from the outside: the
// tasks log each execution to Redis, and the audit checks every flow's
// result, every callback's executions, every record's TTL, and that no
// flow is stuck.
//
// `make chaos` runs each scenario CHAOS_RUNS times (20) and writes the
// figures to CHAOS_REPORT; `make test` runs each scenario once, smaller.
// RELIABILITY.md, at the root of the repository, describes the scenarios
// and holds the figures of the last full run.
package chaos

package main

import (
	"fmt"
	"strings"
)

// row is one line of the table: a figure of mageflow, what it is compared
// with, and the floor it must meet.
type row struct {
	workload string
	ours     string // "name unit"
	base     string // "name unit", or "" for a figure on its own
	// ratio says how to compare: "ours/base", "base/ours", or "".
	ratio string
	// floor is checked against ours, or against the ratio when there is
	// one: ">= v" or "<= v", or "" for none.
	floor  string
	floorV float64
	// onRatio checks the floor against the ratio instead of ours.
	onRatio bool
}

var rows = []row{
	{workload: "Chain of 1,000 no-op steps, memory backend + memory store: time per step (baseline: the same calls made directly)", ours: "BenchmarkChainSteps/memory ns/step", base: "BenchmarkChainSteps/direct ns/step", ratio: "ours/base", floor: "<=", floorV: 2000},
	{workload: "  same: allocations per step", ours: "BenchmarkChainSteps/memory allocs/step"},
	{workload: "Swarm of 100,000 no-op items, 1,000 at once, memory + memory: items/s", ours: "BenchmarkSwarmItems/memory items/s", floor: ">=", floorV: 100_000},
	{workload: "Chain of 1,000 steps, memory backend + Redis store: time per step", ours: "BenchmarkChainSteps/redis ns/step", floor: "<=", floorV: 150_000},
	{workload: "  same: Redis calls (FCALL, one round trip each) per store operation", ours: "BenchmarkChainSteps/redis calls/op", floor: "<=", floorV: 1},
	{workload: "  same: all Redis round trips per store operation (with the notifier's)", ours: "BenchmarkChainSteps/redis trips/op"},
	{workload: "  same: store operations per task run", ours: "BenchmarkChainSteps/redis ops/task"},
	{workload: "Swarm of 20,000 items, 1,000 at once, memory backend + Redis store: items/s", ours: "BenchmarkSwarmItems/redis items/s", floor: ">=", floorV: 30_000},
	{workload: "  same: Redis calls (FCALL, one round trip each) per store operation", ours: "BenchmarkSwarmItems/redis calls/op", floor: "<=", floorV: 1},
	{workload: "  same: store operations per task run (the worker that completes an item claims the next)", ours: "BenchmarkSwarmItems/redis ops/task", floor: "<=", floorV: 1.1},
	{workload: "Redis memory per pending swarm item (bytes)", ours: "BenchmarkRedisPendingItem/redis B/item", floor: "<=", floorV: 100},
	{workload: "Swarm of 1,000,000 items, 1,000 at once, memory + memory: items/s (vs 10,000 items)", ours: "BenchmarkSwarmScale/memory/1M items/s", base: "BenchmarkSwarmScale/memory/10k items/s", ratio: "ours/base", floor: ">=", floorV: 300_000},
	{workload: "  same: items/s at 1,000,000 over items/s at 10,000", ours: "BenchmarkSwarmScale/memory/1M items/s", base: "BenchmarkSwarmScale/memory/10k items/s", ratio: "ours/base", floor: ">=", floorV: 0.8, onRatio: true},
	{workload: "  same: peak RSS the run added, per item (bytes)", ours: "BenchmarkSwarmScale/memory/1M rss-B/item", floor: "<=", floorV: 500},
	{workload: "Swarm of 1,000,000 items, memory backend + Redis store: items/s (vs 10,000 items)", ours: "BenchmarkSwarmScale/redis/1M items/s", base: "BenchmarkSwarmScale/redis/10k items/s", ratio: "ours/base", floor: ">=", floorV: 0.8, onRatio: true},
	{workload: "  same, 10,000 items: Redis time per store operation (INFO commandstats, us; a call may run a batch)", ours: "BenchmarkSwarmScale/redis/10k us/op", floor: "<=", floorV: 12},
	{workload: "  same: Redis time per item (us)", ours: "BenchmarkSwarmScale/redis/10k us/task"},
	{workload: "  same: store operations per item", ours: "BenchmarkSwarmScale/redis/10k ops/task"},
	{workload: "  same: Redis calls per store operation", ours: "BenchmarkSwarmScale/redis/10k calls/op"},
	{workload: "Swarm of 1,000,000 items, memory backend + 3-master Redis Cluster: items/s (vs 10,000 items)", ours: "BenchmarkSwarmScale/cluster/1M items/s", base: "BenchmarkSwarmScale/cluster/10k items/s", ratio: "ours/base", floor: ">=", floorV: 0.8, onRatio: true},
	{workload: "Chain of 1,000 steps, Redis of the benchmark's own, no AOF: time per step", ours: "BenchmarkChainSteps/aof-no ns/step"},
	{workload: "  same, AOF with appendfsync everysec (vs no AOF)", ours: "BenchmarkChainSteps/aof-everysec ns/step", base: "BenchmarkChainSteps/aof-no ns/step", ratio: "ours/base"},
	{workload: "  same, AOF with appendfsync always (vs no AOF)", ours: "BenchmarkChainSteps/aof-always ns/step", base: "BenchmarkChainSteps/aof-no ns/step", ratio: "ours/base"},
	{workload: "  same, a primary and a replica: WithReplicas(1) (vs the same pair without it)", ours: "BenchmarkChainSteps/replica-wait ns/step", base: "BenchmarkChainSteps/replica-nowait ns/step", ratio: "ours/base"},
	{workload: "  same, WithReplicas(1): round trips per store operation (each FCALL, sync write, WAIT)", ours: "BenchmarkChainSteps/replica-wait trips/op", floor: "<=", floorV: 1.1},
	{workload: "Swarm of 20,000 items, Redis of the benchmark's own, no AOF: items/s", ours: "BenchmarkSwarmItems/aof-no items/s"},
	{workload: "  same, AOF with appendfsync everysec (vs no AOF)", ours: "BenchmarkSwarmItems/aof-everysec items/s", base: "BenchmarkSwarmItems/aof-no items/s", ratio: "ours/base"},
	{workload: "  same, AOF with appendfsync always (vs no AOF)", ours: "BenchmarkSwarmItems/aof-always items/s", base: "BenchmarkSwarmItems/aof-no items/s", ratio: "ours/base"},
	{workload: "  same, a primary and a replica: WithReplicas(1) (vs the same pair without it)", ours: "BenchmarkSwarmItems/replica-wait items/s", base: "BenchmarkSwarmItems/replica-nowait items/s", ratio: "ours/base"},
	{workload: "Hatchet + Redis, chain of 20 vs Hatchet's DAG (WithParents): ms per step", ours: "BenchmarkChain20 ms/step", base: "BenchmarkHatchetDAG20 ms/step", ratio: "ours/base", floor: "<=", floorV: 0.6, onRatio: true},
	{workload: "Hatchet + Redis, swarm of 500 vs Hatchet's fan-out (RunMany): items/s", ours: "BenchmarkSwarm500 items/s", base: "BenchmarkHatchetFanout500 items/s", ratio: "ours/base", floor: ">=", floorV: 1.0, onRatio: true},
	{workload: "Chain of 1,000 steps vs machinery v2 (same Redis): time per step", ours: "BenchmarkChain1000/mageflow ns/step", base: "BenchmarkChain1000/machinery ns/step", ratio: "base/ours", floor: ">=", floorV: 10, onRatio: true},
	{workload: "Group of 2,000 + callback vs machinery chord: tasks/s", ours: "BenchmarkGroupChord/2000/mageflow tasks/s", base: "BenchmarkGroupChord/2000/machinery tasks/s", ratio: "ours/base", floor: ">=", floorV: 10, onRatio: true},
	{workload: "  callbacks fired (mageflow / machinery)", ours: "BenchmarkGroupChord/2000/mageflow callbacks", base: "BenchmarkGroupChord/2000/machinery callbacks"},
	{workload: "Group of 5,000 + callback vs machinery chord: tasks/s", ours: "BenchmarkGroupChord/5000/mageflow tasks/s", base: "BenchmarkGroupChord/5000/machinery tasks/s", ratio: "ours/base", floor: ">=", floorV: 10, onRatio: true},
	{workload: "  callbacks fired (mageflow / machinery)", ours: "BenchmarkGroupChord/5000/mageflow callbacks", base: "BenchmarkGroupChord/5000/machinery callbacks"},
}

// printTable prints the rows whose figures were measured.
func printTable(res results) {
	fmt.Println("| Workload | mageflow | baseline or peer | ratio | floor | holds |")
	fmt.Println("| --- | ---: | ---: | ---: | --- | --- |")
	for _, r := range rows {
		ours, ok := get(res, r.ours)
		if !ok {
			continue
		}
		base, hasBase := get(res, r.base)
		cells := []string{r.workload, figure(ours, r.ours), "", "", "", ""}
		if hasBase {
			cells[2] = figure(base, r.base)
		}
		ratio := 0.0
		switch {
		case r.ratio == "ours/base" && hasBase && base != 0:
			ratio = ours / base
			cells[3] = trim(ratio)
		case r.ratio == "base/ours" && hasBase && ours != 0:
			ratio = base / ours
			cells[3] = trim(ratio)
		case r.ratio != "":
			cells[3] = "n/a"
		}
		v := ours
		if r.onRatio {
			v = ratio
		}
		if r.floor != "" {
			cells[4] = r.floor + " " + trim(r.floorV)
			if r.onRatio {
				cells[4] = "ratio " + cells[4]
			}
			if r.onRatio && cells[3] == "n/a" {
				cells[5] = "not measured"
			} else if (r.floor == "<=" && v <= r.floorV) || (r.floor == ">=" && v >= r.floorV) {
				cells[5] = "yes"
			} else {
				cells[5] = "**no**"
			}
		}
		fmt.Println("| " + strings.Join(cells, " | ") + " |")
	}
}

// get returns the median of "name unit".
func get(res results, key string) (float64, bool) {
	if key == "" {
		return 0, false
	}
	name, unit, _ := strings.Cut(key, " ")
	return res.median(name, unit)
}

// figure formats v with its unit.
func figure(v float64, key string) string {
	_, unit, _ := strings.Cut(key, " ")
	return trim(v) + " " + unit
}

func trim(v float64) string {
	switch {
	case v >= 1000:
		return fmt.Sprintf("%.0f", v)
	case v >= 10:
		return fmt.Sprintf("%.1f", v)
	default:
		return fmt.Sprintf("%.4g", v)
	}
}

// Command report runs mageflow's benchmarks side by side, against its own
// floors and against its peers, and prints the table of BENCHMARKS.md:
//
//	go run ./bench/cmd/report            # every group
//	go run ./bench/cmd/report -only local,redis
//
// Run it from the repository. It runs `go test -bench` in bench/ (the
// library alone, and machinery on the same Redis) and in backend/hatchet
// (a local Hatchet engine it starts on PostgreSQL), takes the median of
// the runs of each figure, and prints the machine, the method and a
// Markdown table with the ratios.
package main

import (
	"bytes"
	"flag"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
)

// group is a set of benchmarks run by one `go test` command.
type group struct {
	name, dir, pattern, benchtime string
	count                         int
}

func main() {
	only := flag.String("only", "local,redis,scale,redis-config,peer,hatchet", "groups to run: local, redis, scale (10,000 and 1,000,000 items on memory, Redis and a Redis Cluster), redis-config (servers of its own: AOF, replicas), peer, hatchet")
	count := flag.Int("count", 5, "runs of each benchmark of the local and redis groups (-count)")
	peerCount := flag.Int("peer-count", 1, "runs of each peer benchmark")
	scaleCount := flag.Int("scale-count", 3, "runs of each scale benchmark")
	hatchetCount := flag.Int("hatchet-count", 3, "runs of each Hatchet benchmark")
	flag.Parse()

	root, err := repoRoot()
	if err != nil {
		fmt.Fprintln(os.Stderr, "report:", err)
		os.Exit(2)
	}
	groups := []group{
		{"local", "bench", `^Benchmark(ChainSteps|SwarmItems)$/^(memory|direct)$`, "1x", *count},
		{"redis", "bench", `^Benchmark(ChainSteps|SwarmItems|RedisPendingItem)$/^(redis)?$`, "1x", *count},
		{"scale", "bench", `^BenchmarkSwarmScale$`, "1x", *scaleCount},
		{"redis-config", "bench", `^Benchmark(ChainSteps|SwarmItems)$/^(aof-no|aof-everysec|aof-always|replica-nowait|replica-wait)$`, "1x", *count},
		{"peer", "bench", `^Benchmark(Chain1000|GroupChord)$`, "1x", *peerCount},
		{"hatchet", "backend/hatchet", `^Benchmark(Chain20|HatchetDAG20|Swarm500|HatchetFanout500)$`, "1x", *hatchetCount},
	}
	want := strings.Split(*only, ",")
	res := results{}
	var cmds []string
	failed := false
	for _, g := range groups {
		if !slices.Contains(want, g.name) {
			continue
		}
		args := []string{"test", "-run", "^$", "-bench", g.pattern, "-benchtime", g.benchtime, "-count", fmt.Sprint(g.count), "-timeout", "90m", "."}
		cmd := fmt.Sprintf("(cd %s && go %s)", g.dir, strings.Join(quote(args), " "))
		cmds = append(cmds, cmd)
		fmt.Fprintln(os.Stderr, "report: running", cmd)
		var out bytes.Buffer
		c := exec.Command("go", args...)
		c.Dir = filepath.Join(root, g.dir)
		c.Stdout, c.Stderr = &out, os.Stderr
		err := c.Run()
		other := parse(bytes.NewReader(out.Bytes()), res)
		for _, l := range other {
			fmt.Fprintln(os.Stderr, "  |", l)
		}
		if err != nil {
			fmt.Fprintf(os.Stderr, "report: group %s failed: %v\n", g.name, err)
			failed = true
		}
	}
	redisURL := os.Getenv("MAGEFLOW_REDIS_URL")
	if redisURL == "" {
		redisURL = "redis://127.0.0.1:6379/0"
	}
	fmt.Println("Machine:")
	for _, l := range machine(redisURL) {
		fmt.Println("- " + l)
	}
	fmt.Println()
	fmt.Println("Commands (each figure is the median of its runs):")
	fmt.Println()
	fmt.Println("```sh")
	for _, c := range cmds {
		fmt.Println(c)
	}
	fmt.Println("```")
	fmt.Println()
	printTable(res)
	if failed {
		os.Exit(1)
	}
}

// quote quotes the arguments a shell would split.
func quote(args []string) []string {
	out := make([]string, len(args))
	for i, a := range args {
		if strings.ContainsAny(a, "^$|()/*? ") {
			a = "'" + a + "'"
		}
		out[i] = a
	}
	return out
}

// repoRoot finds the directory that holds go.work, from the working
// directory up.
func repoRoot() (string, error) {
	dir, err := os.Getwd()
	if err != nil {
		return "", err
	}
	for {
		if _, err := os.Stat(filepath.Join(dir, "go.work")); err == nil {
			return dir, nil
		}
		parent := filepath.Dir(dir)
		if parent == dir {
			return "", fmt.Errorf("run it inside the repository (no go.work above %s)", dir)
		}
		dir = parent
	}
}

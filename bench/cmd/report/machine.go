package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"runtime"
	"slices"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// machine describes where the figures were taken.
func machine(redisURL string) []string {
	model := "unknown"
	if b, err := os.ReadFile("/proc/cpuinfo"); err == nil {
		for l := range strings.SplitSeq(string(b), "\n") {
			if k, v, ok := strings.Cut(l, ":"); ok && strings.TrimSpace(k) == "model name" {
				model = strings.TrimSpace(v)
				break
			}
		}
	}
	mem := "unknown"
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		for l := range strings.SplitSeq(string(b), "\n") {
			if v, ok := strings.CutPrefix(l, "MemTotal:"); ok {
				var kb int64
				fmt.Sscan(strings.TrimSpace(strings.TrimSuffix(strings.TrimSpace(v), "kB")), &kb)
				mem = fmt.Sprintf("%.1f GiB", float64(kb)/(1<<20))
			}
		}
	}
	goVersion := runtime.Version()
	if out, err := exec.Command("go", "env", "GOVERSION").Output(); err == nil {
		goVersion = strings.TrimSpace(string(out))
	}
	return []string{
		fmt.Sprintf("CPU: %s, %d cores (GOMAXPROCS %d)", model, runtime.NumCPU(), runtime.GOMAXPROCS(0)),
		"Memory: " + mem,
		fmt.Sprintf("Go: %s %s/%s", goVersion, runtime.GOOS, runtime.GOARCH),
		"Redis: " + redisVersion(redisURL),
		"Redis round trip: " + redisRoundTrip(redisURL),
		"Date: " + time.Now().UTC().Format("2006-01-02 15:04 UTC"),
	}
}

// redisVersion asks the Redis at url for its version.
func redisVersion(url string) string {
	opt, err := goredis.ParseURL(url)
	if err != nil {
		return "bad URL " + url
	}
	c := goredis.NewClient(opt)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	info, err := c.Info(ctx, "server").Result()
	if err != nil {
		return "not reachable at " + url
	}
	for l := range strings.SplitSeq(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(l), "redis_version:"); ok {
			return v + " at " + url
		}
	}
	return "unknown at " + url
}

// redisRoundTrip times PINGs to the Redis at url on one connection: the
// machine's floor under any store call, which the chain step on Redis
// makes once.
func redisRoundTrip(url string) string {
	opt, err := goredis.ParseURL(url)
	if err != nil {
		return "bad URL " + url
	}
	opt.PoolSize = 1
	c := goredis.NewClient(opt)
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	const warm, n = 200, 2000
	took := make([]time.Duration, 0, n)
	for i := range warm + n {
		start := time.Now()
		if err := c.Ping(ctx).Err(); err != nil {
			return "not measured: " + err.Error()
		}
		if i >= warm {
			took = append(took, time.Since(start))
		}
	}
	slices.Sort(took)
	return fmt.Sprintf("PING on one connection, median %.0f µs, 90th percentile %.0f µs (%d pings)",
		us(took[n/2]), us(took[n*9/10]), n)
}

func us(d time.Duration) float64 { return float64(d) / float64(time.Microsecond) }

package redistest

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// clusterMasters is the number of masters of the test cluster.
const clusterMasters = 3

var cluster struct {
	once  sync.Once
	addrs []string
	procs []*exec.Cmd
	dir   string
	err   error
}

// Cluster returns a client of a local 3-master Redis Cluster, started on
// free ports the first time a test asks and stopped by [Stop]. It needs
// redis-server on the PATH.
func Cluster(t testing.TB) *goredis.ClusterClient {
	t.Helper()
	cluster.once.Do(startCluster)
	if cluster.err != nil {
		unavailable(t, "no local Redis Cluster: %v", cluster.err)
	}
	c := goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: cluster.addrs})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// ClusterURL returns the URL of the cluster of [Cluster] as
// goredis.ParseClusterURL reads it: one node and the others as addr
// parameters. Call it after Cluster.
func ClusterURL() string {
	u := "redis://" + cluster.addrs[0]
	for i, a := range cluster.addrs[1:] {
		sep := "&"
		if i == 0 {
			sep = "?"
		}
		u += sep + "addr=" + a
	}
	return u
}

// Stop stops the cluster and the server of [Legacy] if they were
// started. Packages whose tests use them call it from TestMain after
// m.Run.
func Stop() {
	stopLegacy()
	for _, p := range cluster.procs {
		_ = p.Process.Kill()
		_ = p.Wait()
	}
	cluster.procs = nil
	if cluster.dir != "" {
		_ = os.RemoveAll(cluster.dir)
	}
}

// Main runs the tests of a package that uses [Cluster], then stops it.
func Main(m *testing.M) {
	code := m.Run()
	Stop()
	os.Exit(code)
}

func startCluster() {
	cluster.err = bootCluster()
	if cluster.err != nil {
		Stop()
	}
}

func bootCluster() error {
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		return fmt.Errorf("redis-server not found: %w", err)
	}
	dir, err := os.MkdirTemp("", "mageflow-cluster-")
	if err != nil {
		return err
	}
	cluster.dir = dir
	ports, err := freePorts(clusterMasters)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	var nodes []*goredis.Client
	defer func() {
		for _, n := range nodes {
			_ = n.Close()
		}
	}()
	for _, p := range ports {
		port := strconv.Itoa(p)
		cmd := exec.Command(bin, "--port", port, "--bind", "127.0.0.1", "--cluster-enabled", "yes",
			"--cluster-config-file", "nodes-"+port+".conf", "--dir", dir, "--save", "", "--appendonly", "no",
			"--logfile", filepath.Join(dir, port+".log"))
		cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
		if err := cmd.Start(); err != nil {
			return fmt.Errorf("start redis-server on %s: %w", port, err)
		}
		cluster.procs = append(cluster.procs, cmd)
		addr := "127.0.0.1:" + port
		cluster.addrs = append(cluster.addrs, addr)
		n := goredis.NewClient(&goredis.Options{Addr: addr})
		nodes = append(nodes, n)
		if err := Until(ctx, func() bool { return n.Ping(ctx).Err() == nil }); err != nil {
			return fmt.Errorf("redis-server on %s does not answer: %w", port, err)
		}
	}
	per := 16384 / clusterMasters
	for i, n := range nodes {
		lo, hi := i*per, (i+1)*per-1
		if i == clusterMasters-1 {
			hi = 16383
		}
		if err := n.Do(ctx, "CLUSTER", "ADDSLOTSRANGE", lo, hi).Err(); err != nil {
			return fmt.Errorf("assign slots to %s: %w", cluster.addrs[i], err)
		}
	}
	for _, p := range ports[1:] {
		if err := nodes[0].ClusterMeet(ctx, "127.0.0.1", strconv.Itoa(p)).Err(); err != nil {
			return fmt.Errorf("cluster meet %d: %w", p, err)
		}
	}
	return Until(ctx, func() bool {
		for _, n := range nodes {
			info, err := n.ClusterInfo(ctx).Result()
			if err != nil || !strings.Contains(info, "cluster_state:ok") || !strings.Contains(info, "cluster_known_nodes:"+strconv.Itoa(clusterMasters)) {
				return false
			}
		}
		return true
	})
}

// freePorts returns n ports free now whose cluster bus ports (+10000) are
// free too.
func freePorts(n int) ([]int, error) {
	var ports []int
	for tries := 0; len(ports) < n && tries < 100; tries++ {
		l, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			return nil, err
		}
		p := l.Addr().(*net.TCPAddr).Port
		_ = l.Close()
		if p+10000 > 65535 {
			continue
		}
		bus, err := net.Listen("tcp", "127.0.0.1:"+strconv.Itoa(p+10000))
		if err != nil {
			continue
		}
		_ = bus.Close()
		ports = append(ports, p)
	}
	if len(ports) < n {
		return nil, fmt.Errorf("found only %d free ports", len(ports))
	}
	return ports, nil
}

// Until polls cond every 20 ms until it holds or ctx ends.
func Until(ctx context.Context, cond func() bool) error {
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !cond() {
		select {
		case <-tick.C:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	return nil
}

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

// Server is a redis-server of a test's own, with the append-only file on
// (fsync on every write, as a store that must not lose acknowledged writes
// runs), so that it can be killed and restarted without losing data.
type Server struct {
	Addr string
	bin  string
	dir  string
	port int
	args []string
	cmd  *exec.Cmd
}

// NewServer starts a redis-server on a free port, stopped when t ends.
// args are more of redis-server's options, after the defaults, so they
// override them: "--maxmemory", "4mb", "--maxmemory-policy", "allkeys-lru"
// makes an evicting server, "--replicaof", "127.0.0.1 <port>" a replica,
// "--rename-command", "FCALL", "" a server without functions.
func NewServer(t testing.TB, args ...string) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		unavailable(t, "redis-server not found: %v", err)
	}
	ports, err := freePorts(1)
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{bin: bin, dir: t.TempDir(), port: ports[0], args: args}
	s.Addr = "127.0.0.1:" + strconv.Itoa(s.port)
	s.start(t)
	t.Cleanup(s.kill)
	return s
}

// NewReplica starts a replica of the primary at addr (a server's Addr,
// or a [Link] to it) on a free port, stopped when t ends, and waits
// until it is in sync.
func NewReplica(t testing.TB, addr string, args ...string) *Server {
	t.Helper()
	host, port, err := net.SplitHostPort(addr)
	if err != nil {
		t.Fatalf("replica of %q: %v", addr, err)
	}
	r := NewServer(t, append([]string{"--replicaof", host + " " + port}, args...)...)
	c := r.Client(t)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := Until(ctx, func() bool {
		info, err := c.Info(ctx, "replication").Result()
		return err == nil && strings.Contains(info, "master_link_status:up")
	}); err != nil {
		t.Fatalf("replica %s of %s does not sync: %v", r.Addr, addr, err)
	}
	return r
}

func (s *Server) start(t testing.TB) {
	t.Helper()
	cmd, err := launch(s.bin, s.dir, s.port, s.args)
	if err != nil {
		t.Fatal(err)
	}
	s.cmd = cmd
}

// launch starts redis-server on port with its data in dir and waits
// until it answers.
func launch(bin, dir string, port int, extra []string) (*exec.Cmd, error) {
	addr := "127.0.0.1:" + strconv.Itoa(port)
	args := append([]string{"--port", strconv.Itoa(port), "--bind", "127.0.0.1", "--dir", dir,
		"--appendonly", "yes", "--appendfsync", "always", "--save", "", "--repl-diskless-sync-delay", "0",
		"--logfile", filepath.Join(dir, "redis.log")}, extra...)
	cmd := exec.Command(bin, args...)
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := cmd.Start(); err != nil {
		return nil, fmt.Errorf("start redis-server: %w", err)
	}
	c := goredis.NewClient(&goredis.Options{Addr: addr})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := Until(ctx, func() bool {
		err := c.Ping(ctx).Err()
		return err == nil || isAuthError(err)
	}); err != nil {
		_ = cmd.Process.Kill()
		_ = cmd.Wait()
		return nil, fmt.Errorf("redis-server on %s does not answer: %w", addr, err)
	}
	return cmd, nil
}

// WithoutRedis7 are the options of a redis-server without the commands
// of Redis 7 that the store uses (functions, sharded pub/sub): Redis 7
// standing in for an older server.
var WithoutRedis7 = []string{
	"--rename-command", "FCALL", "",
	"--rename-command", "FCALL_RO", "",
	"--rename-command", "FUNCTION", "",
	"--rename-command", "SPUBLISH", "",
	"--rename-command", "SSUBSCRIBE", "",
	"--rename-command", "SUNSUBSCRIBE", "",
}

var legacy struct {
	once sync.Once
	addr string
	cmd  *exec.Cmd
	dir  string
	err  error
}

// Legacy returns a client of a redis-server without Redis 7's commands
// ([WithoutRedis7]), shared by the package's tests: started the first
// time a test asks and stopped by [Stop].
func Legacy(t testing.TB) *goredis.Client {
	t.Helper()
	legacy.once.Do(func() {
		bin, err := exec.LookPath("redis-server")
		if err != nil {
			legacy.err = fmt.Errorf("redis-server not found: %w", err)
			return
		}
		ports, err := freePorts(1)
		if err != nil {
			legacy.err = err
			return
		}
		if legacy.dir, legacy.err = os.MkdirTemp("", "mageflow-legacy-"); legacy.err != nil {
			return
		}
		legacy.addr = "127.0.0.1:" + strconv.Itoa(ports[0])
		legacy.cmd, legacy.err = launch(bin, legacy.dir, ports[0], append([]string{"--appendonly", "no"}, WithoutRedis7...))
	})
	if legacy.err != nil {
		unavailable(t, "no local Redis without functions: %v", legacy.err)
	}
	c := goredis.NewClient(&goredis.Options{Addr: legacy.addr})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// stopLegacy stops the server [Legacy] started, if any.
func stopLegacy() {
	if legacy.cmd != nil {
		_ = legacy.cmd.Process.Kill()
		_ = legacy.cmd.Wait()
		legacy.cmd = nil
	}
	if legacy.dir != "" {
		_ = os.RemoveAll(legacy.dir)
	}
}

// isAuthError reports whether err is a server's refusal of an
// unauthenticated client: the server is up.
func isAuthError(err error) bool {
	return strings.Contains(err.Error(), "NOAUTH") || strings.Contains(err.Error(), "WRONGPASS")
}

// Client returns a client of the server (the default user), closed when t
// ends.
func (s *Server) Client(t testing.TB) *goredis.Client {
	t.Helper()
	c := goredis.NewClient(&goredis.Options{Addr: s.Addr})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// Dir is the server's working directory (its append-only file, its log,
// and where a test may put an ACL file).
func (s *Server) Dir() string { return s.dir }

// kill stops the server at once (SIGKILL).
func (s *Server) kill() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Signal(syscall.SIGCONT) // a stopped server dies too
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
	}
	s.cmd = nil
}

// Kill stops the server at once, as a crash would.
func (s *Server) Kill() { s.kill() }

// Start starts the killed server again on the same port and data.
func (s *Server) Start(t testing.TB) { s.start(t) }

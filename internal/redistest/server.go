package redistest

import (
	"context"
	"os/exec"
	"path/filepath"
	"strconv"
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
	cmd  *exec.Cmd
}

// NewServer starts a redis-server on a free port, stopped when t ends.
func NewServer(t testing.TB) *Server {
	t.Helper()
	bin, err := exec.LookPath("redis-server")
	if err != nil {
		unavailable(t, "redis-server not found: %v", err)
	}
	ports, err := freePorts(1)
	if err != nil {
		t.Fatal(err)
	}
	s := &Server{bin: bin, dir: t.TempDir(), port: ports[0]}
	s.Addr = "127.0.0.1:" + strconv.Itoa(s.port)
	s.start(t)
	t.Cleanup(s.kill)
	return s
}

func (s *Server) start(t testing.TB) {
	t.Helper()
	port := strconv.Itoa(s.port)
	s.cmd = exec.Command(s.bin, "--port", port, "--bind", "127.0.0.1", "--dir", s.dir,
		"--appendonly", "yes", "--appendfsync", "always", "--save", "",
		"--logfile", filepath.Join(s.dir, "redis.log"))
	s.cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	c := goredis.NewClient(&goredis.Options{Addr: s.Addr})
	defer c.Close()
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	if err := Until(ctx, func() bool { return c.Ping(ctx).Err() == nil }); err != nil {
		t.Fatalf("redis-server on %s does not answer: %v", s.Addr, err)
	}
}

// kill stops the server at once (SIGKILL).
func (s *Server) kill() {
	if s.cmd != nil && s.cmd.Process != nil {
		_ = s.cmd.Process.Kill()
		_ = s.cmd.Wait()
	}
	s.cmd = nil
}

// Kill stops the server at once, as a crash would.
func (s *Server) Kill() { s.kill() }

// Start starts the killed server again on the same port and data.
func (s *Server) Start(t testing.TB) { s.start(t) }

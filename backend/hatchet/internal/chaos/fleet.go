package chaos

import (
	"bufio"
	"crypto/sha256"
	"encoding/hex"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"
)

// workerPath is the import path of the worker program.
const workerPath = "github.com/mageflow-go/mageflow/backend/hatchet/internal/chaos/chaosworker"

// readyTimeout bounds a worker's start, registration with the engine
// included.
const readyTimeout = 2 * time.Minute

var built struct {
	once sync.Once
	bin  string
	err  error
}

// workerBinary builds the worker program once per test binary, into the
// user's cache (relinking an unchanged binary at the same path is cheap).
func workerBinary(t testing.TB) string {
	t.Helper()
	built.once.Do(func() {
		_, file, _, _ := runtime.Caller(0)
		dir := filepath.Dir(file)
		cache, err := os.UserCacheDir()
		if err != nil {
			cache = os.TempDir()
		}
		sum := sha256.Sum256([]byte(dir))
		out := filepath.Join(cache, "mageflow", "chaos", hex.EncodeToString(sum[:6]))
		if err := os.MkdirAll(out, 0o755); err != nil {
			built.err = err
			return
		}
		built.bin = filepath.Join(out, "chaosworker")
		cmd := exec.Command("go", "build", "-o", built.bin, workerPath)
		cmd.Dir = dir
		if b, err := cmd.CombinedOutput(); err != nil {
			built.err = fmt.Errorf("go build %s: %w\n%s", workerPath, err, b)
		}
	})
	if built.err != nil {
		t.Fatal(built.err)
	}
	return built.bin
}

// fleet runs the worker processes of one run, and keeps track of those
// it killed: their executions may repeat (Hatchet runs a dead worker's
// tasks again).
type fleet struct {
	t    testing.TB
	bin  string
	env  []string
	args []string // common flags

	mu     sync.Mutex
	next   int
	procs  map[string]*proc
	killed map[string]bool // by the suite, or left to die (engine restart)
	exits  []string        // exits the suite did not cause
}

type proc struct {
	id     string
	cmd    *exec.Cmd
	ready  chan struct{}
	frozen chan struct{}
	exited chan struct{}
	stderr *tail
}

func newFleet(t testing.TB, env, args []string) *fleet {
	f := &fleet{t: t, bin: workerBinary(t), env: env, args: args, procs: map[string]*proc{}, killed: map[string]bool{}}
	t.Cleanup(f.stopAll)
	return f
}

// setEnv replaces the environment of the workers started from now on.
func (f *fleet) setEnv(env []string) {
	f.mu.Lock()
	f.env = env
	f.mu.Unlock()
}

// start starts a worker and waits until it takes work. freezeAfter > 0
// freezes it at that dispatch.
func (f *fleet) start(freezeAfter int) *proc {
	f.t.Helper()
	f.mu.Lock()
	f.next++
	id := "w" + strconv.Itoa(f.next)
	args := append(append([]string{}, f.args...), "-id", id, "-freeze-after", strconv.Itoa(freezeAfter))
	cmd := exec.Command(f.bin, args...)
	cmd.Env = append(os.Environ(), f.env...)
	f.mu.Unlock()
	p := &proc{id: id, cmd: cmd, ready: make(chan struct{}), frozen: make(chan struct{}), exited: make(chan struct{}), stderr: &tail{}}
	cmd.Stderr = p.stderr
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGKILL}
	out, err := cmd.StdoutPipe()
	if err != nil {
		f.t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		f.t.Fatalf("start chaosworker: %v", err)
	}
	f.mu.Lock()
	f.procs[id] = p
	f.mu.Unlock()
	go func() {
		sc := bufio.NewScanner(out)
		for sc.Scan() {
			switch sc.Text() {
			case "READY":
				close(p.ready)
			case "FROZEN":
				close(p.frozen)
			}
		}
		_ = cmd.Wait()
		f.mu.Lock()
		if !f.killed[id] {
			f.exits = append(f.exits, fmt.Sprintf("worker %s exited (%v): %s", id, cmd.ProcessState, p.stderr.String()))
		}
		delete(f.procs, id)
		f.mu.Unlock()
		close(p.exited)
	}()
	select {
	case <-p.ready:
	case <-p.exited:
		f.t.Fatalf("worker %s exited before READY: %s", id, p.stderr.String())
	case <-time.After(readyTimeout):
		f.t.Fatalf("worker %s not ready within %v: %s", id, readyTimeout, p.stderr.String())
	}
	return p
}

// kill kills p with SIGKILL and waits for it to be gone.
func (f *fleet) kill(p *proc) {
	f.mu.Lock()
	f.killed[p.id] = true
	f.mu.Unlock()
	_ = p.cmd.Process.Kill()
	<-p.exited
}

// doomed marks the running workers as killed by the suite, before a fault
// that takes them down (they are killed after it).
func (f *fleet) doomAll() []*proc {
	f.mu.Lock()
	defer f.mu.Unlock()
	var ps []*proc
	for id, p := range f.procs {
		f.killed[id] = true
		ps = append(ps, p)
	}
	return ps
}

// running returns the running workers.
func (f *fleet) running() []*proc {
	f.mu.Lock()
	defer f.mu.Unlock()
	ps := make([]*proc, 0, len(f.procs))
	for _, p := range f.procs {
		ps = append(ps, p)
	}
	return ps
}

// wasKilled reports whether the worker id was killed by the suite.
func (f *fleet) wasKilled(id string) bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.killed[id]
}

// unexpectedExits lists the workers that died without the suite killing
// them.
func (f *fleet) unexpectedExits() []string {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]string(nil), f.exits...)
}

// stopAll kills every worker: the run is over.
func (f *fleet) stopAll() {
	for _, p := range f.doomAll() {
		_ = p.cmd.Process.Kill()
		<-p.exited
	}
}

// tail keeps the last 4 KB written to it.
type tail struct {
	mu  sync.Mutex
	buf []byte
}

func (t *tail) Write(b []byte) (int, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	t.buf = append(t.buf, b...)
	if len(t.buf) > 4096 {
		t.buf = t.buf[len(t.buf)-4096:]
	}
	return len(b), nil
}

func (t *tail) String() string {
	t.mu.Lock()
	defer t.mu.Unlock()
	return strings.TrimSpace(string(t.buf))
}

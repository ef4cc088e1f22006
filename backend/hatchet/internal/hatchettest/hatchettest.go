// Package hatchettest gives the Hatchet backend's tests a local Hatchet
// engine: cmd/hatchet-dev, built and started once per test binary on a
// database of its own on the Postgres named by MAGEFLOW_POSTGRES_URL
// (default [DefaultPostgresURL]), and dropped with it.
//
// When Postgres cannot be reached the test is skipped with a message naming
// MAGEFLOW_POSTGRES_URL, unless MAGEFLOW_REQUIRE_SERVICES=1, which makes it
// fail instead.
//
// The engine runs in a child process with -drop -stdin-watch, and a parent
// death signal: if the test binary dies, the engine stops and drops its
// database. A package whose tests use [Engine] calls [Main] from TestMain to
// stop it as soon as the tests are done.
//
// Cost: building the command takes under a second when it is up to date
// (it is kept in the user's cache directory), 7 to 10 s after a change, 3
// minutes with a cold Go build cache. Starting the engine takes about 6 s on
// a new database (migrations, then one task run end to end), 4 s on an
// existing one; [Dev.Restart] about 10 s, half of it Hatchet's graceful stop,
// which waits out a heartbeat period. The process takes about 85 MB idle.
package hatchettest

import (
	"bufio"
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/hex"
	"errors"
	"fmt"
	"io"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"runtime"
	"slices"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"golang.org/x/sys/unix"
)

// DefaultPostgresURL is the Postgres server used when MAGEFLOW_POSTGRES_URL
// is not set.
const DefaultPostgresURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// Time limits.
const (
	buildTimeout = 10 * time.Minute // go build, a cold cache included
	startTimeout = 5 * time.Minute  // from start to READY, migrations included
	stopTimeout  = 30 * time.Second // then the process is killed
)

// commandPath is the import path of the engine command.
const commandPath = "github.com/mageflow-go/mageflow/backend/hatchet/cmd/hatchet-dev"

// Dev is a running hatchet-dev process.
type Dev struct {
	// Settings are the client settings it printed: HATCHET_CLIENT_TOKEN,
	// HATCHET_CLIENT_HOST_PORT, HATCHET_CLIENT_SERVER_URL,
	// HATCHET_CLIENT_TLS_STRATEGY, HATCHET_CLIENT_TENANT_ID and
	// MAGEFLOW_HATCHET_DATABASE. [Dev.Restart] replaces the map.
	Settings map[string]string

	mu       sync.Mutex
	postgres string
	bin      string // the command's binary
	built    bool   // by this process
	dir      string // holds the log
	proc     *process
}

// process is one run of the command.
type process struct {
	cmd    *exec.Cmd
	stdin  *os.File // closing it stops the process (-stdin-watch)
	stderr *syncBuffer
	exited chan struct{} // closed once the process has been waited for
	err    error         // from Wait, readable once exited is closed
}

var shared struct {
	once sync.Once
	dev  *Dev
	skip string // why the tests must be skipped
	err  error
}

// Engine returns the engine of this test binary, starting it the first time
// a test asks. The tests of a binary share it: make names (tasks, workers)
// unique per test.
func Engine(t testing.TB) *Dev {
	t.Helper()
	shared.once.Do(func() { shared.dev, shared.skip, shared.err = start() })
	switch {
	case shared.skip != "" && os.Getenv("MAGEFLOW_REQUIRE_SERVICES") == "1":
		t.Fatal(shared.skip)
	case shared.skip != "":
		t.Skip(shared.skip)
	case shared.err != nil:
		t.Fatal(shared.err)
	}
	return shared.dev
}

// Main runs the tests of a package that uses [Engine], then stops the engine
// (which drops its database) and exits. When a test failed, the engine's log
// is kept and its path printed.
func Main(m *testing.M) {
	code := m.Run()
	if d := shared.dev; d != nil {
		if code != 0 {
			fmt.Fprintf(os.Stderr, "hatchettest: engine log kept in %s\n", d.logPath())
		}
		d.stop(code != 0)
	}
	os.Exit(code)
}

// Env returns the settings as KEY=VALUE strings, sorted, for exec.Cmd.Env or
// to set with os.Setenv.
func (d *Dev) Env() []string {
	d.mu.Lock()
	defer d.mu.Unlock()
	env := make([]string, 0, len(d.Settings))
	for k, v := range d.Settings {
		env = append(env, k+"="+v)
	}
	slices.Sort(env)
	return env
}

// Restart stops the engine gracefully, keeping its database, and starts it
// again on that database. The ports and the token change, so clients and
// workers made before must be closed before Restart (a worker that loses its
// engine for good panics) and new ones made from the new Settings. Restart
// must not run while other tests use the engine.
func (d *Dev) Restart(t testing.TB) {
	t.Helper()
	// SIGUSR1 stops hatchet-dev like SIGTERM but keeps the database even with -drop.
	d.restart(t, syscall.SIGUSR1)
}

// Crash kills the engine with SIGKILL, as a crash of its machine would, and
// starts it again on its database, like [Dev.Restart].
func (d *Dev) Crash(t testing.TB) {
	t.Helper()
	d.restart(t, syscall.SIGKILL)
}

func (d *Dev) restart(t testing.TB, sig syscall.Signal) {
	t.Helper()
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.proc == nil {
		t.Fatal("hatchettest: restart after Stop")
	}
	db := d.Settings["MAGEFLOW_HATCHET_DATABASE"]
	err := d.proc.stop(sig)
	d.proc = nil
	if err != nil && sig != syscall.SIGKILL { // a killed process reports its signal
		t.Fatal(err)
	}
	settings, err := d.launch("-db", db, "-reuse")
	if err != nil {
		t.Fatal(err)
	}
	d.Settings = settings
}

// Stop stops the engine, which drops its database, and removes its log.
// Later calls do nothing.
func (d *Dev) Stop() {
	d.stop(false)
}

func (d *Dev) stop(keepLog bool) {
	d.mu.Lock()
	defer d.mu.Unlock()
	if d.proc != nil {
		if err := d.proc.stop(syscall.SIGTERM); err != nil {
			fmt.Fprintln(os.Stderr, err)
		}
		d.proc = nil
	}
	if d.dir != "" && !keepLog {
		_ = os.RemoveAll(d.dir)
		d.dir = ""
	}
}

// start checks Postgres, builds the command and starts it. A non-empty skip
// says why the tests cannot run here.
func start() (d *Dev, skip string, err error) {
	pg := os.Getenv("MAGEFLOW_POSTGRES_URL")
	if pg == "" {
		pg = DefaultPostgresURL
	}
	if err := ping(pg); err != nil {
		return nil, fmt.Sprintf("hatchettest: no Postgres at %s (set MAGEFLOW_POSTGRES_URL): %v", redact(pg), err), nil
	}
	dir, err := os.MkdirTemp("", "hatchettest-")
	if err != nil {
		return nil, "", fmt.Errorf("hatchettest: %w", err)
	}
	d = &Dev{postgres: pg, dir: dir}
	if d.bin, err = binaryPath(); err != nil {
		_ = os.RemoveAll(dir)
		return nil, "", err
	}
	settings, err := d.launch()
	if err != nil {
		return nil, "", err // the directory stays, for the log
	}
	d.Settings = settings
	return d, "", nil
}

// ping checks that Postgres accepts a connection.
func ping(rawURL string) error {
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, rawURL)
	if err != nil {
		return errors.New(strings.Join(strings.Fields(err.Error()), " "))
	}
	return conn.Close(ctx)
}

// redact masks the password of a URL.
func redact(rawURL string) string {
	u, err := url.Parse(rawURL)
	if err != nil {
		return "(unparsable URL)"
	}
	return u.Redacted()
}

func (d *Dev) logPath() string { return filepath.Join(d.dir, "hatchet-dev.log") }

// binaryPath returns where the command is built: a directory of the user's
// cache named after this module's directory. Building to the same path again
// costs under a second when nothing changed (go build does not relink an
// up-to-date binary), against 7 to 10 s for a new path.
func binaryPath() (string, error) {
	mod, err := moduleDir()
	if err != nil {
		return "", err
	}
	cache, err := os.UserCacheDir()
	if err != nil {
		cache = os.TempDir()
	}
	sum := sha256.Sum256([]byte(mod))
	dir := filepath.Join(cache, "mageflow", "hatchettest", hex.EncodeToString(sum[:6]))
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return "", fmt.Errorf("hatchettest: %w", err)
	}
	return filepath.Join(dir, "hatchet-dev"), nil
}

// buildAndStart builds the command, the first time (a no-op if it is up to
// date), and starts cmd, holding a lock that keeps other test binaries from
// rewriting the binary in between.
func (d *Dev) buildAndStart(cmd *exec.Cmd) error {
	lock, err := os.OpenFile(d.bin+".lock", os.O_RDWR|os.O_CREATE, 0o644)
	if err != nil {
		return fmt.Errorf("hatchettest: %w", err)
	}
	defer lock.Close() // releases the lock
	if err := unix.Flock(int(lock.Fd()), unix.LOCK_EX); err != nil {
		return fmt.Errorf("hatchettest: lock %s: %w", lock.Name(), err)
	}
	if !d.built {
		mod, err := moduleDir()
		if err != nil {
			return err
		}
		ctx, cancel := context.WithTimeout(context.Background(), buildTimeout)
		defer cancel()
		build := exec.CommandContext(ctx, "go", "build", "-o", d.bin, commandPath)
		build.Dir = mod
		if out, err := build.CombinedOutput(); err != nil {
			return fmt.Errorf("hatchettest: go build %s: %w\n%s", commandPath, err, out)
		}
		d.built = true
	}
	if err := cmd.Start(); err != nil {
		return fmt.Errorf("hatchettest: start hatchet-dev: %w", err)
	}
	return nil
}

// moduleDir finds the directory of this package's module: from this file's
// path, or, in a binary built with -trimpath, from go env GOMOD.
func moduleDir() (string, error) {
	if _, file, _, ok := runtime.Caller(0); ok && filepath.IsAbs(file) {
		dir := filepath.Join(filepath.Dir(file), "..", "..")
		if _, err := os.Stat(filepath.Join(dir, "go.mod")); err == nil {
			return dir, nil
		}
	}
	out, err := exec.Command("go", "env", "GOMOD").Output()
	if err != nil {
		return "", fmt.Errorf("hatchettest: go env GOMOD: %w", err)
	}
	gomod := strings.TrimSpace(string(out))
	if gomod == "" || gomod == os.DevNull {
		return "", errors.New("hatchettest: cannot find the module of cmd/hatchet-dev")
	}
	return filepath.Dir(gomod), nil
}

// launch starts the command with args added to the common ones and returns
// the settings it printed before READY.
func (d *Dev) launch(args ...string) (map[string]string, error) {
	args = append([]string{"-postgres", d.postgres, "-drop", "-stdin-watch", "-log", d.logPath()}, args...)
	cmd := exec.Command(d.bin, args...)
	stdinR, stdinW, err := os.Pipe()
	if err != nil {
		return nil, fmt.Errorf("hatchettest: %w", err)
	}
	stdoutR, stdoutW, err := os.Pipe()
	if err != nil {
		_, _ = stdinR.Close(), stdinW.Close()
		return nil, fmt.Errorf("hatchettest: %w", err)
	}
	p := &process{cmd: cmd, stdin: stdinW, stderr: &syncBuffer{}, exited: make(chan struct{})}
	cmd.Stdin, cmd.Stdout, cmd.Stderr = stdinR, stdoutW, p.stderr
	// SIGTERM, not SIGKILL: if this process dies, the engine still drops its
	// database. Pdeathsig follows the thread that started the child, which
	// lives as long as the process unless a goroutine exits locked to it.
	cmd.SysProcAttr = &syscall.SysProcAttr{Pdeathsig: syscall.SIGTERM}
	err = d.buildAndStart(cmd)
	_, _ = stdinR.Close(), stdoutW.Close() // the child has its copies
	if err != nil {
		_, _ = stdinW.Close(), stdoutR.Close()
		return nil, err
	}
	go func() {
		p.err = cmd.Wait()
		close(p.exited)
	}()

	lines := make(chan string)
	go func() { // reads until the process exits
		defer close(lines)
		defer stdoutR.Close()
		sc := bufio.NewScanner(stdoutR)
		sc.Buffer(make([]byte, 0, 64*1024), 1024*1024)
		for sc.Scan() {
			lines <- sc.Text()
		}
	}()

	drain := func() { // nothing more is read; keep the pipe drained
		go func() {
			for range lines {
			}
		}()
	}
	settings := map[string]string{}
	deadline := time.NewTimer(startTimeout)
	defer deadline.Stop()
	for {
		select {
		case line, ok := <-lines:
			switch {
			case !ok:
				<-p.exited
				return nil, fmt.Errorf("hatchettest: hatchet-dev exited before READY (%v): %s%s",
					p.err, strings.TrimSpace(p.stderr.String()), d.logTail())
			case line == "READY":
				drain()
				d.proc = p
				return settings, nil
			default:
				k, v, ok := strings.Cut(line, "=")
				if !ok {
					drain()
					_ = p.stop(syscall.SIGTERM)
					return nil, fmt.Errorf("hatchettest: unexpected output from hatchet-dev: %q", line)
				}
				settings[k] = v
			}
		case <-deadline.C:
			drain()
			_ = p.stop(syscall.SIGTERM)
			return nil, fmt.Errorf("hatchettest: hatchet-dev not ready within %s: %s%s",
				startTimeout, strings.TrimSpace(p.stderr.String()), d.logTail())
		}
	}
}

// stop sends sig and waits for the process to exit, killing it after
// stopTimeout.
func (p *process) stop(sig syscall.Signal) error {
	defer p.stdin.Close()
	_ = p.cmd.Process.Signal(sig)
	timer := time.NewTimer(stopTimeout)
	defer timer.Stop()
	select {
	case <-p.exited:
	case <-timer.C:
		_ = p.cmd.Process.Kill()
		<-p.exited
		return fmt.Errorf("hatchettest: hatchet-dev did not stop within %s; killed", stopTimeout)
	}
	if p.err != nil {
		return fmt.Errorf("hatchettest: hatchet-dev: %w: %s", p.err, strings.TrimSpace(p.stderr.String()))
	}
	return nil
}

// logTail returns the end of the engine's log, for error messages.
func (d *Dev) logTail() string {
	b, err := os.ReadFile(d.logPath())
	if err != nil || len(b) == 0 {
		return ""
	}
	const max = 4000
	if len(b) > max {
		b = b[len(b)-max:]
		if i := bytes.IndexByte(b, '\n'); i >= 0 {
			b = b[i+1:]
		}
	}
	return "\nlast lines of " + d.logPath() + ":\n" + string(b)
}

// syncBuffer is a bytes.Buffer safe for a writer and a reader at once.
type syncBuffer struct {
	mu  sync.Mutex
	buf bytes.Buffer
}

var _ io.Writer = (*syncBuffer)(nil)

func (b *syncBuffer) Write(p []byte) (int, error) {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.Write(p)
}

func (b *syncBuffer) String() string {
	b.mu.Lock()
	defer b.mu.Unlock()
	return b.buf.String()
}

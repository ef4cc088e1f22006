// Command hatchet-dev runs a local Hatchet engine for development and tests,
// on a plain Postgres server and without Docker.
//
// It creates a database, migrates and seeds it, mints a token for the default
// tenant, starts the engine (gRPC) and the REST API on free loopback ports,
// checks that a task really runs, then prints the client settings to stdout,
// one KEY=VALUE per line, followed by a line READY:
//
//	HATCHET_CLIENT_TOKEN=...
//	HATCHET_CLIENT_HOST_PORT=127.0.0.1:<gRPC port>
//	HATCHET_CLIENT_SERVER_URL=http://127.0.0.1:<API port>
//	HATCHET_CLIENT_TLS_STRATEGY=none
//	HATCHET_CLIENT_TENANT_ID=707d0855-80ab-4e1f-a156-f1c4546cbf52
//	MAGEFLOW_HATCHET_DATABASE=<database>
//	READY
//
// It then runs until SIGINT or SIGTERM (or, with -stdin-watch, until its
// standard input is closed), and with -drop drops the database on the way
// out. SIGUSR1 stops it too but always keeps the database, for a restart with
// -db <database> -reuse. Nothing else is written to stdout: the engine's logs
// go to stderr, or to the file named by -log, at level warn unless -v.
//
// Usage, from backend/hatchet. The command keeps running, so read the
// settings from the file named by -env-file, which appears once the engine is
// ready and is removed when it stops. Build it rather than go run it in
// scripts: a signal sent to go run's process kills go run and leaves the
// engine running (Ctrl-C in a terminal reaches both).
//
//	go build -o /tmp/hatchet-dev ./cmd/hatchet-dev
//	/tmp/hatchet-dev -drop -env-file /tmp/hatchet.env &
//	until [ -f /tmp/hatchet.env ]; do sleep 1; done
//	set -a; . /tmp/hatchet.env; set +a   # export the settings
//	go test ./...
//	kill $!                              # stops the engine, drops the database
//
// In a terminal, go run ./cmd/hatchet-dev -drop prints the settings and runs
// until Ctrl-C.
//
// Flags:
//
//	-postgres URL  server to create the database on (postgres:// URL only);
//	               default $MAGEFLOW_POSTGRES_URL, else
//	               postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable
//	-db NAME       database name (default mageflow_hatchet_<random hex>)
//	-reuse         use -db as it is if it exists (no migrations); else it must not exist
//	-drop          drop the database on exit (unless stopped by SIGUSR1)
//	-stdin-watch   stop when stdin is closed (so a dying parent takes it down)
//	-selfcheck     run a task end to end before READY (default true)
//	-env-file PATH also write the settings to PATH (mode 0600)
//	-log PATH      append the engine's logs to PATH instead of stderr
//	-log-level L   engine log level (default warn); -v means debug
//
// Exit codes: 0 after a requested stop, 2 when Postgres cannot be reached
// (the message names the URL without its password), 1 on any other failure.
//
// The engine is in-process: Hatchet's own packages (engine, REST API,
// migrations, seed) with the Postgres message queue, insecure gRPC and keys
// generated at each start, so a token is valid only for the process that
// printed it; after a restart clients need the new settings.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log"
	"os"
	"os/signal"
	"sync"
	"syscall"
	"time"

	"github.com/rs/zerolog"
	"golang.org/x/sys/unix"
)

// defaultPostgresURL is used when neither -postgres nor MAGEFLOW_POSTGRES_URL is set.
const defaultPostgresURL = "postgres://postgres@127.0.0.1:5432/postgres?sslmode=disable"

// Time limits of the steps.
const (
	readyTimeout     = 60 * time.Second
	selfCheckTimeout = 2 * time.Minute // a loaded machine (a restart amid busy tests) takes long
	stopTimeout      = 20 * time.Second
)

// options are the command-line flags.
type options struct {
	postgres   string
	db         string
	reuse      bool
	drop       bool
	stdinWatch bool
	selfCheck  bool
	envFile    string
	logPath    string
	logLevel   string
}

// setting is one line of output.
type setting struct{ key, value string }

func main() {
	os.Exit(run())
}

func parseFlags() options {
	var o options
	var verbose bool
	// no default value here: -help would print a password from the environment
	flag.StringVar(&o.postgres, "postgres", "", "Postgres server `URL` (default $MAGEFLOW_POSTGRES_URL, else "+defaultPostgresURL+")")
	flag.StringVar(&o.db, "db", "", "database `name` (default mageflow_hatchet_<random hex>)")
	flag.BoolVar(&o.reuse, "reuse", false, "reuse -db if it exists, without migrating it")
	flag.BoolVar(&o.drop, "drop", false, "drop the database on exit, unless stopped by SIGUSR1")
	flag.BoolVar(&o.stdinWatch, "stdin-watch", false, "stop when stdin is closed")
	flag.BoolVar(&o.selfCheck, "selfcheck", true, "run a task end to end before printing READY")
	flag.StringVar(&o.envFile, "env-file", "", "also write the settings to `path`")
	flag.StringVar(&o.logPath, "log", "", "append logs to `path` instead of stderr")
	flag.StringVar(&o.logLevel, "log-level", "warn", "engine log `level`")
	flag.BoolVar(&verbose, "v", false, "verbose: same as -log-level=debug")
	flag.Parse()
	if o.postgres == "" {
		o.postgres = os.Getenv("MAGEFLOW_POSTGRES_URL")
	}
	if o.postgres == "" {
		o.postgres = defaultPostgresURL
	}
	if verbose {
		o.logLevel = "debug"
	}
	return o
}

func run() int {
	o := parseFlags()
	if flag.NArg() > 0 {
		fmt.Fprintf(os.Stderr, "hatchet-dev: unexpected arguments %q\n", flag.Args())
		return 2
	}
	level, err := zerolog.ParseLevel(o.logLevel)
	if err != nil {
		fmt.Fprintf(os.Stderr, "hatchet-dev: -log-level: %v\n", err)
		return 2
	}
	if o.db == "" {
		o.db = randomDatabaseName()
	} else if !validName.MatchString(o.db) {
		fmt.Fprintf(os.Stderr, "hatchet-dev: -db %q: use lower-case letters, digits and _ (at most 63)\n", o.db)
		return 2
	}

	quiet := level > zerolog.InfoLevel
	settingsOut, errOut, err := redirectOutput(o.logPath, quiet)
	if err != nil {
		fmt.Fprintln(os.Stderr, err)
		return 1
	}
	zerolog.SetGlobalLevel(level)
	format, out := "json", io.Writer(os.Stderr)
	if fi, err := os.Stderr.Stat(); err == nil && fi.Mode()&os.ModeCharDevice != 0 {
		format, out = "console", zerolog.ConsoleWriter{Out: os.Stderr}
	}
	logger := zerolog.New(out).Level(level).With().Timestamp().Str("service", "hatchet-dev").Logger()

	ctx, st := watchStop(o.stdinWatch, errOut)
	start := time.Now()
	d := &dev{o: o, level: level, format: format, logger: &logger}
	err = d.start(ctx)
	if err == nil {
		logger.Info().Dur("startup", time.Since(start)).Str("database", o.db).Bool("migrated", d.created).Msg("ready")
		err = d.announce(settingsOut)
	}
	if err == nil {
		select {
		case <-ctx.Done():
		case <-d.eng.exited:
			err = d.eng.exitErr
		}
	}
	if why, _ := st.get(); err != nil && why != "" && !d.ready {
		err = fmt.Errorf("hatchet-dev: stopped before ready (%s)", why)
	}

	// Drop the database if asked, or if it was created for a start that
	// failed. Asked again after a graceful stop, during which the parent may die.
	drop := func() bool {
		_, keep := st.get()
		return d.prepared && (o.drop || (d.created && !d.ready)) && !keep
	}
	if stopErr := d.stop(drop); stopErr != nil {
		fmt.Fprintln(errOut, oneLine(stopErr))
	}
	switch {
	case err == nil:
		return 0
	case errors.Is(err, errUnreachable):
		fmt.Fprintln(errOut, oneLine(err))
		return 2
	default:
		fmt.Fprintln(errOut, oneLine(err))
		return 1
	}
}

// stopRequest records why the command was asked to stop.
type stopRequest struct {
	mu     sync.Mutex
	why    string
	keep   bool // keep the database whatever -drop says
	cancel context.CancelFunc
}

// request records the first request to stop and cancels the context.
func (st *stopRequest) request(why string, keep bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	if st.why == "" {
		st.why, st.keep = why, keep
		st.cancel()
	}
}

// parentGone records that the parent died: whatever the first request said,
// the database is no longer kept, since no one will restart on it.
func (st *stopRequest) parentGone(why string) {
	st.mu.Lock()
	st.keep = false
	st.mu.Unlock()
	st.request(why, false)
}

// get returns why the stop was requested ("" if it was not) and whether the
// database must be kept.
func (st *stopRequest) get() (why string, keep bool) {
	st.mu.Lock()
	defer st.mu.Unlock()
	return st.why, st.keep
}

// watchStop returns a context cancelled at the first SIGINT, SIGTERM or
// SIGUSR1 (the last keeps the database), or when stdin is closed if
// stdinWatch is set. A later signal exits at once, unless the parent has
// died (a parent death signal, or stdin closing, while stopping for a
// restart): then the stop goes on and drops the database if -drop says so.
func watchStop(stdinWatch bool, errOut io.Writer) (context.Context, *stopRequest) {
	ctx, cancel := context.WithCancel(context.Background())
	st := &stopRequest{cancel: cancel}
	ppid := os.Getppid()
	sigs := make(chan os.Signal, 2)
	signal.Notify(sigs, os.Interrupt, syscall.SIGTERM, syscall.SIGUSR1)
	go func() {
		first := true
		for s := range sigs {
			switch {
			case first:
				first = false
				st.request(s.String(), s == syscall.SIGUSR1)
			case os.Getppid() != ppid:
				st.parentGone("parent died")
			default:
				fmt.Fprintf(errOut, "hatchet-dev: %v during shutdown, exiting at once\n", s)
				os.Exit(1)
			}
		}
	}()
	if stdinWatch {
		go func() {
			_, _ = io.Copy(io.Discard, os.Stdin)
			st.parentGone("stdin closed")
		}()
	}
	return ctx, st
}

// redirectOutput keeps the real stdout for the settings and the real stderr
// for this command's own messages, and points file descriptor 2 at the log
// (stderr, or logPath). Hatchet's packages print progress to stdout (from
// migrations, seed) and to the standard logger; none of that may mix with
// the settings: file descriptor 1 goes to the log too, or to /dev/null when
// quiet, when the standard logger is silenced as well.
func redirectOutput(logPath string, quiet bool) (settings, errOut *os.File, err error) {
	outFD, err := unix.FcntlInt(1, unix.F_DUPFD_CLOEXEC, 3)
	if err != nil {
		return nil, nil, fmt.Errorf("hatchet-dev: duplicate stdout: %w", err)
	}
	errFD, err := unix.FcntlInt(2, unix.F_DUPFD_CLOEXEC, 3)
	if err != nil {
		return nil, nil, fmt.Errorf("hatchet-dev: duplicate stderr: %w", err)
	}
	if logPath != "" {
		if err := redirectFD(2, logPath, os.O_WRONLY|os.O_CREATE|os.O_APPEND); err != nil {
			return nil, nil, fmt.Errorf("hatchet-dev: -log: %w", err)
		}
	}
	if quiet {
		err = redirectFD(1, os.DevNull, os.O_WRONLY)
		log.SetOutput(io.Discard)
	} else {
		err = unix.Dup2(2, 1)
	}
	if err != nil {
		return nil, nil, fmt.Errorf("hatchet-dev: redirect stdout: %w", err)
	}
	return os.NewFile(uintptr(outFD), "settings"), os.NewFile(uintptr(errFD), "stderr"), nil
}

// redirectFD points file descriptor fd at the file path, opened with flag.
func redirectFD(fd int, path string, flag int) error {
	f, err := os.OpenFile(path, flag, 0o644)
	if err != nil {
		return err
	}
	defer f.Close()
	return unix.Dup2(int(f.Fd()), fd)
}

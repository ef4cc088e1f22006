// Command mageflow shows the flows a Redis store holds and steers them.
//
//	mageflow [--redis URL] [--prefix P] ls [--status done,failed] [--limit N] [--json]
//	mageflow [--redis URL] [--prefix P] show [--items N] [--json] ID
//	mageflow [--redis URL] [--prefix P] watch [--interval D] ID
//	mageflow [--redis URL] [--prefix P] suspend ID
//	mageflow [--redis URL] [--prefix P] resume|interrupt|cancel|retry [--wait D] ID
//	mageflow [--redis URL] [--prefix P] suspend|resume|interrupt|cancel|retry --status S [--name N] [--meta K=V] [--since D] [--yes]
//	mageflow [--redis URL] [--prefix P] serve [--addr 127.0.0.1:8080]
//	mageflow [--redis URL] [--prefix P] mcp [--allow-write] [--addr HOST:PORT [--token T]]
//
// The store is the Redis at --redis (default $MAGEFLOW_REDIS_URL, else
// redis://127.0.0.1:6379/0) under key prefix --prefix (default
// "mageflow", as storage/redis). watch exits with status 1 when the flow
// failed or was canceled. suspend applies at once; resume, interrupt,
// cancel and retry (a failed flow runs again from where it failed)
// dispatch tasks or cancel runs, so a worker of the application
// (any process that called mageflow.Client.StartWorker on the store)
// applies them, and the command waits until the flow shows it.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"runtime/debug"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
	redisstore "github.com/mageflow-go/mageflow/storage/redis"
	"github.com/mageflow-go/mageflow/viewer"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

// usage is printed for -h and for a wrong command.
const usage = `usage: mageflow [--redis URL] [--cluster] [--prefix P] <command> [flags] [ID]

commands:
  ls        the flows the store holds, newest first
  show ID   a flow as a tree: steps, items, callbacks, with status and timing
  watch ID  live progress of a flow until it ends; exit status 1 if it failed
  suspend ID
            pause a flow: nothing new starts until it is resumed
  resume ID, interrupt ID, cancel ID
            queued for a worker of the application, which applies them;
            the command waits until the flow shows it (--wait, default 10s)
  retry ID  run a failed flow again from where it failed (through a worker)
  suspend|resume|interrupt|cancel|retry --status S [--name N] [--since D]
            every flow the filter selects: listed, touched only with --yes
  serve     the web viewer (--addr, default 127.0.0.1:8080)
  mcp       an MCP server for assistants, over stdio (--addr: streamable HTTP);
            it only reads unless given --allow-write
  version   the command's version

An ID may be a prefix of a flow's id (at least 4 characters) that only
one flow has. Flags go anywhere after the command; mageflow <command> -h
lists them.

global flags:
  --redis URL   the store's Redis (default $MAGEFLOW_REDIS_URL, else redis://127.0.0.1:6379/0)
  --cluster     the Redis is a Redis Cluster: URL names one node or more
                (redis://host:port?addr=host2:port2), the client finds the rest
  --prefix P    the store's key prefix (default mageflow)
  --verbose     print the Redis client's own logs
`

// run runs the command args and returns the process's exit status.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	global := flag.NewFlagSet("mageflow", flag.ContinueOnError)
	global.SetOutput(stderr)
	global.Usage = func() { fmt.Fprint(stderr, usage) }
	url := global.String("redis", envOr("MAGEFLOW_REDIS_URL", "redis://127.0.0.1:6379/0"), "Redis URL")
	prefix := global.String("prefix", redisstore.DefaultPrefix, "key prefix of the store")
	verbose := global.Bool("verbose", false, "print the Redis client's own logs")
	clustered := global.Bool("cluster", envOr("MAGEFLOW_REDIS_CLUSTER", "") == "1", "the Redis is a Redis Cluster")
	if err := global.Parse(hoist(args)); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			return 0
		}
		return 2
	}
	if global.NArg() == 0 {
		fmt.Fprint(stderr, usage)
		return 2
	}
	cmd, rest := global.Arg(0), global.Args()[1:]
	switch cmd {
	case "version":
		fmt.Fprintln(stdout, "mageflow", version())
		return 0
	case "help":
		fmt.Fprint(stdout, usage)
		return 0
	}
	if !*verbose {
		// go-redis logs its pool's failures itself: the command says
		// what failed, once
		goredis.SetLogger(quiet{})
	}
	commands := map[string]func(context.Context, storage.Store, []string, io.Writer) error{
		"ls":        list,
		"show":      show,
		"watch":     watch,
		"suspend":   steer(sig.OpSuspend),
		"resume":    steer(sig.OpResume),
		"interrupt": steer(sig.OpInterrupt),
		"cancel":    steer(sig.OpCancel),
		"retry":     steer(sig.OpRetry),
		"serve":     serve,
		"mcp":       mcpCommand,
	}
	fn, ok := commands[cmd]
	if !ok {
		fmt.Fprintf(stderr, "mageflow: unknown command %q\n\n%s", cmd, usage)
		return 2
	}
	ctx = context.WithValue(ctx, stderrKey{}, stderr)
	if wantsHelp(rest) {
		// a command's help reads no store: it needs no server
		return finish(cmd, fn(ctx, nil, rest, stdout), *clustered, stdout, stderr)
	}
	c, err := client(*url, *clustered)
	if err != nil {
		fmt.Fprintf(stderr, "mageflow: --redis %q: %v\n", *url, err)
		return 2
	}
	defer c.Close()
	opts := []redisstore.Option{redisstore.WithPrefix(*prefix)}
	if !*verbose {
		opts = append(opts, redisstore.WithLogger(nil)) // the command says what failed
	}
	if readOnly[cmd] {
		// what only reads cannot suffer from eviction: a user that may
		// only read (who may not run INFO) inspects flows
		opts = append(opts, redisstore.WithoutPolicyCheck())
	}
	s, err := redisstore.New(c, opts...)
	if err != nil {
		fmt.Fprintf(stderr, "mageflow: %v\n", err)
		return 2
	}
	return finish(cmd, fn(ctx, s, rest, stdout), *clustered, stdout, stderr)
}

// finish prints what command cmd's err says and returns the exit status.
func finish(cmd string, err error, clustered bool, stdout, stderr io.Writer) int {
	if err != nil && !clustered && strings.Contains(err.Error(), "MOVED ") {
		err = fmt.Errorf("%w (the server is a node of a Redis Cluster: add --cluster)", err)
	}
	var exit exitError
	var help helpError
	switch {
	case err == nil:
		return 0
	case errors.As(err, &help):
		help.print(stdout)
		return 0
	case errors.As(err, &exit):
		return int(exit)
	case errors.Is(err, errUsage), errors.Is(err, viewer.ErrNotAFlow):
		fmt.Fprintf(stderr, "mageflow %s: %s\n", cmd, message(err))
		return 2
	}
	fmt.Fprintf(stderr, "mageflow %s: %s\n", cmd, message(err))
	return 1
}

// message is err's text for the operator: without the "viewer: " the
// errors of package viewer (which the command steers flows with) start
// with.
func message(err error) string {
	for _, e := range []error{viewer.ErrEnded, viewer.ErrNotApplicable, viewer.ErrNoWorker, viewer.ErrNotAFlow} {
		if errors.Is(err, e) {
			return strings.TrimPrefix(err.Error(), "viewer: ")
		}
	}
	return err.Error()
}

// globals are the global flags, and whether each takes a value.
var globals = map[string]bool{"redis": true, "prefix": true, "cluster": false, "verbose": false}

// hoist moves the global flags of args that follow the command before
// it, so that they go anywhere too ("--" ends the flags).
func hoist(args []string) []string {
	var front, back []string
	for i := 0; i < len(args); i++ {
		a := args[i]
		if a == "--" {
			back = append(back, args[i:]...)
			break
		}
		name, _, hasValue := strings.Cut(strings.TrimLeft(a, "-"), "=")
		takes, ok := globals[name]
		if !ok || !strings.HasPrefix(a, "-") {
			back = append(back, a)
			continue
		}
		front = append(front, a)
		if takes && !hasValue && i+1 < len(args) {
			i++
			front = append(front, args[i])
		}
	}
	return append(front, back...)
}

// wantsHelp says whether a command's args ask for its help.
func wantsHelp(args []string) bool {
	for _, a := range args {
		switch a {
		case "--":
			return false
		case "-h", "-help", "--help":
			return true
		}
	}
	return false
}

// stderrKey is the context key of the command's standard error, where
// a command writes what is not its output (ls --json's next cursor).
type stderrKey struct{}

// stderrOf returns ctx's standard error (io.Discard if none).
func stderrOf(ctx context.Context) io.Writer {
	if w, ok := ctx.Value(stderrKey{}).(io.Writer); ok {
		return w
	}
	return io.Discard
}

// client is the Redis client of url: of a Redis Cluster with clustered.
func client(url string, clustered bool) (goredis.UniversalClient, error) {
	if clustered {
		opt, err := goredis.ParseClusterURL(url)
		if err != nil {
			return nil, err
		}
		return goredis.NewClusterClient(opt), nil
	}
	opt, err := goredis.ParseURL(url)
	if err != nil {
		return nil, err
	}
	return goredis.NewClient(opt), nil
}

// readOnly are the commands that only read the store (serve writes only
// when a button is pressed).
var readOnly = map[string]bool{"ls": true, "show": true, "watch": true, "serve": true, "mcp": true}

// errUsage wraps errors of bad arguments (exit status 2).
var errUsage = errors.New("bad arguments")

// exitError is an exit status without a message.
type exitError int

func (e exitError) Error() string { return fmt.Sprintf("exit status %d", int(e)) }

func envOr(key, def string) string {
	if v := os.Getenv(key); v != "" {
		return v
	}
	return def
}

// age formats how long ago t was.
func age(now, t time.Time) string {
	if t.IsZero() {
		return "-"
	}
	d := now.Sub(t)
	switch {
	case d < time.Minute:
		return fmt.Sprintf("%ds", int(d.Seconds()))
	case d < time.Hour:
		return fmt.Sprintf("%dm", int(d.Minutes()))
	case d < 48*time.Hour:
		return fmt.Sprintf("%dh", int(d.Hours()))
	}
	return fmt.Sprintf("%dd", int(d.Hours()/24))
}

// version returns the module version the command was built from, or
// "(devel)" for a build from a checkout.
func version() string {
	if bi, ok := debug.ReadBuildInfo(); ok && bi.Main.Version != "" {
		return bi.Main.Version
	}
	return "(devel)"
}

// quiet is a go-redis logger that drops what it is given.
type quiet struct{}

func (quiet) Printf(context.Context, string, ...any) {}

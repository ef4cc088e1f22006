package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"strings"

	"github.com/mageflow-go/mageflow/inspect"
	"github.com/mageflow-go/mageflow/storage"
)

// helpError asks for a command's help: its usage line and flags, on
// standard output, exit status 0.
type helpError struct {
	fs    *flag.FlagSet
	usage string
}

func (e helpError) Error() string { return "help requested" }

// print writes the help to out.
func (e helpError) print(out io.Writer) {
	fmt.Fprintf(out, "usage: mageflow [--redis URL] [--prefix P] %s\n", e.usage)
	n := 0
	e.fs.VisitAll(func(*flag.Flag) { n++ })
	if n == 0 {
		return
	}
	fmt.Fprintln(out, "\nflags:")
	e.fs.SetOutput(out)
	e.fs.PrintDefaults()
	e.fs.SetOutput(io.Discard)
}

// parse parses fs's flags from args, wherever they are (before, between
// or after the arguments; "--" ends them), and returns the arguments.
// -h and --help give a helpError with usage.
func parse(fs *flag.FlagSet, usage string, args []string) ([]string, error) {
	fs.SetOutput(io.Discard)
	var rest []string
	for {
		if err := fs.Parse(args); err != nil {
			if errors.Is(err, flag.ErrHelp) {
				return nil, helpError{fs: fs, usage: usage}
			}
			return nil, fmt.Errorf("%w: %v (mageflow %s -h lists the flags)", errUsage, err, fs.Name())
		}
		left := fs.Args()
		if n := len(args) - len(left); n > 0 && args[n-1] == "--" && (n < 2 || !takesValue(fs, args[n-2])) {
			// fs stopped at "--": what follows are arguments
			return append(rest, left...), nil
		}
		if args = left; len(args) == 0 {
			return rest, nil
		}
		rest = append(rest, args[0])
		args = args[1:]
	}
}

// takesValue says whether arg is a flag of fs that takes the next
// argument as its value (not a boolean flag, and not written -f=v).
func takesValue(fs *flag.FlagSet, arg string) bool {
	name := strings.TrimLeft(arg, "-")
	if name == arg || strings.Contains(name, "=") {
		return false
	}
	f := fs.Lookup(name)
	if f == nil {
		return false
	}
	b, ok := f.Value.(interface{ IsBoolFlag() bool })
	return !ok || !b.IsBoolFlag()
}

// oneID parses fs's flags from args and returns the one flow they name:
// its id, or a prefix of it (inspect.Resolve).
func oneID(ctx context.Context, s storage.Store, fs *flag.FlagSet, usage string, args []string) (string, error) {
	rest, err := parse(fs, usage, args)
	if err != nil {
		return "", err
	}
	if len(rest) != 1 {
		return "", fmt.Errorf("%w: want one flow id, got %q (usage: mageflow %s)", errUsage, strings.Join(rest, " "), usage)
	}
	return inspect.Resolve(ctx, s, rest[0])
}

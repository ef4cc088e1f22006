package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/mageflow-go/mageflow/storage"
	"github.com/mageflow-go/mageflow/viewer"
)

// serve is `mageflow serve`: the web viewer (package viewer), on loopback
// by default, answering to its own address only.
func serve(ctx context.Context, s storage.Store, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on")
	token := fs.String("token", "", "token every request must carry (default $MAGEFLOW_VIEWER_TOKEN); required to listen beyond loopback")
	readOnly := fs.Bool("read-only", false, "refuse every change (no lifecycle buttons)")
	hostNames := fs.String("host", "", "more host names (comma-separated) the viewer answers to, besides its address")
	rest, err := parse(fs, "serve [--addr HOST:PORT] [--token T] [--read-only] [--host NAMES]", args)
	if err != nil {
		return err
	}
	if *token == "" {
		// read after the flags: the help does not show it
		*token = os.Getenv("MAGEFLOW_VIEWER_TOKEN")
	}
	if len(rest) > 0 {
		return fmt.Errorf("%w: serve takes no argument, got %q", errUsage, strings.Join(rest, " "))
	}
	if !viewer.Loopback(*addr) && *token == "" {
		return fmt.Errorf("%w: --addr %s listens beyond loopback: give --token (or $MAGEFLOW_VIEWER_TOKEN)", errUsage, *addr)
	}
	ln, hosts, err := listen(*addr, *hostNames)
	if err != nil {
		return err
	}
	opts := []viewer.Option{viewer.WithHosts(hosts...), viewer.WithToken(*token)}
	if *readOnly {
		opts = append(opts, viewer.ReadOnly())
	}
	fmt.Fprintf(out, "mageflow viewer on http://%s/\n", ln.Addr())
	return serveOn(ctx, ln, viewer.New(s, opts...))
}

// listen listens on addr and returns the Host headers a server there
// answers to: its address, loopback's names on loopback, the name addr
// gave, and the comma-separated names of extra.
func listen(addr, extra string) (net.Listener, []string, error) {
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, nil, err
	}
	hosts := viewer.HostsFor(ln.Addr().String(), strings.Split(extra, ",")...)
	if h, _, err := net.SplitHostPort(addr); err == nil && h != "" {
		// the name it was given (localhost:8080) as well as the address
		_, port, _ := net.SplitHostPort(ln.Addr().String())
		hosts = append(hosts, net.JoinHostPort(h, port))
	}
	return ln, hosts, nil
}

// serveOn serves h on ln until ctx ends.
func serveOn(ctx context.Context, ln net.Listener, h http.Handler) error {
	srv := &http.Server{Handler: h, ReadHeaderTimeout: 10 * time.Second}
	go func() {
		<-ctx.Done()
		sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		defer cancel()
		_ = srv.Shutdown(sctx)
	}()
	if err := srv.Serve(ln); !errors.Is(err, http.ErrServerClosed) {
		return err
	}
	return nil
}

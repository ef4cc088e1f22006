package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"

	"github.com/mageflow-go/mageflow/cmd/mageflow/internal/mcpserver"
	"github.com/mageflow-go/mageflow/storage"
	"github.com/mageflow-go/mageflow/viewer"
)

// mcpCommand is `mageflow mcp`: the MCP server (package mcpserver) over
// stdio, or over streamable HTTP with --addr, behind the viewer's host
// and token checks and a check of the Origin of every request.
func mcpCommand(ctx context.Context, s storage.Store, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("mcp", flag.ContinueOnError)
	addr := fs.String("addr", "", "serve over streamable HTTP on this address (host:port) instead of stdio")
	token := fs.String("token", "", "with --addr: the bearer token every request must carry (default $MAGEFLOW_MCP_TOKEN); required beyond loopback")
	hostNames := fs.String("host", "", "with --addr: more host names (comma-separated) the server answers to, besides its address")
	allowWrite := fs.Bool("allow-write", false, "add the tools that change flows: suspend, resume, interrupt, cancel, retry")
	wait := fs.Duration("wait", 10*time.Second, "how long a change waits for a worker of the application to apply it")
	rest, err := parse(fs, "mcp [--allow-write] [--wait D] [--addr HOST:PORT [--token T] [--host NAMES]]", args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("%w: mcp takes no argument, got %q", errUsage, strings.Join(rest, " "))
	}
	if *token == "" {
		// read after the flags: the help does not show it
		*token = os.Getenv("MAGEFLOW_MCP_TOKEN")
	}
	if *wait <= 0 {
		return fmt.Errorf("%w: --wait %v: want a positive wait", errUsage, *wait)
	}
	srv := mcpserver.New(s, mcpserver.Options{AllowWrite: *allowWrite, Wait: *wait, Version: version()})
	if *addr == "" {
		// stdout is the protocol's: nothing else is written to it
		err := srv.Run(ctx, &mcp.IOTransport{Reader: os.Stdin, Writer: nopCloser{out}})
		if ctx.Err() != nil {
			return nil // interrupted: the way a stdio server is stopped
		}
		return err
	}
	if !viewer.Loopback(*addr) && *token == "" {
		return fmt.Errorf("%w: --addr %s listens beyond loopback: give --token (or $MAGEFLOW_MCP_TOKEN)", errUsage, *addr)
	}
	ln, hosts, err := listen(*addr, *hostNames)
	if err != nil {
		return err
	}
	handler := mcp.NewStreamableHTTPHandler(func(*http.Request) *mcp.Server { return srv }, &mcp.StreamableHTTPOptions{
		// the guard checks the Host of every request against the
		// address and the --host names: the SDK's own check would refuse
		// those names on loopback (a proxy on the same machine)
		DisableLocalhostProtection: true,
		SessionTimeout:             30 * time.Minute,
	})
	fmt.Fprintf(stderrOf(ctx), "mageflow mcp on http://%s/\n", ln.Addr())
	return serveOn(ctx, ln, viewer.Guard(sameOrigin(hosts, handler), viewer.WithHosts(hosts...), viewer.WithToken(*token)))
}

// sameOrigin refuses a request whose Origin header names a host other
// than hosts (a page of another site, or one that rebound its name to
// this address), as the MCP specification asks of HTTP servers; a
// request without one (not from a browser) passes.
func sameOrigin(hosts []string, h http.Handler) http.Handler {
	ok := map[string]bool{}
	for _, host := range hosts {
		ok[host] = true
	}
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if o := r.Header.Get("Origin"); o != "" {
			u, err := url.Parse(o)
			if err != nil || !ok[u.Host] {
				http.Error(w, "mageflow mcp: requests from origin "+o+" are refused", http.StatusForbidden)
				return
			}
		}
		h.ServeHTTP(w, r)
	})
}

// nopCloser is w that closing leaves open: the command's standard output.
type nopCloser struct{ io.Writer }

func (nopCloser) Close() error { return nil }

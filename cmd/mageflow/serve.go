package main

import (
	"bytes"
	"context"
	"embed"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"net/http"
	"os"
	"strings"
	"time"

	"github.com/mageflow-go/mageflow/inspect"
	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
)

//go:embed web/index.html
var web embed.FS

// serve is `mageflow serve`: the web viewer, on loopback by default.
func serve(ctx context.Context, s storage.Store, args []string, out io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	addr := fs.String("addr", "127.0.0.1:8080", "address to listen on")
	token := fs.String("token", os.Getenv("MAGEFLOW_VIEWER_TOKEN"), "token every request must carry (default $MAGEFLOW_VIEWER_TOKEN); required to listen beyond loopback")
	readOnly := fs.Bool("read-only", false, "refuse every change (no lifecycle buttons)")
	hostNames := fs.String("host", "", "more host names (comma-separated) the viewer answers to, besides its address")
	rest, err := parse(fs, "serve [--addr HOST:PORT] [--token T] [--read-only] [--host NAMES]", args)
	if err != nil {
		return err
	}
	if len(rest) > 0 {
		return fmt.Errorf("%w: serve takes no argument, got %q", errUsage, strings.Join(rest, " "))
	}
	if !loopback(*addr) && *token == "" {
		return fmt.Errorf("%w: --addr %s listens beyond loopback: give --token (or $MAGEFLOW_VIEWER_TOKEN)", errUsage, *addr)
	}
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return err
	}
	g := guard{hosts: hostsFor(ln.Addr().String(), strings.Split(*hostNames, ",")), token: *token, readOnly: *readOnly}
	if h, _, err := net.SplitHostPort(*addr); err == nil && h != "" {
		// the name it was given (localhost:8080) as well as the address
		_, port, _ := net.SplitHostPort(ln.Addr().String())
		g.hosts[net.JoinHostPort(h, port)] = true
	}
	srv := &http.Server{Handler: g.wrap(viewer(s, 500*time.Millisecond)), ReadHeaderTimeout: 10 * time.Second}
	fmt.Fprintf(out, "mageflow viewer on http://%s/\n", ln.Addr())
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

// viewer returns the viewer's handler: the page, and its API over s.
// Anything that changes state is a POST.
func viewer(s storage.Store, every time.Duration) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		page, _ := web.ReadFile("web/index.html")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'")
		_, _ = w.Write(page)
	})
	mux.HandleFunc("GET /api/flows", func(w http.ResponseWriter, r *http.Request) {
		opt := inspect.ListOptions{Limit: 100}
		if st := r.URL.Query().Get("status"); st != "" {
			for _, v := range strings.Split(st, ",") {
				opt.Status = append(opt.Status, sig.Status(v))
			}
		}
		flows, err := inspect.List(r.Context(), s, opt)
		if err != nil {
			httpError(w, err)
			return
		}
		writeJSON(w, flows)
	})
	mux.HandleFunc("GET /api/flows/{id}", func(w http.ResponseWriter, r *http.Request) {
		tree, err := inspect.Tree(r.Context(), s, r.PathValue("id"), inspect.TreeOptions{MaxChildren: 100})
		if err != nil {
			httpError(w, err)
			return
		}
		writeJSON(w, tree)
	})
	mux.HandleFunc("GET /api/flows/{id}/events", func(w http.ResponseWriter, r *http.Request) {
		events(w, r, s, every)
	})
	ops := map[string]func(context.Context, storage.Store, []string, io.Writer) error{
		"suspend":   steer(sig.OpSuspend),
		"resume":    steer(sig.OpResume),
		"interrupt": steer(sig.OpInterrupt),
		"cancel":    steer(sig.OpCancel),
		"retry":     steer(sig.OpRetry),
	}
	mux.HandleFunc("POST /api/flows/{id}/{op}", func(w http.ResponseWriter, r *http.Request) {
		op, ok := ops[r.PathValue("op")]
		if !ok {
			http.NotFound(w, r)
			return
		}
		var msg bytes.Buffer
		if err := op(r.Context(), s, []string{r.PathValue("id")}, &msg); err != nil {
			httpError(w, err)
			return
		}
		writeJSON(w, map[string]string{"message": strings.TrimSpace(msg.String())})
	})
	return mux
}

// events streams the flow's tree as server-sent events, one each time it
// changed, until the flow ended or the client left.
func events(w http.ResponseWriter, r *http.Request, s storage.Store, every time.Duration) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	var last []byte
	for {
		tree, err := inspect.Tree(r.Context(), s, r.PathValue("id"), inspect.TreeOptions{MaxChildren: 100})
		if err != nil {
			fmt.Fprintf(w, "event: error\ndata: %q\n\n", err.Error())
			flusher.Flush()
			return
		}
		b, _ := json.Marshal(tree)
		if !bytes.Equal(b, last) {
			fmt.Fprintf(w, "data: %s\n\n", b)
			flusher.Flush()
			last = b
		}
		if tree.Record.Finished {
			fmt.Fprint(w, "event: end\ndata: {}\n\n")
			flusher.Flush()
			return
		}
		select {
		case <-r.Context().Done():
			return
		case <-time.After(every):
		}
	}
}

func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json")
	_ = json.NewEncoder(w).Encode(v)
}

// httpError answers err with its status: 404 for a missing flow, 400 for
// a bad request, 409 for an operation that does not apply, 504 when no
// worker applied a request in time, 500 otherwise.
func httpError(w http.ResponseWriter, err error) {
	code := http.StatusInternalServerError
	switch {
	case errors.Is(err, storage.ErrNotFound):
		code = http.StatusNotFound
	case errors.Is(err, errUsage):
		code = http.StatusBadRequest
	case errors.Is(err, storage.ErrState), errors.Is(err, errEnded), errors.Is(err, errNotApplicable):
		code = http.StatusConflict
	case errors.Is(err, errNoWorker):
		code = http.StatusGatewayTimeout
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
}

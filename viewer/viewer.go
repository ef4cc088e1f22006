// Package viewer is mageflow's web viewer as an http.Handler, to mount in
// an application (as River UI and asynqmon are) or to serve with the
// mageflow command (mageflow serve): the flows a store holds, newest
// first and filtered; a flow drawn as nested chains and swarms, updated
// live (server-sent events); a node's details; and the lifecycle actions
// (Steer), which a worker of the application applies.
//
// Every change is a POST, refused from another origin
// (http.CrossOriginProtection), and no other site may frame the page.
// WithToken requires a token on every request; ReadOnly refuses every
// change; WithHosts answers only to the given Host headers, against DNS
// rebinding (the command passes the address it listens on). /healthz
// answers ok. Mounted in an application, the viewer is as open as the
// route it is mounted on: put it behind the application's own
// authentication, or give it WithToken, and WithHosts when the
// application is reachable on loopback (a page that rebinds its DNS name
// to 127.0.0.1 is same-origin to the browser).
//
//	mux.Handle("/mageflow/", http.StripPrefix("/mageflow", viewer.New(store, viewer.WithToken(token))))
package viewer

import (
	"bytes"
	"embed"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/mageflow-go/mageflow/inspect"
	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/storage"
)

//go:embed web/index.html
var web embed.FS

// Option configures the viewer.
type Option func(*config)

type config struct {
	guard
	every time.Duration
	wait  time.Duration
}

// WithToken requires token on every request but /healthz: as a bearer
// token (Authorization: Bearer T), or as the cookie /?token=T sets.
func WithToken(token string) Option { return func(c *config) { c.token = token } }

// ReadOnly refuses every change (the page shows no action).
func ReadOnly() Option { return func(c *config) { c.readOnly = true } }

// WithHosts answers only to requests whose Host is one of hosts
// (host:port, as the browser sends it); others get 421.
func WithHosts(hosts ...string) Option {
	return func(c *config) {
		if c.hosts == nil {
			c.hosts = map[string]bool{}
		}
		for _, h := range hosts {
			c.hosts[h] = true
		}
	}
}

// WithInterval sets how often a live view reads its flow (default 500ms).
func WithInterval(d time.Duration) Option { return func(c *config) { c.every = d } }

// WithWait sets how long an action waits for a worker to apply it
// (default 10s).
func WithWait(d time.Duration) Option { return func(c *config) { c.wait = d } }

// New returns the viewer of store s.
func New(s storage.Store, opts ...Option) http.Handler {
	c := config{every: 500 * time.Millisecond, wait: 10 * time.Second}
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	return c.guard.wrap(c.mux(s))
}

// mux is the page and its API over s.
func (c config) mux(s storage.Store) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		page, _ := web.ReadFile("web/index.html")
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Content-Security-Policy", "default-src 'self'; style-src 'self' 'unsafe-inline'; script-src 'self' 'unsafe-inline'; frame-ancestors 'none'")
		_, _ = w.Write(page)
	})
	mux.HandleFunc("GET /api/config", func(w http.ResponseWriter, r *http.Request) {
		writeJSON(w, map[string]bool{"read_only": c.readOnly})
	})
	mux.HandleFunc("GET /api/flows", func(w http.ResponseWriter, r *http.Request) {
		opt, err := listOptions(r)
		if err != nil {
			httpError(w, err)
			return
		}
		page, err := inspect.ListPage(r.Context(), s, opt)
		if err != nil {
			httpError(w, err)
			return
		}
		if page.Flows == nil {
			page.Flows = []inspect.Summary{}
		}
		if page.Next != "" {
			w.Header().Set("X-Next-Cursor", page.Next)
		}
		writeJSON(w, page.Flows)
	})
	mux.HandleFunc("GET /api/flows/{id}", func(w http.ResponseWriter, r *http.Request) {
		id, err := inspect.Resolve(r.Context(), s, r.PathValue("id"))
		if err != nil {
			httpError(w, err)
			return
		}
		t, err := inspect.Tree(r.Context(), s, id, inspect.TreeOptions{MaxChildren: treePage})
		if err != nil {
			httpError(w, err)
			return
		}
		writeJSON(w, t)
	})
	mux.HandleFunc("GET /api/flows/{id}/items", func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		opt := inspect.ItemsOptions{Limit: 50}
		if n, err := strconv.Atoi(q.Get("limit")); err == nil && n > 0 {
			opt.Limit = min(n, 500)
		}
		if n, err := strconv.Atoi(q.Get("from")); err == nil && n > 0 {
			opt.From = n
		}
		if st := q.Get("status"); st != "" {
			for _, v := range strings.Split(st, ",") {
				opt.Status = append(opt.Status, sig.Status(v))
			}
		}
		page, err := inspect.Items(r.Context(), s, r.PathValue("id"), opt)
		if err != nil {
			httpError(w, err)
			return
		}
		if page.Items == nil {
			page.Items = []*inspect.Node{}
		}
		writeJSON(w, map[string]any{"items": page.Items, "next": page.Next})
	})
	mux.HandleFunc("GET /api/flows/{id}/events", func(w http.ResponseWriter, r *http.Request) {
		// resolved once: a missing flow is a 404, which the browser does
		// not retry, and each tick reads the flow, not the index
		id, err := inspect.Resolve(r.Context(), s, r.PathValue("id"))
		if err != nil {
			httpError(w, err)
			return
		}
		events(w, r, s, id, c.every)
	})
	mux.HandleFunc("POST /api/bulk/{op}", func(w http.ResponseWriter, r *http.Request) {
		op := sig.Op(r.PathValue("op"))
		switch op {
		case sig.OpSuspend, sig.OpResume, sig.OpInterrupt, sig.OpCancel, sig.OpRetry:
		default:
			http.NotFound(w, r)
			return
		}
		opt, err := listOptions(r)
		if err != nil {
			httpError(w, err)
			return
		}
		if len(opt.Status) == 0 && opt.Name == "" && opt.Prefix == "" && len(opt.Metadata) == 0 && opt.Since.IsZero() && opt.Until.IsZero() {
			httpError(w, fmt.Errorf("%w: a bulk %s needs a filter (status, name, id, meta, since or until)", errBadQuery, op))
			return
		}
		opt.Limit, opt.Cursor = storage.MaxFlowPage, ""
		flows, more, err := inspect.Collect(r.Context(), s, opt, maxBulk)
		if err != nil {
			httpError(w, err)
			return
		}
		if r.URL.Query().Get("dry") == "1" {
			// how many it would touch: what the page asks before it does
			writeJSON(w, map[string]any{"count": len(flows), "more": more})
			return
		}
		done, failed := 0, map[string]string{}
		for i, f := range flows {
			if _, err := Steer(r.Context(), s, op, f.ID, c.wait); err != nil {
				failed[f.ID] = err.Error()
				if errors.Is(err, ErrNoWorker) {
					// no worker: the others would wait as long, for nothing
					writeJSON(w, map[string]any{"message": fmt.Sprintf("%s: %d of %d flows, then stopped: %v", op, done, len(flows), err), "failed": failed, "not_tried": len(flows) - i - 1})
					return
				}
				continue
			}
			done++
		}
		writeJSON(w, map[string]any{"message": fmt.Sprintf("%s: %d of %d flows", op, done, len(flows)), "failed": failed})
	})
	mux.HandleFunc("POST /api/flows/{id}/{op}", func(w http.ResponseWriter, r *http.Request) {
		op := sig.Op(r.PathValue("op"))
		switch op {
		case sig.OpSuspend, sig.OpResume, sig.OpInterrupt, sig.OpCancel, sig.OpRetry:
		default:
			http.NotFound(w, r)
			return
		}
		id, err := inspect.Resolve(r.Context(), s, r.PathValue("id"))
		if err != nil {
			httpError(w, err)
			return
		}
		rec, err := Steer(r.Context(), s, op, id, c.wait)
		if err != nil {
			httpError(w, err)
			return
		}
		msg := fmt.Sprintf("%s %s: %s", op, rec.ID, rec.Status)
		if op == sig.OpSuspend {
			msg = "suspended " + rec.ID + ": nothing new starts until it is resumed"
		}
		writeJSON(w, map[string]string{"message": msg})
	})
	return mux
}

// treePage is the most steps or items a tree of the viewer holds per
// container.
const treePage = 100

// failureSearch is how often a live view searches a large swarm's items
// for its failures (inspect.TreeOptions.SkipFailures): the ticks in
// between reuse the failures found last.
const failureSearch = 10 * time.Second

// events streams the tree of flow id as server-sent events, one each
// time it changed (its expiry aside, which moves with every read), until
// the flow ended or the client left.
func events(w http.ResponseWriter, r *http.Request, s storage.Store, id string, every time.Duration) {
	flusher, ok := w.(http.Flusher)
	if !ok {
		http.Error(w, "streaming unsupported", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/event-stream")
	w.Header().Set("Cache-Control", "no-cache")
	var last []byte
	var searched time.Time
	failures := map[string][]*inspect.Node{} // a swarm's failed items past the page, by its id
	for {
		search := time.Since(searched) >= failureSearch
		tree, err := inspect.Tree(r.Context(), s, id, inspect.TreeOptions{MaxChildren: treePage, SkipFailures: !search})
		if err != nil {
			// "failure": an "error" event is the browser's own, for the
			// connection
			fmt.Fprintf(w, "event: failure\ndata: %q\n\n", err.Error())
			flusher.Flush()
			return
		}
		if search {
			searched = time.Now()
			clear(failures)
		}
		tree.Walk(func(n *inspect.Node, _ int) {
			if search {
				failures[n.Record.ID] = n.FailedMore
			} else if n.FailedMore == nil {
				n.FailedMore = failures[n.Record.ID]
			}
		})
		expires := tree.Record.ExpiresAt
		tree.Record.ExpiresAt = time.Time{}
		key, _ := json.Marshal(tree)
		tree.Record.ExpiresAt = expires
		if !bytes.Equal(key, last) {
			b, _ := json.Marshal(tree)
			fmt.Fprintf(w, "data: %s\n\n", b)
			flusher.Flush()
			last = key
		}
		if tree.Record.Finished || tree.Record.Role != sig.RoleRoot && tree.Record.Status.Terminal() {
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
	case errors.Is(err, ErrNotAFlow), errors.Is(err, inspect.ErrAmbiguous), errors.Is(err, errBadQuery):
		code = http.StatusBadRequest
	case errors.Is(err, storage.ErrState), errors.Is(err, ErrEnded), errors.Is(err, ErrNotApplicable):
		code = http.StatusConflict
	case errors.Is(err, ErrNoWorker):
		code = http.StatusGatewayTimeout
	}
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	_ = json.NewEncoder(w).Encode(map[string]string{"error": err.Error()})
}

// maxBulk bounds the flows one bulk action touches.
const maxBulk = 1000

// listOptions reads a listing's filters from r's query: status (comma-
// separated), name, id (a prefix), meta (key=value, repeatable), since
// and until (a duration back from now, or an RFC 3339 time), cursor and
// limit.
func listOptions(r *http.Request) (inspect.ListOptions, error) {
	q := r.URL.Query()
	opt := inspect.ListOptions{Limit: 100, Name: q.Get("name"), Prefix: q.Get("id"), Cursor: q.Get("cursor")}
	if n, err := strconv.Atoi(q.Get("limit")); err == nil && n > 0 {
		opt.Limit = min(n, 1000)
	}
	if st := q.Get("status"); st != "" {
		for _, v := range strings.Split(st, ",") {
			if !sig.Status(v).Valid() {
				return opt, fmt.Errorf("%w: unknown status %q", errBadQuery, v)
			}
			opt.Status = append(opt.Status, sig.Status(v))
		}
	}
	if opt.Cursor != "" {
		if _, _, err := storage.ParseFlowCursor(opt.Cursor); err != nil {
			return opt, fmt.Errorf("%w: %w", errBadQuery, err)
		}
	}
	for _, kv := range q["meta"] {
		if k, v, ok := strings.Cut(kv, "="); ok {
			if opt.Metadata == nil {
				opt.Metadata = map[string]string{}
			}
			opt.Metadata[k] = v
		}
	}
	now := time.Now()
	for _, b := range []struct {
		name string
		to   *time.Time
	}{{"since", &opt.Since}, {"until", &opt.Until}} {
		v := q.Get(b.name)
		if v == "" {
			continue
		}
		t, err := inspect.ParseWhen(v, now)
		if err != nil {
			return opt, fmt.Errorf("%w: %s: %w", errBadQuery, b.name, err)
		}
		*b.to = t
	}
	return opt, nil
}

// errBadQuery wraps the error of a request's bad query (400).
var errBadQuery = errors.New("viewer: bad query")

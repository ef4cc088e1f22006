package viewer

import (
	"crypto/subtle"
	"net"
	"net/http"
	"strings"
)

// guard is what protects the viewer: the hosts it answers to, its token
// and whether it only reads.
type guard struct {
	// hosts are the Host headers accepted (a page of another origin that
	// rebinds its name to this address sends its own name): empty
	// accepts any.
	hosts map[string]bool
	// token, when set, is required: as a bearer token, or as the
	// mageflow_token cookie that /?token=T sets.
	token string
	// readOnly refuses every change.
	readOnly bool
}

// tokenCookie is the cookie that carries the viewer's token.
const tokenCookie = "mageflow_token"

// HostsFor returns the Host headers a viewer listening on addr (its
// actual address) answers to, for WithHosts: the address itself and, on
// loopback, the names of loopback; plus the extra names given (with the
// address's port when they have none).
func HostsFor(addr string, extra ...string) []string {
	m := hostsFor(addr, extra)
	out := make([]string, 0, len(m))
	for h := range m {
		out = append(out, h)
	}
	return out
}

func hostsFor(addr string, extra []string) map[string]bool {
	hosts := map[string]bool{addr: true}
	host, port, err := net.SplitHostPort(addr)
	if err == nil {
		if ip := net.ParseIP(host); ip != nil && ip.IsLoopback() {
			for _, h := range []string{"localhost", "127.0.0.1", "[::1]"} {
				hosts[h+":"+port] = true
			}
		}
	}
	for _, h := range extra {
		if h = strings.TrimSpace(h); h != "" {
			hosts[h] = true
			if port != "" && !strings.Contains(h, ":") {
				hosts[h+":"+port] = true
			}
		}
	}
	return hosts
}

// wrap returns h behind g: /healthz answers without it; a foreign Host is
// refused (421), a missing or wrong token too (401), a change in
// read-only mode (403), and a cross-origin change (403, by
// http.CrossOriginProtection).
func (g guard) wrap(h http.Handler) http.Handler {
	csrf := http.NewCrossOriginProtection()
	inner := csrf.Handler(h)
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		// no page of another site frames the viewer (clickjacking)
		w.Header().Set("X-Frame-Options", "DENY")
		if r.URL.Path == "/healthz" {
			// a probe may reach it by any name or address: it tells
			// nothing
			_, _ = w.Write([]byte("ok\n"))
			return
		}
		if len(g.hosts) > 0 && !g.hosts[r.Host] {
			http.Error(w, "mageflow viewer: unknown host "+r.Host, http.StatusMisdirectedRequest)
			return
		}
		if g.token != "" && !g.authorized(w, r) {
			if w.Header().Get("Location") != "" {
				return // redirected after setting the cookie
			}
			w.Header().Set("WWW-Authenticate", `Bearer realm="mageflow"`)
			http.Error(w, "mageflow viewer: a token is required (open /?token=T, or send Authorization: Bearer T)", http.StatusUnauthorized)
			return
		}
		if g.readOnly && r.Method != http.MethodGet && r.Method != http.MethodHead {
			http.Error(w, "mageflow viewer: read-only", http.StatusForbidden)
			return
		}
		inner.ServeHTTP(w, r)
	})
}

// authorized reports whether r carries the token; /?token=T sets it as a
// cookie for the page's later requests.
func (g guard) authorized(w http.ResponseWriter, r *http.Request) bool {
	same := func(t string) bool { return subtle.ConstantTimeCompare([]byte(t), []byte(g.token)) == 1 }
	if t, ok := strings.CutPrefix(r.Header.Get("Authorization"), "Bearer "); ok && same(t) {
		return true
	}
	if c, err := r.Cookie(tokenCookie); err == nil && same(c.Value) {
		return true
	}
	if t := r.URL.Query().Get("token"); t != "" && same(t) && r.Method == http.MethodGet {
		// no Path: the browser scopes the cookie to where the viewer is
		// mounted
		http.SetCookie(w, &http.Cookie{Name: tokenCookie, Value: t, HttpOnly: true, Secure: r.TLS != nil, SameSite: http.SameSiteStrictMode})
		// and the token leaves the address bar and the history: a
		// reference relative to the request's own path, which holds
		// wherever the viewer is mounted (http.StripPrefix shortens the
		// path the handler sees, not the browser's)
		q := r.URL.Query()
		q.Del("token")
		loc := r.URL.Path[strings.LastIndex(r.URL.Path, "/")+1:]
		if loc == "" {
			loc = "./"
		}
		if len(q) > 0 {
			loc += "?" + q.Encode()
		}
		w.Header().Set("Location", loc)
		w.WriteHeader(http.StatusSeeOther)
		return false
	}
	return false
}

// Loopback reports whether addr (host:port) binds only loopback: a
// viewer beyond it should require a token.
func Loopback(addr string) bool {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return false
	}
	if host == "localhost" {
		return true
	}
	ip := net.ParseIP(host)
	return ip != nil && ip.IsLoopback()
}

// Guard returns h behind the checks the viewer's options set, for a
// handler served beside the viewer (the command's MCP server over HTTP):
// the Host headers of WithHosts, the token of WithToken, ReadOnly's
// refusal of changes, and the refusal of cross-origin changes. /healthz
// answers ok without them.
func Guard(h http.Handler, opts ...Option) http.Handler {
	var c config
	for _, o := range opts {
		if o != nil {
			o(&c)
		}
	}
	return c.guard.wrap(h)
}

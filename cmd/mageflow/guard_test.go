package main

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/mageflow-go/mageflow/flow"
)

// The viewer refuses a change from another origin, a foreign Host (DNS
// rebinding), a request without its token, and changes in read-only mode;
// /healthz answers.
func TestViewerGuards(t *testing.T) {
	e := newEnv(t)
	id := finished(t, e, flow.Chain[int](inc))
	do := func(srv *httptest.Server, method, path string, hdr map[string]string) (int, string) {
		t.Helper()
		req, err := http.NewRequest(method, srv.URL+path, nil)
		if err != nil {
			t.Fatal(err)
		}
		for k, v := range hdr {
			if k == "Host" {
				req.Host = v
				continue
			}
			req.Header.Set(k, v)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		defer res.Body.Close()
		b, _ := io.ReadAll(res.Body)
		return res.StatusCode, string(b)
	}
	start := func(g guard) *httptest.Server {
		srv := httptest.NewUnstartedServer(nil)
		srv.Start()
		if g.hosts != nil {
			g.hosts = hostsFor(srv.Listener.Addr().String(), nil)
		}
		srv.Config.Handler = g.wrap(viewer(e.storeOf(t), 5*time.Millisecond))
		t.Cleanup(srv.Close)
		return srv
	}

	open := start(guard{hosts: map[string]bool{}})
	if code, _ := do(open, "GET", "/api/flows/"+id, nil); code != http.StatusOK {
		t.Errorf("GET of a flow: %d", code)
	}
	if code, body := do(open, "POST", "/api/flows/"+id+"/cancel", map[string]string{"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"}); code != http.StatusForbidden {
		t.Errorf("a cross-origin POST: %d %s, want 403", code, body)
	}
	if code, _ := do(open, "GET", "/api/flows", map[string]string{"Host": "evil.example:80"}); code != http.StatusMisdirectedRequest {
		t.Errorf("a foreign Host: %d, want 421", code)
	}
	if code, body := do(open, "GET", "/healthz", nil); code != http.StatusOK || body != "ok\n" {
		t.Errorf("/healthz: %d %q", code, body)
	}

	locked := start(guard{token: "s3cret"})
	for _, path := range []string{"/", "/api/flows", "/api/flows/" + id} {
		if code, _ := do(locked, "GET", path, nil); code != http.StatusUnauthorized {
			t.Errorf("GET %s without the token: %d, want 401", path, code)
		}
	}
	if code, _ := do(locked, "GET", "/api/flows", map[string]string{"Authorization": "Bearer wrong"}); code != http.StatusUnauthorized {
		t.Errorf("a wrong token: %d, want 401", code)
	}
	if code, _ := do(locked, "GET", "/api/flows", map[string]string{"Authorization": "Bearer s3cret"}); code != http.StatusOK {
		t.Errorf("the token: %d, want 200", code)
	}
	res, err := http.Get(locked.URL + "/?token=s3cret")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	var cookie string
	for _, c := range res.Cookies() {
		if c.Name == tokenCookie {
			cookie = c.Name + "=" + c.Value
		}
	}
	if res.StatusCode != http.StatusOK || cookie == "" {
		t.Fatalf("/?token=: %d, cookie %q", res.StatusCode, cookie)
	}
	if code, _ := do(locked, "GET", "/api/flows", map[string]string{"Cookie": cookie}); code != http.StatusOK {
		t.Errorf("the token's cookie: %d, want 200", code)
	}

	ro := start(guard{readOnly: true})
	if code, body := do(ro, "POST", "/api/flows/"+id+"/retry", nil); code != http.StatusForbidden || !strings.Contains(body, "read-only") {
		t.Errorf("a change in read-only mode: %d %s, want 403", code, body)
	}
	if code, _ := do(ro, "GET", "/api/flows", nil); code != http.StatusOK {
		t.Errorf("a read in read-only mode: %d", code)
	}

	if out := e.mageflow(t, 2, "serve", "--addr", "0.0.0.0:0"); !strings.Contains(out, "give --token") {
		t.Errorf("serve beyond loopback without a token: %s", out)
	}
}

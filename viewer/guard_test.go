package viewer_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"testing"

	"github.com/mageflow-go/mageflow/flow"
	"github.com/mageflow-go/mageflow/flowtest"
	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/task"
	"github.com/mageflow-go/mageflow/viewer"
)

var (
	inc  = task.New("inc", func(ctx context.Context, n int) (int, error) { return n + 1, nil })
	boom = task.New("boom", func(ctx context.Context, n int) (int, error) {
		return 0, task.NonRetryable(errors.New("card declined"))
	})
)

// env is a flowtest client whose flows the viewer shows.
func env(t *testing.T) *flowtest.Env {
	e := flowtest.New(t)
	e.Register(inc, boom)
	return e
}

// do sends a request to srv and returns its status and body.
func do(t *testing.T, srv *httptest.Server, method, path string, hdr map[string]string) (int, string) {
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

// serve serves the viewer of e's store with opts, answering to its own
// address only.
func serve(t *testing.T, e *flowtest.Env, opts ...viewer.Option) *httptest.Server {
	srv := httptest.NewUnstartedServer(nil)
	srv.Start()
	t.Cleanup(srv.Close)
	opts = append([]viewer.Option{viewer.WithHosts(viewer.HostsFor(srv.Listener.Addr().String())...)}, opts...)
	srv.Config.Handler = viewer.New(e.Store, opts...)
	return srv
}

// The viewer refuses a change from another origin, a foreign Host (DNS
// rebinding), a request without its token, and changes in read-only mode;
// /healthz answers.
func TestGuards(t *testing.T) {
	e := env(t)
	id := flowtest.Start(t, e, flow.Chain[int](inc), 1).ID()

	open := serve(t, e)
	if code, _ := do(t, open, "GET", "/api/flows/"+id, nil); code != http.StatusOK {
		t.Errorf("GET of a flow: %d", code)
	}
	if code, body := do(t, open, "POST", "/api/flows/"+id+"/cancel", map[string]string{"Origin": "http://evil.example", "Sec-Fetch-Site": "cross-site"}); code != http.StatusForbidden {
		t.Errorf("a cross-origin POST: %d %s, want 403", code, body)
	}
	if code, _ := do(t, open, "GET", "/api/flows", map[string]string{"Host": "evil.example:80"}); code != http.StatusMisdirectedRequest {
		t.Errorf("a foreign Host: %d, want 421", code)
	}
	for _, host := range []string{"", "10.0.0.7:8080"} { // a probe may use any address
		if code, body := do(t, open, "GET", "/healthz", map[string]string{"Host": host}); code != http.StatusOK || body != "ok\n" {
			t.Errorf("/healthz by host %q: %d %q", host, code, body)
		}
	}

	locked := serve(t, e, viewer.WithToken("s3cret"))
	for _, path := range []string{"/", "/api/flows", "/api/flows/" + id} {
		if code, _ := do(t, locked, "GET", path, nil); code != http.StatusUnauthorized {
			t.Errorf("GET %s without the token: %d, want 401", path, code)
		}
	}
	if code, _ := do(t, locked, "GET", "/api/flows", map[string]string{"Authorization": "Bearer wrong"}); code != http.StatusUnauthorized {
		t.Errorf("a wrong token: %d, want 401", code)
	}
	if code, _ := do(t, locked, "GET", "/api/flows", map[string]string{"Authorization": "Bearer s3cret"}); code != http.StatusOK {
		t.Errorf("the token: %d, want 200", code)
	}
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	res, err := noFollow.Get(locked.URL + "/?token=s3cret")
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	var cookie string
	for _, c := range res.Cookies() {
		cookie = c.Name + "=" + c.Value
		if !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "" {
			t.Errorf("the token's cookie: %+v, want HttpOnly, SameSite strict, no path", c)
		}
	}
	if res.StatusCode != http.StatusSeeOther || cookie == "" || strings.Contains(res.Header.Get("Location"), "token") {
		t.Fatalf("/?token=: %d, cookie %q, to %q; want a redirect away from the token, with the cookie", res.StatusCode, cookie, res.Header.Get("Location"))
	}
	if got := res.Header.Get("X-Frame-Options"); got != "DENY" {
		t.Errorf("X-Frame-Options %q, want DENY", got)
	}
	if code, _ := do(t, locked, "GET", "/api/flows", map[string]string{"Cookie": cookie}); code != http.StatusOK {
		t.Errorf("the token's cookie: %d, want 200", code)
	}

	ro := serve(t, e, viewer.ReadOnly())
	if code, body := do(t, ro, "POST", "/api/flows/"+id+"/retry", nil); code != http.StatusForbidden || !strings.Contains(body, "read-only") {
		t.Errorf("a change in read-only mode: %d %s, want 403", code, body)
	}
	if code, body := do(t, ro, "GET", "/api/config", nil); code != http.StatusOK || !strings.Contains(body, `"read_only":true`) {
		t.Errorf("config in read-only mode: %d %s", code, body)
	}
}

// Mounted under a path, the viewer serves its page and API there, and
// finds a flow by an id prefix; Retry through it makes a failed flow
// run again.
func TestMountedAndRetry(t *testing.T) {
	e := env(t)
	var down = true
	flowtest.Stub(e, boom, func(ctx context.Context, n int) (int, error) {
		if down {
			return 0, task.NonRetryable(errors.New("card declined"))
		}
		return n * 10, nil
	})
	run := flowtest.Start(t, e, flow.Named("checkout", flow.Then(inc, boom)), 1)
	mux := http.NewServeMux()
	mux.Handle("/mageflow/", http.StripPrefix("/mageflow", viewer.New(e.Store)))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	if code, body := do(t, srv, "GET", "/mageflow/", nil); code != http.StatusOK || !strings.Contains(body, "<html") {
		t.Fatalf("the page: %d", code)
	}
	code, body := do(t, srv, "GET", "/mageflow/api/flows?name=checkout&status=failed", nil)
	var flows []struct {
		ID   string `json:"id"`
		Name string `json:"name"`
	}
	if err := json.Unmarshal([]byte(body), &flows); code != http.StatusOK || err != nil || len(flows) != 1 || flows[0].ID != run.ID() {
		t.Fatalf("the failed checkouts: %d %s", code, body)
	}
	var node struct {
		ID     string     `json:"id"`
		Status sig.Status `json:"status"`
	}
	_, body = do(t, srv, "GET", "/mageflow/api/flows/"+run.ID()[:len(run.ID())-2], nil)
	if err := json.Unmarshal([]byte(body), &node); err != nil || node.ID != run.ID() || node.Status != sig.Failed {
		t.Fatalf("a flow by an id prefix: %s", body)
	}
	down = false
	if code, body := do(t, srv, "POST", "/mageflow/api/flows/"+run.ID()[:len(run.ID())-2]+"/retry", nil); code != http.StatusOK {
		t.Fatalf("retry by an id prefix: %d %s", code, body)
	}
	e.Quiesce()
	if out, err := run.Wait(context.Background()); err != nil || out != 20 {
		t.Errorf("after a retry through the viewer: %d, %v", out, err)
	}
}

// Mounted under a path with a token, the link that carries the token
// sets its cookie and sends the browser back to where it was, under the
// viewer's path, without the token.
func TestMountedTokenLink(t *testing.T) {
	e := env(t)
	mux := http.NewServeMux()
	mux.Handle("/mageflow/", http.StripPrefix("/mageflow", viewer.New(e.Store, viewer.WithToken("s3cret"))))
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	noFollow := &http.Client{CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	for link, want := range map[string]string{
		"/mageflow/?token=s3cret":                         "/mageflow/",
		"/mageflow/api/flows?status=failed&token=s3cret":  "/mageflow/api/flows?status=failed",
		"/mageflow/api/flows/ABCD/items?token=s3cret&x=1": "/mageflow/api/flows/ABCD/items?x=1",
	} {
		res, err := noFollow.Get(srv.URL + link)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		loc, err := res.Location()
		if err != nil || res.StatusCode != http.StatusSeeOther || loc.RequestURI() != want {
			t.Errorf("GET %s: %d to %v (%v), want a redirect to %s", link, res.StatusCode, loc, err, want)
		}
	}
}

// A swarm's items come a page at a time, filtered by status.
func TestItemsPaged(t *testing.T) {
	e := env(t)
	items := make([]flow.Flow[int, int], 0, 120)
	for i := range 120 {
		if i%10 == 3 {
			items = append(items, boom)
		} else {
			items = append(items, inc)
		}
	}
	run := flowtest.Start(t, e, flow.Swarm(items...), 1)
	srv := serve(t, e)
	type page struct {
		Items []struct {
			Index  int        `json:"index"`
			Status sig.Status `json:"status"`
		} `json:"items"`
		Next int `json:"next"`
	}
	var got []int
	from := 0
	for range 10 {
		_, body := do(t, srv, "GET", "/api/flows/"+run.ID()+"/items?status=failed&limit=5&from="+strconv.Itoa(from), nil)
		var p page
		if err := json.Unmarshal([]byte(body), &p); err != nil {
			t.Fatalf("%v: %s", err, body)
		}
		for _, it := range p.Items {
			if it.Status != sig.Failed {
				t.Errorf("item %d is %s in a page of failed items", it.Index, it.Status)
			}
			got = append(got, it.Index)
		}
		if p.Next < 0 {
			break
		}
		from = p.Next
	}
	want := []int{3, 13, 23, 33, 43, 53, 63, 73, 83, 93, 103, 113}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("failed items, 5 a page: %v, want %v", got, want)
	}
}

// The list filters by creation time (since, until: a duration back from
// now or an RFC 3339 time) and refuses a time it cannot read.
func TestListByTime(t *testing.T) {
	e := env(t)
	run := flowtest.Start(t, e, flow.Then(inc, inc), 1)
	srv := serve(t, e)
	list := func(q string) []string {
		code, body := do(t, srv, "GET", "/api/flows?"+q, nil)
		if code != http.StatusOK {
			t.Fatalf("GET /api/flows?%s: %d %s", q, code, body)
		}
		var flows []struct {
			ID string `json:"id"`
		}
		if err := json.Unmarshal([]byte(body), &flows); err != nil {
			t.Fatalf("%v: %s", err, body)
		}
		ids := make([]string, len(flows))
		for i, f := range flows {
			ids[i] = f.ID
		}
		return ids
	}
	if got := list("since=2000-01-01T00:00:00Z&until=2200-01-01T00:00:00Z"); len(got) != 1 || got[0] != run.ID() {
		t.Errorf("since 2000, until 2200: %v, want [%s]", got, run.ID())
	}
	if got := list("since=2200-01-01T00:00:00Z"); len(got) != 0 {
		t.Errorf("since 2200: %v, want none", got)
	}
	if got := list("until=2000-01-01T00:00:00Z"); len(got) != 0 {
		t.Errorf("until 2000: %v, want none", got)
	}
	if code, body := do(t, srv, "GET", "/api/flows?since=yesterday", nil); code != http.StatusBadRequest || !strings.Contains(body, `since`) {
		t.Errorf("since=yesterday: %d %s, want 400 naming the parameter", code, body)
	}
}

// A bad query is a 400, a missing flow a 404, also for its live view
// (which the browser then does not reconnect to).
func TestBadRequests(t *testing.T) {
	e := env(t)
	srv := serve(t, e)
	for path, want := range map[string]int{
		"/api/flows?status=sleepy":                       http.StatusBadRequest,
		"/api/flows?cursor=nonsense":                     http.StatusBadRequest,
		"/api/flows?until=soon":                          http.StatusBadRequest,
		"/api/flows/01M8AY3ZQCFYNCEY35P1HEHTMQ":          http.StatusNotFound,
		"/api/flows/01M8AY3ZQCFYNCEY35P1HEHTMQ/events":   http.StatusNotFound,
		"/api/flows/01M8AY3ZQCFYNCEY35P1HEHTMQ/items":    http.StatusNotFound,
		"/api/flows/01M8AY3ZQCFYNCEY35P1HEHTMQ.3/events": http.StatusNotFound,
	} {
		if code, body := do(t, srv, "GET", path, nil); code != want || !strings.Contains(body, `"error"`) {
			t.Errorf("GET %s: %d %s, want %d with an error", path, code, body, want)
		}
	}
	if code, body := do(t, srv, "POST", "/api/bulk/cancel", nil); code != http.StatusBadRequest {
		t.Errorf("a bulk cancel without a filter: %d %s, want 400", code, body)
	}
}

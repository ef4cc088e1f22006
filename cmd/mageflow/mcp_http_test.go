package main

import (
	"context"
	"net/http"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/modelcontextprotocol/go-sdk/mcp"
)

// lineWriter hands the lines written to it to a channel.
type lineWriter struct {
	mu    sync.Mutex
	buf   string
	lines chan string
}

func (w *lineWriter) Write(p []byte) (int, error) {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.buf += string(p)
	for {
		l, rest, ok := strings.Cut(w.buf, "\n")
		if !ok {
			return len(p), nil
		}
		w.buf = rest
		select {
		case w.lines <- l:
		default:
		}
	}
}

// mcpHTTP runs `mageflow mcp --addr 127.0.0.1:0` with args on e's store
// until the test ends, and returns its endpoint.
func mcpHTTP(t *testing.T, e env, args ...string) string {
	t.Helper()
	ctx, cancel := context.WithCancel(context.Background())
	stderr := &lineWriter{lines: make(chan string, 16)}
	done := make(chan int)
	go func() {
		all := append(append([]string{"--redis", e.url, "--prefix", e.prefix}, e.flags...), append([]string{"mcp", "--addr", "127.0.0.1:0"}, args...)...)
		done <- run(ctx, all, &strings.Builder{}, stderr)
	}()
	t.Cleanup(func() {
		cancel()
		<-done
	})
	select {
	case l := <-stderr.lines:
		m := regexp.MustCompile(`on (http://\S+)`).FindStringSubmatch(l)
		if m == nil {
			t.Fatalf("mageflow mcp --addr: %q", l)
		}
		return m[1]
	case code := <-done:
		t.Fatalf("mageflow mcp --addr exited with %d", code)
	case <-time.After(10 * time.Second):
		t.Fatal("mageflow mcp --addr did not say where it listens")
	}
	return ""
}

// bearer adds a token to every request.
type bearer struct{ token string }

func (b bearer) RoundTrip(r *http.Request) (*http.Response, error) {
	r = r.Clone(r.Context())
	r.Header.Set("Authorization", "Bearer "+b.token)
	return http.DefaultTransport.RoundTrip(r)
}

func TestMCPOverHTTP(t *testing.T) {
	e := newEnv(t)
	id := finished(t, e, inc)
	endpoint := mcpHTTP(t, e, "--token", "s3cret", "--host", "mcp.internal")
	port := endpoint[strings.LastIndex(endpoint, ":")+1 : len(endpoint)-1]
	initialize := `{"jsonrpc":"2.0","id":1,"method":"initialize","params":{"protocolVersion":"2025-06-18","capabilities":{},"clientInfo":{"name":"curl","version":"0"}}}`
	post := func(header map[string]string) int {
		req, err := http.NewRequest(http.MethodPost, endpoint, strings.NewReader(initialize))
		if err != nil {
			t.Fatal(err)
		}
		req.Header.Set("Content-Type", "application/json")
		req.Header.Set("Accept", "application/json, text/event-stream")
		for k, v := range header {
			if k == "Host" {
				req.Host = v // Go sends req.Host, not a Host header
				continue
			}
			req.Header.Set(k, v)
		}
		res, err := http.DefaultClient.Do(req)
		if err != nil {
			t.Fatal(err)
		}
		res.Body.Close()
		return res.StatusCode
	}
	for _, c := range []struct {
		name   string
		header map[string]string
		want   int
	}{
		{"no token", nil, http.StatusUnauthorized},
		{"a wrong token", map[string]string{"Authorization": "Bearer guess"}, http.StatusUnauthorized},
		{"a foreign origin", map[string]string{"Authorization": "Bearer s3cret", "Origin": "https://evil.example"}, http.StatusForbidden},
		{"a foreign host", map[string]string{"Authorization": "Bearer s3cret", "Host": "evil.example"}, http.StatusMisdirectedRequest},
		{"the token", map[string]string{"Authorization": "Bearer s3cret"}, http.StatusOK},
		{"a --host name", map[string]string{"Authorization": "Bearer s3cret", "Host": "mcp.internal:" + port}, http.StatusOK},
	} {
		if got := post(c.header); got != c.want {
			t.Errorf("initialize with %s: status %d, want %d", c.name, got, c.want)
		}
	}
	// a page of another site may not open the event stream either (a GET,
	// which cross-origin protection alone lets through)
	req, err := http.NewRequest(http.MethodGet, endpoint, nil)
	if err != nil {
		t.Fatal(err)
	}
	req.Header.Set("Authorization", "Bearer s3cret")
	req.Header.Set("Origin", "http://evil.example")
	req.Header.Set("Accept", "text/event-stream")
	res, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	res.Body.Close()
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("GET from a foreign origin: status %d, want 403", res.StatusCode)
	}
	// the SDK's own client, with the token
	client := mcp.NewClient(&mcp.Implementation{Name: "mageflow-test", Version: "v0"}, nil)
	ctx, cancel := context.WithTimeout(context.Background(), 20*time.Second)
	defer cancel()
	s, err := client.Connect(ctx, &mcp.StreamableClientTransport{Endpoint: endpoint, HTTPClient: &http.Client{Transport: bearer{"s3cret"}}, DisableStandaloneSSE: true}, nil)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	var flows flowsAnswer
	callTool(t, s, "list_flows", nil, &flows)
	if len(flows.Flows) != 1 || flows.Flows[0].ID != id {
		t.Errorf("list_flows over HTTP: %+v, want %s", flows, id)
	}
	// beyond loopback the server wants a token
	if out := e.mageflow(t, 2, "mcp", "--addr", "0.0.0.0:0"); !strings.Contains(out, "--token") {
		t.Errorf("mcp beyond loopback without a token: %s", out)
	}
}

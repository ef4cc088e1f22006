package main

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"strconv"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/mageflow-go/mageflow/flow"
	"github.com/mageflow-go/mageflow/internal/redistest"
	"github.com/mageflow-go/mageflow/sig"
	"github.com/mageflow-go/mageflow/task"
)

// chromium returns the path of Chromium ($MAGEFLOW_CHROMIUM, or chromium
// on the PATH). Without one the test skips, or fails under
// MAGEFLOW_REQUIRE_SERVICES=1 (.ci/run installs Debian's chromium).
func chromium(t *testing.T) string {
	t.Helper()
	for _, name := range []string{os.Getenv("MAGEFLOW_CHROMIUM"), "chromium", "chromium-browser", "google-chrome"} {
		if name == "" {
			continue
		}
		if path, err := exec.LookPath(name); err == nil {
			return path
		}
	}
	if redistest.Required() {
		t.Fatal("no Chromium: install Debian's chromium or set MAGEFLOW_CHROMIUM (MAGEFLOW_REQUIRE_SERVICES=1)")
	}
	t.Skip("no Chromium: install Debian's chromium or set MAGEFLOW_CHROMIUM")
	return ""
}

// TestViewerInChromium loads the viewer in headless Chromium, opens a
// running flow, sees its nodes, presses Suspend, Resume and Suspend again
// and sees the flow's status change on the page each time (by the
// server-sent events). With
// MAGEFLOW_SCREENSHOT=path it saves a screenshot there (the README's).
func TestViewerInChromium(t *testing.T) {
	path := chromium(t)
	release := make(chan struct{})
	defer close(release)
	wait := task.New("wait", func(ctx context.Context, n int) (int, error) {
		select {
		case <-release:
		case <-ctx.Done():
		}
		return n, nil
	})
	e := newEnv(t, wait)
	finished(t, e, flow.OnError[int, int](flow.Then(flow.Swarm[int, int](inc, boom, inc), flow.Bind(sum, 1)), alert))
	items := []flow.Flow[int, int]{inc, wait, inc, wait, inc, inc}
	running := started(t, e, flow.OnSuccess(flow.Then(flow.Chain[int](inc, inc),
		flow.Then(flow.Swarm(items...).WithConfig(flow.SwarmConfig{MaxConcurrency: 2}), flow.Bind(sum, 1))), inc))
	srv := viewerOf(t, e)

	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(path),
		chromedp.NoSandbox,
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(1400, 700),
	)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	defer cancel()
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	defer cancelAlloc()
	bctx, cancelBrowser := chromedp.NewContext(actx)
	defer cancelBrowser()

	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }
	// click clicks sel in the page's own script: the page redraws as
	// events arrive, so a node found by the protocol may be gone a moment
	// later, while the page always finds the current one.
	click := func(sel string) chromedp.Action[chromedp.Void] {
		return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
			var v chromedp.Void
			ok, err := chromedp.Evaluate[bool](`(() => { const e = document.querySelector(`+strconv.Quote(sel)+`); if (!e) return false; e.click(); return true; })()`)(ctx, tg)
			if err == nil && !ok {
				err = fmt.Errorf("no %s on the page", sel)
			}
			return v, err
		}
	}
	node := func(id string) string { return `#main .node[data-id="` + id + `"]` }
	err := chromedp.Do(bctx,
		chromedp.Navigate(srv.URL+"/"),
		chromedp.WaitVisible(css(`#flows .flow[data-id="`+running+`"]`)),
		click(`#flows .flow[data-id="`+running+`"]`),
		chromedp.WaitVisible(css(node(running)+`[data-status="active"]`)),
		// the chain's steps, the swarm and its items are drawn
		chromedp.WaitVisible(css(node(sig.ChildID(running, 1)))),
		chromedp.WaitVisible(css(node(sig.ChildID(sig.ChildID(running, 2), 5)))),
		click(`#suspend`),
		chromedp.WaitVisible(css(node(running)+`[data-status="suspended"]`)),
		// Resume goes through a worker of the application (the test's).
		click(`#resume`),
		chromedp.WaitVisible(css(node(running)+`[data-status="active"]`)),
		click(`#suspend`),
		chromedp.WaitVisible(css(node(running)+`[data-status="suspended"]`)),
		click(node(sig.ChildID(running, 2))),
		chromedp.WaitVisible(css(`#info h3`)),
	)
	if err != nil {
		t.Fatalf("viewer in Chromium: %v", err)
	}
	png, err := chromedp.Run(bctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	r, err := e.storeOf(t).Get(context.Background(), running)
	if err != nil || r.Status != sig.Suspended {
		t.Fatalf("flow after Suspend on the page: %v %v; want suspended", r, err)
	}
	if out := os.Getenv("MAGEFLOW_SCREENSHOT"); out != "" {
		if err := os.WriteFile(out, png, 0o644); err != nil {
			t.Fatal(err)
		}
		t.Logf("screenshot written to %s", out)
	}
}

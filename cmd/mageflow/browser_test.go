package main

import (
	"context"
	"errors"
	"fmt"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"github.com/mageflow-go/mageflow/flow"
	"github.com/mageflow-go/mageflow/flowsuite"
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
// server-sent events). With MAGEFLOW_SCREENSHOTS=dir (an absolute path:
// a test runs in its package's directory) the browser tests save the
// README's screenshots there: docs/viewer.png (this flow),
// viewer-retry.png, viewer-bulk.png, viewer-list.png, viewer-swarm.png
// and viewer-node.png.
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

	bctx := browser(t, path)
	css := func(sel string) chromedp.CSS { return chromedp.CSS(sel) }
	click := clickIn
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
		// the swarm's summary and its items' table, filtered by status
		chromedp.WaitVisible(css(`#items tr[data-id="`+sig.ChildID(sig.ChildID(running, 2), 5)+`"]`)),
		chromedp.Evaluate[chromedp.Void](`(() => { const f = document.getElementById("items-status"); f.value = "done"; f.dispatchEvent(new Event("change")); })()`),
		chromedp.WaitNotPresent(css(`#items tr[data-status="pending"], #items tr[data-status="active"], #items tr[data-status="suspended"]`)),
	)
	if err != nil {
		t.Fatalf("viewer in Chromium: %v", err)
	}
	screenshot(t, bctx, "viewer.png")
	r, err := e.storeOf(t).Get(context.Background(), running)
	if err != nil || r.Status != sig.Suspended {
		t.Fatalf("flow after Suspend on the page: %v %v; want suspended", r, err)
	}
}

// screenshot saves the page as name in $MAGEFLOW_SCREENSHOTS, if set.
func screenshot(t *testing.T, bctx context.Context, name string) {
	t.Helper()
	dir := os.Getenv("MAGEFLOW_SCREENSHOTS")
	if dir == "" {
		return
	}
	png, err := chromedp.Run(bctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	if err := os.WriteFile(filepath.Join(dir, name), png, 0o644); err != nil {
		t.Fatal(err)
	}
	t.Logf("screenshot written to %s", filepath.Join(dir, name))
}

// browser starts headless Chromium at path for t and returns its context.
func browser(t *testing.T, path string) context.Context {
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
		chromedp.WindowSize(1400, 900),
	)
	ctx, cancel := context.WithTimeout(context.Background(), 60*time.Second)
	t.Cleanup(cancel)
	actx, cancelAlloc := chromedp.NewExecAllocator(ctx, opts...)
	t.Cleanup(cancelAlloc)
	bctx, cancelBrowser := chromedp.NewContext(actx)
	t.Cleanup(cancelBrowser)
	return bctx
}

// clickIn clicks sel in the page's own script: the page redraws as
// events arrive, so a node found by the protocol may be gone a moment
// later, while the page always finds the current one.
func clickIn(sel string) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		var v chromedp.Void
		ok, err := chromedp.Evaluate[bool](`(() => { const e = document.querySelector(`+strconv.Quote(sel)+`); if (!e) return false; e.click(); return true; })()`)(ctx, tg)
		if err == nil && !ok {
			err = fmt.Errorf("no %s on the page", sel)
		}
		return v, err
	}
}

// TestViewerFiltersAndRetriesInChromium opens a failed flow by its URL,
// sees only the actions that apply (Retry, not Suspend), retries it and
// sees it end done; and filters the list by name.
func TestViewerFiltersAndRetriesInChromium(t *testing.T) {
	path := chromium(t)
	var down atomic.Bool
	down.Store(true)
	pay := task.New("pay", func(ctx context.Context, n int) (int, error) {
		if down.Load() {
			return 0, task.NonRetryable(errors.New("provider down"))
		}
		return n * 10, nil
	})
	release := make(chan struct{})
	defer close(release)
	hold := task.New("hold", func(ctx context.Context, n int) (int, error) {
		select {
		case <-release:
		case <-ctx.Done():
		}
		return n, ctx.Err()
	})
	e := newEnv(t, pay, hold)
	failed := finished(t, e, flow.Named("payment", flow.Then(inc, pay)))
	finished(t, e, flow.Named("other", flow.Chain[int](inc)))
	srv := viewerOf(t, e)
	bctx := browser(t, path)
	err := chromedp.Do(bctx,
		chromedp.Navigate(srv.URL+"/#"+failed[:20]), // a prefix of its id: the actions take it too
		chromedp.WaitVisible(chromedp.CSS(`#main .node[data-id="`+failed+`"][data-status="failed"]`)),
		chromedp.WaitVisible(chromedp.CSS(`#retry`)),
		rows("#flows .flow", 2),
	)
	if err != nil {
		t.Fatalf("a failed flow by its URL: %v", err)
	}
	if n, err := chromedp.Run(bctx, chromedp.Evaluate[int](`document.querySelectorAll("#suspend, #resume").length`)); err != nil || n != 0 {
		t.Errorf("actions that do not apply to a failed flow: %d shown (%v)", n, err)
	}
	down.Store(false)
	err = chromedp.Do(bctx,
		clickIn(`#retry`),
		chromedp.WaitVisible(chromedp.CSS(`#main .node[data-id="`+failed+`"][data-status="done"]`)),
		chromedp.Evaluate[chromedp.Void](`(() => { const f = document.getElementById("f-name"); f.value = "payment"; f.dispatchEvent(new Event("input")); })()`),
		rows("#flows .flow", 1),
		chromedp.WaitVisible(chromedp.CSS(`#flows .flow[data-id="`+failed+`"]`)),
	)
	if err != nil {
		t.Fatalf("retry and filter in the viewer: %v", err)
	}
	screenshot(t, bctx, "viewer-retry.png")
	if r, err := e.storeOf(t).Get(context.Background(), failed); err != nil || r.Status != sig.Done {
		t.Fatalf("flow after Retry on the page: %v %v; want done", r, err)
	}

	// a node by its URL, then a bulk cancel of a filtered list
	step := sig.ChildID(failed, 1)
	stuck := func() string { return started(t, e, flow.Named("bulkme", flow.Then(inc, hold))) }
	a, b := stuck(), stuck()
	err = chromedp.Do(bctx,
		chromedp.Navigate(srv.URL+"/#"+step),
		chromedp.WaitVisible(chromedp.CSS(`#info h3`)),
		chromedp.Evaluate[chromedp.Void](`(() => { const f = document.getElementById("f-name"); f.value = "bulkme"; f.dispatchEvent(new Event("input")); })()`),
		rows("#flows .flow", 2),
		clickIn(`#bulk-cancel`),
		chromedp.WaitVisible(chromedp.CSS(`#bulk-cancel-yes`)),
	)
	if err != nil {
		t.Fatalf("a node by its URL, and a bulk cancel: %v", err)
	}
	if got, err := chromedp.Run(bctx, chromedp.Evaluate[string](`document.getElementById("bulk-cancel-yes").textContent`)); err != nil || got != "Cancel 2 flows" {
		t.Errorf("the bulk cancel's confirmation: %q (%v), want it to say how many flows it touches", got, err)
	}
	if n, err := chromedp.Run(bctx, chromedp.Evaluate[int](`document.querySelectorAll("#bulk-retry, #bulk-resume").length`)); err != nil || n != 0 {
		t.Errorf("bulk actions that apply to none of the running flows listed: %d shown (%v)", n, err)
	}
	screenshot(t, bctx, "viewer-bulk.png")
	if err := chromedp.Do(bctx, clickIn(`#bulk-cancel-yes`)); err != nil {
		t.Fatalf("a bulk cancel: %v", err)
	}
	if id, err := chromedp.Run(bctx, chromedp.Evaluate[string](`[...document.querySelectorAll("#info div")].map((d) => d.textContent).find((t) => t.startsWith("id: ")) || ""`)); err != nil || id != "id: "+step {
		t.Errorf("the details the URL of node %s shows: %q (%v)", step, id, err)
	}
	for _, id := range []string{a, b} {
		flowsuite.Eventually(t, "flow "+id+" canceled by the bulk action", func() bool {
			r, err := e.storeOf(t).Get(context.Background(), id)
			return err == nil && r.Status == sig.Canceled
		})
	}
}

// TestViewerSwarmAndNodeInChromium lists the flows and filters them by
// metadata; opens a swarm of 120 items by its URL, pages its item table
// and filters it to the failed items; and opens a step by its URL, with
// its bound args, input and error.
func TestViewerSwarmAndNodeInChromium(t *testing.T) {
	path := chromium(t)
	charge := task.New("charge", func(ctx context.Context, a flow.Args[map[string]string, int]) (int, error) {
		return 0, task.NonRetryable(errors.New("card declined for " + a.Args["account"]))
	})
	e := newEnv(t, charge)
	items := make([]flow.Flow[int, int], 120)
	for i := range items {
		items[i] = inc
		if i%50 == 7 {
			items[i] = boom
		}
	}
	nightly := startedWith(t, e, flow.Named("nightly-import", flow.Swarm(items...).WithConfig(flow.SwarmConfig{MaxConcurrency: 8})),
		flow.WithMetadata(map[string]string{"batch": "2026-12-01"}))
	e.mageflow(t, -1, "watch", "--interval", "5ms", nightly)
	checkout := startedWith(t, e, flow.Named("checkout", flow.Then(inc, flow.Bind(charge, map[string]string{"account": "acct-42"}))),
		flow.WithMetadata(map[string]string{"customer": "42"}))
	e.mageflow(t, -1, "watch", "--interval", "5ms", checkout)
	finished(t, e, flow.Chain[int](inc, inc, inc))
	srv := viewerOf(t, e)
	bctx := browser(t, path)
	set := func(id, value string) chromedp.Action[chromedp.Void] {
		return chromedp.Evaluate[chromedp.Void](`(() => { const f = document.getElementById(` + strconv.Quote(id) + `); f.value = ` + strconv.Quote(value) + `; f.dispatchEvent(new Event("input")); f.dispatchEvent(new Event("change")); })()`)
	}
	text := func(sel string) (string, error) {
		return chromedp.Run(bctx, chromedp.Evaluate[string](`(document.querySelector(`+strconv.Quote(sel)+`) || {}).textContent || ""`))
	}

	// the list, then filtered by metadata
	if err := chromedp.Do(bctx, chromedp.Navigate(srv.URL+"/"), rows("#flows .flow", 3)); err != nil {
		t.Fatalf("the list: %v", err)
	}
	screenshot(t, bctx, "viewer-list.png")
	if got, err := text(`#flows .flow[data-id="` + nightly + `"]`); err != nil || !strings.Contains(got, "nightly-import") || !strings.Contains(got, "batch=2026-12-01") {
		t.Errorf("the row of the swarm: %q (%v), want its name and metadata", got, err)
	}
	if err := chromedp.Do(bctx, set("f-meta", "customer=42"), rows("#flows .flow", 1), chromedp.WaitVisible(chromedp.CSS(`#flows .flow[data-id="`+checkout+`"]`))); err != nil {
		t.Fatalf("the list filtered by metadata: %v", err)
	}

	// the swarm by its URL: its summary and its item table, paged and
	// filtered by status
	err := chromedp.Do(bctx,
		set("f-meta", ""),
		rows("#flows .flow", 3),
		chromedp.Navigate(srv.URL+"/#"+nightly),
		chromedp.WaitVisible(chromedp.CSS(`#main .node[data-id="`+nightly+`"][data-status="done"]`)),
		rows("#items tr", 50),
		clickIn("#items-more"),
		rows("#items tr", 100),
	)
	if err != nil {
		t.Fatalf("the swarm's item table: %v", err)
	}
	if got, err := text("#items-summary"); err != nil || !strings.Contains(got, "items: 120/120 ended, 3 failed") {
		t.Errorf("the swarm's summary: %q (%v)", got, err)
	}
	// in the tree, a swarm this large is its counts and its failed items
	if got, err := text(`#main .summary[data-summary="` + nightly + `"] .counts`); err != nil || got != "117 done3 failed0 running0 pending" {
		t.Errorf("the swarm's counts in the tree: %q (%v)", got, err)
	}
	if err := chromedp.Do(bctx, rows(`#main .node[data-id="`+nightly+`"] .node`, 3), rows(`#main .node[data-id="`+nightly+`"] .node[data-status="failed"]`, 3)); err != nil {
		t.Errorf("the swarm's items in the tree: %v", err)
	}
	if n, err := chromedp.Run(bctx, chromedp.Evaluate[int](`document.querySelectorAll("#retry").length`)); err != nil || n != 0 {
		t.Errorf("Retry shown on a swarm that tolerated its failures (it ended done): %d (%v)", n, err)
	}
	screenshot(t, bctx, "viewer-swarm.png")
	if err := chromedp.Do(bctx, set("items-status", "failed"), rows(`#items tr[data-status="failed"]`, 3), rows("#items tr", 3)); err != nil {
		t.Fatalf("the swarm's failed items: %v", err)
	}

	// a step by its URL: args, input, error
	step := sig.ChildID(checkout, 1)
	if err := chromedp.Do(bctx, chromedp.Navigate(srv.URL+"/#"+step), chromedp.WaitVisible(chromedp.CSS(`#info h3`))); err != nil {
		t.Fatalf("a step by its URL: %v", err)
	}
	info, err := text("#info")
	for _, want := range []string{"id: " + step, "status: failed", "attempts: 1", "ended: ", "args", `"account": "acct-42"`, "input", "card declined for acct-42"} {
		if err != nil || !strings.Contains(info, want) {
			t.Errorf("the details of step %s: %q (%v), want %q", step, info, err, want)
		}
	}
	screenshot(t, bctx, "viewer-node.png")
}

// TestViewerListPagesInChromium pages the list of flows: 50 rows, then
// More reads the page after by its cursor.
func TestViewerListPagesInChromium(t *testing.T) {
	path := chromium(t)
	e := newEnv(t)
	var ids []string
	for range 57 {
		ids = append(ids, started(t, e, flow.Named("filler", flow.Chain[int](inc))))
	}
	srv := viewerOf(t, e)
	bctx := browser(t, path)
	err := chromedp.Do(bctx,
		chromedp.Navigate(srv.URL+"/"),
		rows("#flows .flow", 50),
		chromedp.WaitVisible(chromedp.CSS(`#flows .flow[data-id="`+ids[56]+`"]`)),
		clickIn("#flows-more"),
		rows("#flows .flow", 57),
		chromedp.WaitVisible(chromedp.CSS(`#flows .flow[data-id="`+ids[0]+`"]`)),
		chromedp.WaitNotPresent(chromedp.CSS(`#flows-more`)),
	)
	if err != nil {
		t.Fatalf("the list, paged: %v", err)
	}
	// a flow that is not there, by its URL: the page says so
	missing := "01M8AY3ZQCFYNCEY35P1HEHTMQ"
	if err := chromedp.Do(bctx, chromedp.Navigate(srv.URL+"/#"+missing), chromedp.WaitVisible(chromedp.CSS(`#main p`))); err != nil {
		t.Fatalf("a missing flow by its URL: %v", err)
	}
	for {
		got, err := chromedp.Run(bctx, chromedp.Evaluate[string](`document.querySelector("#main p").textContent`))
		if err != nil {
			t.Fatal(err)
		}
		if strings.Contains(got, "not found") {
			break
		}
		select {
		case <-bctx.Done():
			t.Fatalf("a missing flow by its URL: the page says %q, want that it was not found", got)
		case <-time.After(20 * time.Millisecond):
		}
	}
}

// rows waits until the page holds want elements that match sel.
func rows(sel string, want int) chromedp.Action[chromedp.Void] {
	return func(ctx context.Context, tg *chromedp.Target) (chromedp.Void, error) {
		var v chromedp.Void
		for {
			n, err := chromedp.Evaluate[int](`document.querySelectorAll(`+strconv.Quote(sel)+`).length`)(ctx, tg)
			if err != nil || n == want {
				return v, err
			}
			select {
			case <-ctx.Done():
				return v, fmt.Errorf("%d of %s on the page, want %d: %w", n, sel, want, ctx.Err())
			case <-time.After(20 * time.Millisecond):
			}
		}
	}
}

// Package release_test checks that the modules of this repository can be
// published: served by a module proxy at a version, a user's module builds
// against them with no workspace and no replace.
package release_test

import (
	"archive/zip"
	"bufio"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// version is the pretend version the proxy serves: the one go.work maps
// to the tree, which the nested modules require.
var version string

// modules are the directories of the modules a user requires.
var modules = []string{".", "backend/hatchet", "cmd/mageflow", "otel"}

// TestModulesArePublishable serves the tree's modules from a file-system
// module proxy at version, as tagging them together would (RELEASING.md),
// and builds a fresh module that imports the root, the Hatchet backend, the OpenTelemetry middleware and
// the Redis store, and the command, with GOWORK=off and no replace.
func TestModulesArePublishable(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a module with the go command")
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	root, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	files, err := exec.Command("git", "-C", root, "ls-files").Output()
	if err != nil {
		t.Skipf("git ls-files: %v (the test packs the files git tracks)", err)
	}
	tracked := strings.Split(strings.TrimSpace(string(files)), "\n")
	version = workVersion(t, filepath.Join(root, "go.work"))
	proxy := t.TempDir()
	var sums []string
	for _, dir := range modules {
		path := modulePath(t, filepath.Join(root, dir, "go.mod"))
		pack(t, proxy, root, dir, path, tracked)
		sums = append(sums, read(t, filepath.Join(root, dir, "go.sum")))
	}

	consumer := t.TempDir()
	write(t, filepath.Join(consumer, "go.mod"), `module example.com/consumer

go 1.26.0

require (
	github.com/mageflow-go/mageflow `+version+`
	github.com/mageflow-go/mageflow/backend/hatchet `+version+`
	github.com/mageflow-go/mageflow/cmd/mageflow `+version+`
	github.com/mageflow-go/mageflow/otel `+version+`
)
`)
	write(t, filepath.Join(consumer, "go.sum"), strings.Join(sums, ""))
	write(t, filepath.Join(consumer, "main.go"), `package main

import (
	"context"

	goredis "github.com/redis/go-redis/v9"

	"github.com/mageflow-go/mageflow"
	hatchetbackend "github.com/mageflow-go/mageflow/backend/hatchet"
	membackend "github.com/mageflow-go/mageflow/backend/memory"
	"github.com/mageflow-go/mageflow/flow"
	otelmageflow "github.com/mageflow-go/mageflow/otel"
	redisstore "github.com/mageflow-go/mageflow/storage/redis"
	"github.com/mageflow-go/mageflow/task"
)

var double = task.New("double", func(ctx context.Context, n int) (int, error) { return 2 * n, nil })

func main() {
	store, _ := redisstore.New(goredis.NewClient(&goredis.Options{}))
	_, _ = mageflow.New(membackend.New(), store, mageflow.WithMiddleware(otelmageflow.New()))
	hc, _ := hatchetbackend.NewClient()
	_, _ = hatchetbackend.New(hc)
	_ = flow.Then(double, double)
}
`)
	// A module cache of the consumer's own, so that the pretend version
	// never lands in the user's; the dependencies come from the user's
	// cache (its download directory is a module proxy), then from the
	// user's proxy, unless that is off.
	goenv := func(name string) string {
		out, err := exec.Command(goBin, "env", name).Output()
		if err != nil {
			t.Fatal(err)
		}
		return strings.TrimSpace(string(out))
	}
	proxies := "file://" + filepath.ToSlash(proxy) + ",file://" + filepath.ToSlash(filepath.Join(goenv("GOMODCACHE"), "cache", "download"))
	if upstream := goenv("GOPROXY"); upstream != "off" {
		proxies += "," + upstream
	}
	modcache := t.TempDir()
	t.Cleanup(func() {
		// the cache's files are read-only: let go remove them (this
		// cache only: GOMODCACHE is the consumer's)
		clean := exec.Command(goBin, "clean", "-modcache")
		clean.Env = append(os.Environ(), "GOMODCACHE="+modcache)
		_ = clean.Run()
	})
	// mageflow's modules come from the test's proxy whatever the user's
	// GOPRIVATE or GONOPROXY say; only their checksums are not looked up
	env := append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod", "GOMODCACHE="+modcache, "GOPROXY="+proxies,
		"GONOSUMDB=github.com/mageflow-go", "GOPRIVATE=none.invalid", "GONOPROXY=none.invalid")
	for _, args := range [][]string{
		{"build", "-o", os.DevNull, "."},
		{"build", "-o", os.DevNull, "github.com/mageflow-go/mageflow/cmd/mageflow"},
	} {
		cmd := exec.Command(goBin, args...)
		cmd.Dir = consumer
		cmd.Env = env
		if out, err := cmd.CombinedOutput(); err != nil {
			t.Fatalf("go %s in a module that requires the tree's modules at %s: %v\n%s", strings.Join(args, " "), version, err, out)
		}
	}
	// as the README says to install the command
	install := exec.Command(goBin, "install", "github.com/mageflow-go/mageflow/cmd/mageflow@"+version)
	install.Dir = t.TempDir()
	install.Env = append(env[:len(env):len(env)], "GOFLAGS=", "GOBIN="+t.TempDir())
	if out, err := install.CombinedOutput(); err != nil {
		t.Fatalf("go install github.com/mageflow-go/mageflow/cmd/mageflow@%s: %v\n%s", version, err, out)
	}
}

// workVersion reads the version go.work's replace maps to the tree.
func workVersion(t *testing.T, gowork string) string {
	t.Helper()
	for _, l := range strings.Split(read(t, gowork), "\n") {
		f := strings.Fields(l)
		if len(f) == 5 && f[0] == "replace" && f[1] == "github.com/mageflow-go/mageflow" && f[3] == "=>" && f[4] == "./" {
			return f[2]
		}
	}
	t.Fatalf("%s has no line replace github.com/mageflow-go/mageflow <version> => ./", gowork)
	return ""
}

// modulePath reads the module path of a go.mod.
func modulePath(t *testing.T, gomod string) string {
	t.Helper()
	f, err := os.Open(gomod)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	s := bufio.NewScanner(f)
	for s.Scan() {
		if p, ok := strings.CutPrefix(s.Text(), "module "); ok {
			return strings.TrimSpace(p)
		}
	}
	t.Fatalf("%s has no module line", gomod)
	return ""
}

// pack writes the module of dir (its tracked files, without those of the
// modules nested in it) to the proxy at version: list, .info, .mod and
// .zip, as a module proxy serves them.
func pack(t *testing.T, proxy, root, dir, path string, tracked []string) {
	t.Helper()
	base := filepath.Join(proxy, filepath.FromSlash(path), "@v")
	if err := os.MkdirAll(base, 0o755); err != nil {
		t.Fatal(err)
	}
	write(t, filepath.Join(base, "list"), version+"\n")
	write(t, filepath.Join(base, version+".info"), `{"Version":"`+version+`","Time":"2026-12-01T00:00:00Z"}`)
	write(t, filepath.Join(base, version+".mod"), read(t, filepath.Join(root, dir, "go.mod")))
	zf, err := os.Create(filepath.Join(base, version+".zip"))
	if err != nil {
		t.Fatal(err)
	}
	defer zf.Close()
	z := zip.NewWriter(zf)
	prefix := filepath.ToSlash(dir) + "/"
	if dir == "." {
		prefix = ""
	}
	for _, f := range tracked {
		rel, ok := strings.CutPrefix(f, prefix)
		if !ok || nested(root, dir, rel) {
			continue
		}
		w, err := z.Create(path + "@" + version + "/" + rel)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := w.Write([]byte(read(t, filepath.Join(root, filepath.FromSlash(f))))); err != nil {
			t.Fatal(err)
		}
	}
	if err := z.Close(); err != nil {
		t.Fatal(err)
	}
}

// nested reports whether rel, a file of the module in dir, belongs to a
// module nested in it (a directory between holds a go.mod).
func nested(root, dir, rel string) bool {
	parts := strings.Split(rel, "/")
	for i := 1; i < len(parts); i++ {
		if _, err := os.Stat(filepath.Join(root, dir, filepath.Join(parts[:i]...), "go.mod")); err == nil {
			return true
		}
	}
	return false
}

func read(t *testing.T, path string) string {
	t.Helper()
	b, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

func write(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

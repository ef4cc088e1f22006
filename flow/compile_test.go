package flow_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestEdgesAreTypeChecked builds small programs against this module: a
// well-typed graph compiles with no explicit type arguments, and a
// mismatched edge does not compile.
func TestEdgesAreTypeChecked(t *testing.T) {
	if testing.Short() {
		t.Skip("builds programs with the go command")
	}
	t.Parallel()
	root, err := filepath.Abs("..")
	if err != nil {
		t.Fatal(err)
	}
	const header = `package main

import (
	"context"
	"strconv"

	"github.com/mageflow-go/mageflow/flow"
	"github.com/mageflow-go/mageflow/task"
)

var (
	double = task.New("double", func(ctx context.Context, n int) (int, error) { return 2 * n, nil })
	show   = task.New("show", func(ctx context.Context, n int) (string, error) { return strconv.Itoa(n), nil })
	notify = task.New("notify", func(ctx context.Context, s string) (bool, error) { return true, nil })
	alert  = task.New("alert", func(ctx context.Context, f flow.Failure[int]) (bool, error) { return true, nil })
	sum    = task.New("sum", func(ctx context.Context, xs []int) (int, error) { return len(xs), nil })
)
`
	cases := []struct {
		name, body string
		want       string // empty: must compile
	}{
		{"well typed", `func main() {
	f := flow.Then(double, show)
	g := flow.OnError(flow.OnSuccess(f, notify), alert)
	s := flow.Then(flow.Swarm(double, flow.Then(double, double)), sum)
	_, _ = g, s
}`, ""},
		{"string into int", `func main() { _ = flow.Then(show, double) }`, "does not match"},
		{"callback of the wrong type", `func main() { _ = flow.OnSuccess(double, notify) }`, "does not match"},
		{"error callback of the wrong type", `func main() { _ = flow.OnError(show, notify) }`, "does not match"},
		{"swarm items of different types", `func main() { _ = flow.Swarm(double, show) }`, "does not match"},
		{"swarm output into a scalar step", `func main() { _ = flow.Then(flow.Swarm(double, double), show) }`, "does not match"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			write := func(name, text string) {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(text), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			write("go.mod", "module edgecheck\n\ngo 1.26\n\nrequire github.com/mageflow-go/mageflow v0.0.0\n\nreplace github.com/mageflow-go/mageflow => "+root+"\n")
			write("main.go", header+tc.body+"\n")
			cmd := exec.Command("go", "build", "-o", os.DevNull, ".")
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "GOFLAGS=-mod=mod", "GOWORK=off")
			out, err := cmd.CombinedOutput()
			switch {
			case tc.want == "" && err != nil:
				t.Fatalf("well-typed program does not compile:\n%s", out)
			case tc.want != "" && err == nil:
				t.Fatal("mismatched program compiled")
			case tc.want != "" && !strings.Contains(string(out), tc.want):
				t.Fatalf("compile error does not say %q:\n%s", tc.want, out)
			}
		})
	}
}

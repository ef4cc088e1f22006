package mageflow_test

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// TestInternalsAreSealed builds programs of a module of their own that
// import this one and try to change a task's or a flow's internals: each
// must fail to compile, while a program that only composes flows builds.
func TestInternalsAreSealed(t *testing.T) {
	if testing.Short() {
		t.Skip("runs the go command")
	}
	root, err := filepath.Abs(".")
	if err != nil {
		t.Fatal(err)
	}
	goBin, err := exec.LookPath("go")
	if err != nil {
		t.Skip("no go command")
	}
	const header = `package main

import (
	"context"

	"github.com/mageflow-go/mageflow/flow"
	"github.com/mageflow-go/mageflow/task"
)

var double = task.New("double", func(ctx context.Context, n int) (int, error) { return 2 * n, nil })

func main() {
	ch := flow.Then(double, double)
	_ = ch
`
	cases := []struct {
		name, body string
		builds     bool
	}{
		{"composes", "\t_ = flow.Swarm(double, ch)\n", true},
		{"task invoke", "\tdouble.TaskDef().Invoke = nil\n", false},
		{"task spec", "\tdouble.TaskDef().Spec.Retries = -3\n", false},
		{"flow children", "\tch.FlowSpec().Spec.Children = nil\n", false},
		{"task flow spec", "\tdouble.FlowSpec().Spec.Task = nil\n", false},
	}
	for _, tc := range cases {
		t.Run(strings.ReplaceAll(tc.name, " ", "-"), func(t *testing.T) {
			t.Parallel()
			dir := t.TempDir()
			mod := "module sealedcheck\n\ngo 1.26.0\n\nrequire github.com/mageflow-go/mageflow v0.0.0\n\nreplace github.com/mageflow-go/mageflow => " + root + "\n"
			write(t, filepath.Join(dir, "go.mod"), mod)
			sum, err := os.ReadFile(filepath.Join(root, "go.sum"))
			if err != nil {
				t.Fatal(err)
			}
			write(t, filepath.Join(dir, "go.sum"), string(sum))
			write(t, filepath.Join(dir, "main.go"), header+tc.body+"}\n")
			cmd := exec.Command(goBin, "build", "-o", os.DevNull, ".")
			cmd.Dir = dir
			cmd.Env = append(os.Environ(), "GOWORK=off", "GOFLAGS=-mod=mod", "GOPROXY=off")
			out, err := cmd.CombinedOutput()
			if tc.builds && err != nil {
				t.Fatalf("a program that composes flows does not build: %v\n%s", err, out)
			}
			if !tc.builds && err == nil {
				t.Fatalf("a program that changes internals (%s) builds", tc.body)
			}
			if !tc.builds && !strings.Contains(string(out), "undefined (type") {
				t.Fatalf("a program that changes internals (%s) fails for another reason:\n%s", tc.body, out)
			}
		})
	}
}

func write(t *testing.T, path, s string) {
	t.Helper()
	if err := os.WriteFile(path, []byte(s), 0o644); err != nil {
		t.Fatal(err)
	}
}

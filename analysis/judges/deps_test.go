package judges

import (
	"os/exec"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
)

// goTool finds the go command that runs the tests.
func goTool(t *testing.T) string {
	t.Helper()
	if p, err := exec.LookPath("go"); err == nil {
		return p
	}
	p := filepath.Join(runtime.GOROOT(), "bin", "go")
	if _, err := exec.LookPath(p); err != nil {
		t.Skipf("go command not found: %v", err)
	}
	return p
}

// TestDependencies enforces doc.go: the package (not its tests) depends on
// the standard library only — not even on augur's analysis package, which
// imports it — and imports neither context, net/*, os, log nor any I/O
// package directly.
func TestDependencies(t *testing.T) {
	gocmd := goTool(t)
	list := func(format string, deps bool) []string {
		args := []string{"list", "-f", format}
		if deps {
			args = append(args, "-deps")
		}
		out, err := exec.Command(gocmd, append(args, ".")...).CombinedOutput()
		if err != nil {
			t.Fatalf("go list: %v\n%s", err, out)
		}
		return strings.Fields(string(out))
	}
	self := list("{{.ImportPath}}", false)[0]
	allowed := map[string]bool{self: true}
	for _, p := range list("{{if not .Standard}}{{.ImportPath}}{{end}}", true) {
		if !allowed[p] {
			t.Errorf("depends on non-standard package %s", p)
		}
	}
	for _, p := range list(`{{join .Imports " "}}`, false) {
		switch {
		case p == "context", p == "os", p == "log", p == "io", p == "time",
			strings.HasPrefix(p, "net"), strings.HasPrefix(p, "os/"), strings.HasPrefix(p, "log/"),
			strings.HasPrefix(p, "io/"), p == "syscall", p == "unsafe", strings.HasPrefix(p, "math/rand"):
			t.Errorf("imports %s: the judges are pure functions (no I/O, clock, logging or randomness)", p)
		}
	}
}

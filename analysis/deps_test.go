package analysis

import (
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
)

// forbidden reports whether a package must not be in the core's dependency
// graph at all: no context, no network, no logging, no processes.
func forbidden(path string) bool {
	switch {
	case path == "context", path == "log", path == "os/exec", path == "os/signal", path == "plugin":
		return true
	case path == "net" || strings.HasPrefix(path, "net/"), strings.HasPrefix(path, "log/"):
		return true
	}
	return false
}

// forbiddenDirect reports whether the core must not import a package
// itself. fmt depends on os, so os is only checked among direct imports.
func forbiddenDirect(path string) bool {
	return forbidden(path) || path == "os" || path == "io/ioutil" || path == "syscall" || path == "unsafe" ||
		path == "math/rand" || path == "math/rand/v2" || path == "crypto/rand"
}

func goList(t *testing.T, args ...string) []string {
	t.Helper()
	out, err := exec.Command("go", append([]string{"list"}, args...)...).Output()
	if err != nil {
		if ee, ok := err.(*exec.ExitError); ok {
			t.Fatalf("go list %v: %v\n%s", args, err, ee.Stderr)
		}
		t.Fatalf("go list %v: %v", args, err)
	}
	return strings.Fields(string(out))
}

// judgesPath is the core's one augur dependency: the statistical judges,
// themselves pure and standard-library only (their own test enforces it).
const judgesPath = "github.com/augurproj/augur/analysis/judges"

func TestDependencies(t *testing.T) {
	self := goList(t, "-f", "{{.ImportPath}}", ".")[0]
	deps := goList(t, "-deps", "-f", "{{.ImportPath}}={{.Standard}}", ".")
	if len(deps) < 2 {
		t.Fatalf("go list -deps returned %v", deps)
	}
	for _, d := range deps {
		path, std, _ := strings.Cut(d, "=")
		if path == self {
			continue
		}
		if std != "true" && path != judgesPath {
			t.Errorf("%s depends on %s, which is not in the standard library", self, path)
		}
		if forbidden(path) {
			t.Errorf("%s depends on %s; the core must stay free of I/O, context and logging", self, path)
		}
	}
	for _, imp := range goList(t, "-f", `{{join .Imports " "}}`, ".") {
		if forbiddenDirect(imp) {
			t.Errorf("%s imports %s directly", self, imp)
		}
	}
}

// TestNoClock: the core never reads the clock; the tick's time comes in
// Input.Now.
func TestNoClock(t *testing.T) {
	files, err := filepath.Glob("*.go")
	if err != nil {
		t.Fatal(err)
	}
	checked := 0
	for _, f := range files {
		if strings.HasSuffix(f, "_test.go") {
			continue
		}
		src, err := os.ReadFile(f)
		if err != nil {
			t.Fatalf("read %s: %v", f, err)
		}
		checked++
		for _, call := range []string{"time.Now(", "time.Since(", "time.Until(", "time.Sleep(", "time.After(", "time.Tick(", "time.NewTimer(", "time.NewTicker("} {
			if strings.Contains(string(src), call) {
				t.Errorf("%s calls %s: the core must take the time from Input.Now", f, call)
			}
		}
	}
	if checked == 0 {
		t.Fatal("no source files checked")
	}
}

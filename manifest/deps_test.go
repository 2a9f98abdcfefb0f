package manifest

import (
	"os/exec"
	"strings"
	"testing"
)

// TestDependencies enforces doc.go: besides the standard library the package
// may use only package analysis (with analysis/judges, which it imports) and
// go.yaml.in/yaml/v3 (so no client-go,
// engine, metrics or transport), and no networking.
func TestDependencies(t *testing.T) {
	out, err := exec.Command("go", "list", "-deps", "-f", "{{.ImportPath}}={{.Standard}}", ".").Output()
	if err != nil {
		t.Fatalf("go list: %v", err)
	}
	allowed := map[string]bool{
		"github.com/augurproj/augur/manifest": true,
		"github.com/augurproj/augur/analysis": true,
		// The core's statistical judges: pure, standard library only.
		"github.com/augurproj/augur/analysis/judges": true,
		"go.yaml.in/yaml/v3":                         true,
	}
	deps := strings.Fields(string(out))
	if len(deps) < 3 {
		t.Fatalf("go list -deps returned %v", deps)
	}
	for _, d := range deps {
		path, std, _ := strings.Cut(d, "=")
		if std != "true" && !allowed[path] {
			t.Errorf("manifest depends on %s", path)
		}
		if path == "net" || path == "net/http" || path == "os/exec" || path == "context" {
			t.Errorf("manifest depends on %s; it only reads files and bytes", path)
		}
	}
}

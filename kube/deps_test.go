package kube

import (
	"os/exec"
	"slices"
	"strings"
	"testing"
)

// TestImports enforces doc.go: kube and kubetest import, of augur, only
// analysis, engine and manifest (kubetest: kube), and never a transport,
// cobra or the CLI, even indirectly.
func TestImports(t *testing.T) {
	const module = "github.com/augurproj/augur/"
	list := func(pkg, format string, deps bool) []string {
		t.Helper()
		args := []string{"list", "-f", format}
		if deps {
			args = append(args, "-deps")
		}
		out, err := exec.Command("go", append(args, pkg)...).CombinedOutput()
		if err != nil {
			t.Fatalf("go list %s: %v\n%s", pkg, err, out)
		}
		return strings.Fields(string(out))
	}
	tests := []struct {
		pkg     string
		allowed []string
	}{
		{".", []string{"analysis", "engine", "manifest", "redact"}},
		{"./kubetest", []string{"kube"}},
	}
	for _, tt := range tests {
		t.Run(tt.pkg, func(t *testing.T) {
			for _, imp := range list(tt.pkg, `{{join .Imports " "}}`, false) {
				if rest, ok := strings.CutPrefix(imp, module); ok && !slices.Contains(tt.allowed, rest) {
					t.Errorf("imports %s (allowed of augur: %v)", imp, tt.allowed)
				}
			}
			for _, dep := range list(tt.pkg, "{{.ImportPath}}", true) {
				for _, banned := range []string{module + "server", module + "plugins", module + "internal/cli", "github.com/spf13/cobra"} {
					if dep == banned || strings.HasPrefix(dep, banned+"/") {
						t.Errorf("depends on %s", dep)
					}
				}
			}
		})
	}
}

package archtest

import (
	"os"
	"os/exec"
	"strings"
	"testing"
)

// referenceOnly are modules augur is tested against but must never depend
// on: they live in compat/ modules of their own.
var referenceOnly = []string{"github.com/fluxcd/flagger"}

// TestReferenceModulesStayOut checks that augur's go.mod and the packages
// of its module (tests included) never reach Flagger: the differential suite
// that runs Flagger's code is the separate module compat/flagger.
func TestReferenceModulesStayOut(t *testing.T) {
	gomod, err := os.ReadFile("../../go.mod")
	if err != nil {
		t.Fatal(err)
	}
	out, err := exec.Command("go", "list", "-deps", "-test", "-f", "{{.ImportPath}}", module+"/...").Output()
	if err != nil {
		t.Fatalf("go list -deps -test: %v", err)
	}
	for _, ref := range referenceOnly {
		if strings.Contains(string(gomod), ref) {
			t.Errorf("go.mod names %s: reference code belongs in a compat/ module", ref)
		}
		for _, d := range strings.Fields(string(out)) {
			if strings.HasPrefix(d, ref) {
				t.Errorf("augur's module depends on %s", d)
			}
		}
	}
	if _, err := os.Stat("../../compat/flagger/go.mod"); err != nil {
		t.Errorf("compat/flagger must be its own module: %v", err)
	}
}

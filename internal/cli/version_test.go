package cli

import (
	"encoding/json"
	"runtime"
	"strings"
	"testing"

	"github.com/augurproj/augur/internal/version"
)

func TestVersion(t *testing.T) {
	want := version.Get()
	for _, args := range [][]string{{"version"}, {"--version"}} {
		code, out, errOut := run(t, "", args...)
		if code != ExitOK || errOut != "" {
			t.Fatalf("%v: exit %d, stderr %q", args, code, errOut)
		}
		if out != want.String()+"\n" {
			t.Errorf("%v: %q, want %q", args, out, want.String()+"\n")
		}
		if !strings.Contains(out, runtime.Version()) {
			t.Errorf("%v: %q lacks the Go version %s", args, out, runtime.Version())
		}
	}
	code, out, _ := run(t, "", "version", "-o", "json")
	var got version.Info
	if code != ExitOK || json.Unmarshal([]byte(out), &got) != nil || got != want {
		t.Errorf("version -o json: exit %d, %q, want %+v", code, out, want)
	}
	if code, _, errOut := run(t, "", "version", "-o", "yaml"); code != ExitBadInput || !strings.Contains(errOut, `--output "yaml"`) {
		t.Errorf("version -o yaml: exit %d, %q", code, errOut)
	}
}

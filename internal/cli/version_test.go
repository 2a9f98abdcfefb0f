package cli

import (
	"encoding/json"
	"os"
	"path/filepath"
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
	if code, out, _ := run(t, "", "version", "-o", "yaml"); code != ExitOK || !strings.Contains(out, "commit: "+want.Commit) {
		t.Errorf("version -o yaml: exit %d, %q", code, out)
	}
}

func TestCopyExecutable(t *testing.T) {
	dir := t.TempDir()
	src := filepath.Join(dir, "src")
	if err := os.WriteFile(src, []byte("binary bytes"), 0o600); err != nil {
		t.Fatal(err)
	}
	dest := filepath.Join(dir, "plugins", "augur")
	if _, err := copyExecutable(src, dest); err == nil {
		t.Fatal("copy into a missing directory succeeded")
	}
	if err := os.Mkdir(filepath.Dir(dest), 0o755); err != nil {
		t.Fatal(err)
	}
	n, err := copyExecutable(src, dest)
	if err != nil || n != 12 {
		t.Fatalf("copy: %d %v", n, err)
	}
	fi, err := os.Stat(dest)
	if err != nil || fi.Mode().Perm() != 0o755 {
		t.Fatalf("dest: %v %v", fi.Mode(), err)
	}
	if b, _ := os.ReadFile(dest); string(b) != "binary bytes" {
		t.Errorf("dest holds %q", b)
	}
	if left, _ := filepath.Glob(filepath.Join(dir, "plugins", ".augur-*")); len(left) != 0 {
		t.Errorf("temporary files left: %v", left)
	}
}

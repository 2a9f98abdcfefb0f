package lint

import (
	"bytes"
	"os"
	"path/filepath"
	"testing"
)

// FuzzLint: no input crashes Parse, Run or Write, and every finding has a
// known rule, a message and a fix.
func FuzzLint(f *testing.F) {
	seeds, _ := filepath.Glob(filepath.Join(corpus, "*", "*.yaml"))
	for _, s := range seeds {
		if b, err := os.ReadFile(s); err == nil {
			f.Add(b)
		}
	}
	f.Add([]byte(`{"apiVersion":"apps/v1","kind":"Deployment","spec":{"replicas":"x"}}`))
	f.Add([]byte("apiVersion: v1\nkind: List\nitems: [{apiVersion: policy/v1, kind: PodDisruptionBudget, spec: {minAvailable: 100%}}]\n"))
	f.Fuzz(func(t *testing.T, b []byte) {
		objs, err := Parse(b, "fuzz.yaml")
		if err != nil {
			return
		}
		fs, err := Run(objs, Options{Cluster: &Facts{}})
		if err != nil {
			return
		}
		for _, fd := range fs {
			if RuleByID(fd.Rule) == nil || fd.Message == "" || fd.Fix == "" {
				t.Fatalf("bad finding %+v", fd)
			}
		}
		for _, format := range []string{FormatText, FormatJSON, FormatSARIF} {
			var out bytes.Buffer
			if err := Write(&out, format, fs, ""); err != nil {
				t.Fatal(err)
			}
		}
	})
}

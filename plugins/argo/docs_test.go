package argo

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// TestDocsShowTheTestedYAML keeps the ConfigMap entry and AnalysisTemplate
// shown in docs/argo.md and README.md identical to the testdata files that
// TestArgoHost loads into Argo's own host code.
func TestDocsShowTheTestedYAML(t *testing.T) {
	for _, doc := range []string{"docs/argo.md", "README.md"} {
		text, err := os.ReadFile(filepath.Join("..", "..", filepath.FromSlash(doc)))
		if err != nil {
			t.Fatal(err)
		}
		for _, name := range []string{"argo-rollouts-config.yaml", "analysistemplate.yaml"} {
			want, err := os.ReadFile(filepath.Join("testdata", name))
			if err != nil {
				t.Fatal(err)
			}
			if !strings.Contains(string(text), "```yaml\n"+string(want)+"```") {
				t.Errorf("%s does not show testdata/%s verbatim in a yaml block", doc, name)
			}
		}
	}
}

package server

import (
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/manifest"
)

// readmeSection returns the README's text from heading to the next "## ".
func readmeSection(t *testing.T, heading string) string {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testdataDir(t), "..", "README.md"))
	if err != nil {
		t.Fatal(err)
	}
	s := string(b)
	i := strings.Index(s, "\n"+heading+"\n")
	if i < 0 {
		t.Fatalf("README.md has no %q section", heading)
	}
	s = s[i+len(heading)+2:]
	if j := strings.Index(s, "\n## "); j >= 0 {
		s = s[:j]
	}
	return s
}

// codeBlocks returns the fenced blocks of one language in text.
func codeBlocks(text, lang string) []string {
	var out []string
	for {
		i := strings.Index(text, "```"+lang+"\n")
		if i < 0 {
			return out
		}
		text = text[i+len(lang)+4:]
		j := strings.Index(text, "```")
		if j < 0 {
			return out
		}
		out = append(out, text[:j])
		text = text[j+3:]
	}
}

// TestReadmeFlaggerSnippet keeps the Flagger example's Canary
// (examples/flagger/, which the README shows a hook of) valid and its webhook
// metadata accepted by the endpoints it points at.
func TestReadmeFlaggerSnippet(t *testing.T) {
	if blocks := codeBlocks(readmeSection(t, "## Use from Flagger"), "yaml"); len(blocks) != 1 {
		t.Fatalf("want one yaml block in Use from Flagger, got %d", len(blocks))
	}
	set, err := manifest.DecodePaths([]string{"../examples/flagger"})
	if err != nil {
		t.Fatal(err)
	}
	if err := manifest.Validate(set); err != nil {
		t.Fatal(err)
	}
	hooks := set.Canaries[0].Spec.Analysis.Webhooks
	if len(hooks) < 4 {
		t.Fatalf("the snippet shows %d webhooks", len(hooks))
	}
	kinds := map[string]bool{}
	for _, h := range hooks {
		if strings.HasSuffix(h.URL, "/flagger/v1/rollback/check") {
			continue // the rollback gate takes no metrics
		}
		if !strings.HasSuffix(h.URL, "/flagger/v1/check") && !strings.HasSuffix(h.URL, "/flagger/v1/gate") {
			t.Errorf("webhook %s: URL %s is not an augur endpoint", h.Name, h.URL)
		}
		if h.Metadata == nil {
			continue
		}
		md := *h.Metadata
		delete(md, KeyToken)
		spec, err := parseMetadata(md)
		if err != nil {
			t.Errorf("webhook %s: %v", h.Name, err)
			continue
		}
		for _, k := range []string{KeyQuery, KeyTemplate, KeyMetrics} {
			if _, ok := md[k]; ok {
				kinds[k] = true
			}
		}
		if len(spec.metrics) == 0 {
			t.Errorf("webhook %s: no metrics", h.Name)
		}
		if strings.HasSuffix(h.URL, "/gate") && analysis.NormalizeHookType(h.Type) != analysis.HookConfirmPromotion {
			t.Errorf("webhook %s: the gate is not a confirm-promotion hook", h.Name)
		}
	}
	if len(kinds) != 3 {
		t.Errorf("the snippet does not show all of query, template and metrics: %v", kinds)
	}
}

// TestReadmeDecideExample posts the README's curl example.
func TestReadmeDecideExample(t *testing.T) {
	text := readmeSection(t, "## Run as a service")
	var example string
	for _, b := range codeBlocks(text, "sh") {
		if i := strings.Index(b, "-d '"); i >= 0 && strings.Contains(b, "/v1/decide") {
			example = b[i+4:]
			example = example[:strings.LastIndex(example, "'")]
		}
	}
	if example == "" {
		t.Fatal("no curl /v1/decide example with -d '...' in Run as a service")
	}
	h := podinfoHarness(t, "healthy.om", nil)
	a := do(t, "POST", h.url+"/v1/decide", example, nil)
	if a.code != 200 {
		t.Fatalf("%d %s", a.code, a.body)
	}
	if d := decision(t, a); d.Action != analysis.ActionAdvance {
		t.Errorf("the example decides %s: %q", d.Action, d.Reasons)
	}
}

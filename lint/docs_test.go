package lint

import (
	"os"
	"strings"
	"testing"
)

// TestDocsListEveryRule keeps docs/lint.md and Rules together: every rule
// has a section (its SARIF helpUri anchor) with its title and rationale.
func TestDocsListEveryRule(t *testing.T) {
	b, err := os.ReadFile("../docs/lint.md")
	if err != nil {
		t.Fatal(err)
	}
	doc := string(b)
	for _, r := range Rules {
		i := strings.Index(doc, "\n#### "+r.ID+"\n")
		if i < 0 {
			t.Errorf("docs/lint.md has no section #### %s", r.ID)
			continue
		}
		section := doc[i:]
		if j := strings.Index(section[1:], "\n#"); j >= 0 {
			section = section[:j+1]
		}
		for _, s := range []string{r.Title, r.Rationale, r.Source} {
			if !strings.Contains(section, s) {
				t.Errorf("docs/lint.md section %s lacks %q", r.ID, s)
			}
		}
	}
}

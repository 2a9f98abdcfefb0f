package cli

import (
	"os"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestDocsJudgesReplay keeps the worked example replay of docs/judges.md
// real: the console block is what the command prints today.
func TestDocsJudgesReplay(t *testing.T) {
	doc, err := os.ReadFile("../../docs/judges.md")
	if err != nil {
		t.Fatal(err)
	}
	const prompt = "$ augur replay -f testdata/judged --data testdata/podinfo/latency-regression.om\n"
	text := string(doc)
	i := strings.Index(text, "```console\n"+prompt)
	if i < 0 {
		t.Fatalf("docs/judges.md has no console block starting %q", prompt)
	}
	block := text[i+len("```console\n"+prompt):]
	block = block[:strings.Index(block, "```")]
	code, out, errOut := run(t, "", "replay", "-f", judged, "--data", podinfo+"/latency-regression.om")
	if code != ExitRolledBack {
		t.Fatalf("exit %d: %s", code, errOut)
	}
	out = strings.ReplaceAll(out, "../../testdata/", "testdata/")
	if *update {
		at := i + len("```console\n"+prompt)
		text = text[:at] + out + text[at+len(block):]
		if err := os.WriteFile("../../docs/judges.md", []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	if diff := cmp.Diff(out, block); diff != "" {
		t.Errorf("docs/judges.md's replay differs from the command's output (-command +docs):\n%s", diff)
	}
}

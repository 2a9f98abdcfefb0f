package cli

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
)

// TestTestArgoExample runs the shipped AnalysisTemplate tests from the
// repository root, as CI does.
func TestTestArgoExample(t *testing.T) {
	t.Chdir("../..")
	code, out, errOut := run(t, "", "test", "examples/argo-rollouts/")
	if code != ExitOK || !strings.HasSuffix(out, "4 passed, 0 failed\n") {
		t.Errorf("exit %d, want 0\n%s%s", code, out, errOut)
	}
}

// TestTestArgoMatchesQuery checks that `augur test` measures an
// AnalysisTemplate exactly as `augur query -f template.yaml --arg` (the
// plugin's code path) does: a test file asserting query's phases and values
// passes, and the same file with one phase changed fails.
func TestTestArgoMatchesQuery(t *testing.T) {
	tmpl, _ := filepath.Abs("../../examples/argo-rollouts/analysistemplate.yaml")
	for _, data := range []string{"healthy", "slow", "no-traffic", "not-found-climb"} {
		t.Run(data, func(t *testing.T) {
			om, _ := filepath.Abs(podinfo + "/" + data + ".om")
			_, out, errOut := run(t, "", "query", "-f", tmpl, "--arg", "service-name=podinfo", "--arg", "max-p99=300", "--data", om, "-o", "json")
			var got struct {
				Measurements []struct{ Template, Metric, Phase, Value string }
			}
			if err := json.Unmarshal([]byte(out), &got); err != nil || len(got.Measurements) != 2 {
				t.Fatalf("query output %q (%v), stderr %s", out, err, errOut)
			}
			var b strings.Builder
			fmt.Fprintf(&b, "analysis_templates: [%q]\ntests:\n- input_file: %q\n  args: {service-name: podinfo, max-p99: \"300\"}\n  analysis_tests:\n", tmpl, om)
			for _, m := range got.Measurements {
				fmt.Fprintf(&b, "  - {template: %s, metric: %s, exp_phase: %s, exp_value: %q}\n", m.Template, m.Metric, m.Phase, m.Value)
			}
			dir := t.TempDir()
			file := filepath.Join(dir, "same.test.yaml")
			if err := os.WriteFile(file, []byte(b.String()), 0o644); err != nil {
				t.Fatal(err)
			}
			if code, out, errOut := run(t, "", "test", file); code != ExitOK {
				t.Errorf("test asserting query's measurements: exit %d\n%s%s\n%s", code, out, errOut, b.String())
			}
			other := "Successful"
			if got.Measurements[1].Phase == other {
				other = "Failed"
			}
			changed := strings.Replace(b.String(), "exp_phase: "+got.Measurements[1].Phase, "exp_phase: "+other, 1)
			if err := os.WriteFile(file, []byte(changed), 0o644); err != nil {
				t.Fatal(err)
			}
			if code, out, _ := run(t, "", "test", file); code != ExitCheckFail || !strings.Contains(out, "- want: phase "+other) {
				t.Errorf("test with a changed phase: exit %d, want 1\n%s", code, out)
			}
		})
	}
}

// TestTestArgoErrors: a missing arg, an arg no template declares and an
// unknown metric are errors (exit 2) naming the file, line and field;
// testdata/argo/errors.txt is rewritten with -update.
func TestTestArgoErrors(t *testing.T) {
	t.Chdir("../..")
	code, out, _ := run(t, "", "test", "internal/cli/testdata/argo/errors.test-file.yaml")
	if code != ExitBadInput {
		t.Errorf("exit %d, want 2", code)
	}
	path := "internal/cli/testdata/argo/errors.txt"
	if *update {
		if err := os.WriteFile(path, []byte(out), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), out); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

// TestTestArgoEvalTimeMatchesQuery: an analysis test's eval_time measures
// the templates where `augur query --at` does (the same time syntax, the
// plugin's code path), not at the data's end: a file asserting query's
// values ten minutes in passes, and differs from the values at the end.
func TestTestArgoEvalTimeMatchesQuery(t *testing.T) {
	tmpl, _ := filepath.Abs("../../examples/argo-rollouts/analysistemplate.yaml")
	om, _ := filepath.Abs(podinfo + "/healthy.om")
	measure := func(at ...string) []struct{ Template, Metric, Phase, Value string } {
		args := append([]string{"query", "-f", tmpl, "--arg", "service-name=podinfo", "--data", om, "-o", "json"}, at...)
		_, out, errOut := run(t, "", args...)
		var got struct {
			Measurements []struct{ Template, Metric, Phase, Value string }
		}
		if err := json.Unmarshal([]byte(out), &got); err != nil || len(got.Measurements) != 2 {
			t.Fatalf("query output %q (%v), stderr %s", out, err, errOut)
		}
		return got.Measurements
	}
	early, end := measure("--at", "+10m"), measure()
	if early[1].Value == end[1].Value {
		t.Fatalf("p99 ten minutes in equals p99 at the end (%s): the test would prove nothing", end[1].Value)
	}
	var b strings.Builder
	fmt.Fprintf(&b, "analysis_templates: [%q]\ntests:\n- input_file: %q\n  args: {service-name: podinfo}\n  analysis_tests:\n", tmpl, om)
	for _, m := range early {
		fmt.Fprintf(&b, "  - {metric: %s, eval_time: 10m, exp_phase: %s, exp_value: %q}\n", m.Metric, m.Phase, m.Value)
	}
	for _, m := range end {
		fmt.Fprintf(&b, "  - {metric: %s, exp_phase: %s, exp_value: %q}\n", m.Metric, m.Phase, m.Value)
	}
	file := filepath.Join(t.TempDir(), "at.test.yaml")
	if err := os.WriteFile(file, []byte(b.String()), 0o644); err != nil {
		t.Fatal(err)
	}
	if code, out, errOut := run(t, "", "test", file); code != ExitOK {
		t.Errorf("test asserting query --at's measurements at eval_time: exit %d\n%s%s\n%s", code, out, errOut, b.String())
	}
}

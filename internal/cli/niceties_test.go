package cli

import (
	"encoding/json"
	"io"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"sigs.k8s.io/yaml"
)

// TestOutputYAML: -o yaml gives the same document as -o json, wherever -o json exists.
func TestOutputYAML(t *testing.T) {
	for _, args := range [][]string{
		{"render", "-f", podinfo},
		{"query", "-f", podinfo, "--data", podinfo + "/healthy.om", "--at", "+10m"},
		{"analyze", "-f", podinfo, "--data", podinfo + "/healthy.om", "--at", "+5m", "--weight", "20"},
		{"replay", "-f", podinfo, "--data", podinfo + "/healthy.om"},
		{"test", "../../examples/podinfo/podinfo.test.yaml"},
		{"lint", "-f", "../../examples/podinfo/manifests", "-f", "../../examples/podinfo/workload"},
		{"version"},
	} {
		t.Run(args[0], func(t *testing.T) {
			jcode, j, _ := run(t, "", append(args, "-o", "json")...)
			ycode, y, stderr := run(t, "", append(args, "-o", "yaml")...)
			if jcode != ycode {
				t.Fatalf("exit %d with yaml, %d with json: %s", ycode, jcode, stderr)
			}
			fromYAML, err := yaml.YAMLToJSON([]byte(y))
			if err != nil {
				t.Fatalf("-o yaml is not YAML: %v\n%s", err, y)
			}
			var a, b any
			if err := json.Unmarshal([]byte(j), &a); err != nil {
				t.Fatal(err)
			}
			if err := json.Unmarshal(fromYAML, &b); err != nil {
				t.Fatal(err)
			}
			aj, _ := json.Marshal(a)
			bj, _ := json.Marshal(b)
			if string(aj) != string(bj) {
				t.Errorf("-o yaml differs from -o json")
			}
		})
	}
}

// TestCompletion: value completion for -o, --webhooks, --phase and --canary.
func TestCompletion(t *testing.T) {
	tests := []struct {
		args []string
		want []string
	}{
		{[]string{"replay", "-o", ""}, []string{"text", "json", "yaml"}},
		{[]string{"analyze", "--webhooks", ""}, []string{"call", "pass", "fail"}},
		{[]string{"analyze", "--phase", "Wait"}, []string{"Waiting", "WaitingPromotion"}},
		{[]string{"replay", "-f", podinfo, "-f", "testdata/second-canary.yaml", "--canary", ""}, []string{"test/podinfo"}},
	}
	for _, tt := range tests {
		t.Run(strings.Join(tt.args, " "), func(t *testing.T) {
			code, out, stderr := run(t, "", append([]string{"__complete"}, tt.args...)...)
			if code != ExitOK {
				t.Fatalf("exit %d: %s", code, stderr)
			}
			for _, w := range tt.want {
				if !strings.Contains(out, w+"\n") {
					t.Errorf("completions %q lack %q", out, w)
				}
			}
		})
	}
	if code, out, _ := run(t, "", "completion", "bash"); code != ExitOK || !strings.Contains(out, "__start_augur") {
		t.Errorf("completion bash: exit %d, no script", code)
	}
}

// TestTestFilesSkippedInDirectories: a *.test.yaml next to the manifests is
// not read as a manifest when -f names the directory.
func TestTestFilesSkippedInDirectories(t *testing.T) {
	dir := t.TempDir()
	for _, f := range []string{"canary.yaml", "metrictemplate.yaml"} {
		b, err := os.ReadFile(filepath.Join(podinfo, f))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, f), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	b, err := os.ReadFile("../../examples/podinfo/podinfo.test.yaml")
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(dir, "podinfo.test.yaml"), b, 0o644); err != nil {
		t.Fatal(err)
	}
	if code, _, stderr := run(t, "", "render", "-f", dir); code != ExitOK {
		t.Errorf("render -f DIR with a test file in it: exit %d: %s", code, stderr)
	}
}

// TestOutputCompletionsAccepted: every value `-o` completes to is one the
// command accepts (yaml wherever json is; lint's sarif), and every command
// with -o json takes -o yaml.
func TestOutputCompletionsAccepted(t *testing.T) {
	root := NewRootCmd(&IOStreams{In: strings.NewReader(""), Out: io.Discard, ErrOut: io.Discard})
	for _, cmd := range root.Commands() {
		if cmd.Flags().Lookup("output") == nil {
			continue
		}
		_, out, _ := run(t, "", "__complete", cmd.Name(), "-o", "")
		values := strings.Fields(out)
		values = slices.DeleteFunc(values, func(v string) bool { return strings.HasPrefix(v, ":") || strings.HasPrefix(v, "Completion") })
		if slices.Contains(values, "json") != slices.Contains(values, "yaml") {
			t.Errorf("%s -o completes %v: json and yaml go together", cmd.Name(), values)
		}
		for _, v := range values {
			_, _, errOut := run(t, "", cmd.Name(), "-o", v)
			if strings.Contains(errOut, "--output") {
				t.Errorf("%s -o %s (a completion): %s", cmd.Name(), v, errOut)
			}
		}
	}
}

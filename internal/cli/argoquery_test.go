package cli

import (
	"strings"
	"testing"
)

// TestQueryArgoTemplate: augur query measures an Argo AnalysisTemplate's
// augur metrics offline, with its args from --arg, as the plugin would.
func TestQueryArgoTemplate(t *testing.T) {
	const tmpl = "testdata/argo/analysistemplate.yaml"
	tests := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"healthy", []string{"--data", podinfo + "/healthy.om", "--arg", "service-name=podinfo"}, ExitOK,
			[]string{"augur-podinfo/request-success-rate  Successful", "augur-podinfo/p99-latency           Successful"}},
		{"slow", []string{"--data", podinfo + "/slow.om", "--arg", "service-name=podinfo"}, ExitCheckFail,
			[]string{"augur-podinfo/p99-latency           Failed"}},
		{"a stricter arg", []string{"--data", podinfo + "/healthy.om", "--arg", "service-name=podinfo", "--arg", "max-p99=1"}, ExitCheckFail,
			[]string{"augur-podinfo/p99-latency           Failed"}},
		{"missing arg", []string{"--data", podinfo + "/healthy.om"}, ExitBadInput,
			[]string{`arg "service-name" has no value: give it with --arg service-name=VALUE`}},
		{"unknown arg", []string{"--data", podinfo + "/healthy.om", "--arg", "service-name=podinfo", "--arg", "servce=x"}, ExitBadInput,
			[]string{"--arg servce: no template declares it in spec.args"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := run(t, "", append([]string{"query", "-f", tmpl}, tt.args...)...)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stdout %s stderr %s", code, tt.code, out, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(out+errOut, w) {
					t.Errorf("output lacks %q:\n%s%s", w, out, errOut)
				}
			}
		})
	}
}

// TestQueryArgoTemplatesShareArgs: an arg declared by one of several -f
// files is not "declared by no template" in the others.
func TestQueryArgoTemplatesShareArgs(t *testing.T) {
	tests := []struct {
		name string
		args []string
		code int
		want []string
	}{
		{"declared in the second file", []string{"--arg", "service-name=podinfo", "--arg", "min-rate=99"}, ExitOK,
			[]string{"augur-podinfo/p99-latency", "augur-podinfo-rate/success-rate-condition  Successful"}},
		{"declared in no file", []string{"--arg", "service-name=podinfo", "--arg", "min-rate=99", "--arg", "servce=x"}, ExitBadInput,
			[]string{"--arg servce: no template declares it in spec.args"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			code, out, errOut := run(t, "", append([]string{"query", "-f", "testdata/argo/analysistemplate.yaml", "-f", "testdata/argo/second-template.yaml",
				"--data", podinfo + "/healthy.om"}, tt.args...)...)
			if code != tt.code {
				t.Errorf("exit %d, want %d; stdout %s stderr %s", code, tt.code, out, errOut)
			}
			for _, w := range tt.want {
				if !strings.Contains(out+errOut, w) {
					t.Errorf("output lacks %q:\n%s%s", w, out, errOut)
				}
			}
		})
	}
}

package testfile

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/augurproj/augur/metrics/recorded"
)

// fakeMeasurer returns fixed measurements or an error, and records what it
// was asked.
type fakeMeasurer struct {
	ms   []ArgoMeasurement
	err  error
	at   time.Time
	args map[string]string
}

func (f *fakeMeasurer) MeasureTemplates(_ context.Context, _ *recorded.Store, at time.Time, _ []ArgoTemplateFile, args map[string]string) ([]ArgoMeasurement, error) {
	f.at, f.args = at, args
	return f.ms, f.err
}

func argoFile(t *testing.T) string {
	t.Helper()
	dir := t.TempDir()
	tmpl, _ := filepath.Abs("../cli/testdata/argo/analysistemplate.yaml")
	data, _ := filepath.Abs("testdata/parse/data.om")
	text := "analysis_templates: [" + tmpl + "]\ntests:\n- name: c\n  input_file: " + data + "\n  args: {service-name: podinfo}\n  analysis_tests:\n" +
		"  - {metric: rate, exp_phase: Successful, exp_value: 99.5, tolerance: 0.1}\n  - {metric: plain, exp_value: \"[1]\"}\n"
	path := filepath.Join(dir, "a.test.yaml")
	if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// TestAnalysisTests: measurements are compared by phase, as text and as a
// number; a missing measurer, an args problem and a metric that does not use
// the plugin are errors, never passes.
func TestAnalysisTests(t *testing.T) {
	path := argoFile(t)
	tests := []struct {
		name   string
		m      ArgoMeasurer
		result Result
		want   string
	}{
		{"pass", &fakeMeasurer{ms: []ArgoMeasurement{{Template: "t", Metric: "rate", Phase: "Successful", Value: "[99.55]"}, {Template: "t", Metric: "plain", Phase: "Failed", Value: "[1]"}}}, ResultPass, ""},
		{"phase and value differ", &fakeMeasurer{ms: []ArgoMeasurement{{Template: "t", Metric: "rate", Phase: "Failed", Value: "[98]"}, {Template: "t", Metric: "plain", Phase: "Successful", Value: "[2]"}}}, ResultFail, ""},
		{"no measurer", nil, ResultError, "no ArgoMeasurer"},
		{"args", &fakeMeasurer{err: &ArgsError{Err: errors.New("arg x has no value")}}, ResultError, "tests[0].args: arg x has no value"},
		{"not an augur metric", &fakeMeasurer{ms: []ArgoMeasurement{{Template: "t", Metric: "rate"}, {Template: "t", Metric: "plain", Phase: "Successful", Value: "[1]"}}}, ResultError, "does not use the augur plugin"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f, err := ParseFile(path)
			if err != nil {
				t.Fatal(err)
			}
			rep := Run(t.Context(), f, RunOptions{Argo: tt.m})
			if len(rep.Cases) != 1 {
				t.Fatalf("cases %+v, file error %v", rep.Cases, rep.Err)
			}
			c := rep.Cases[0]
			if c.Result != tt.result {
				t.Errorf("result %s, want %s (%v, %+v)", c.Result, tt.result, c.Err, c.Failures)
			}
			if tt.want != "" && (c.Err == nil || !strings.Contains(c.Err.Error(), tt.want)) {
				t.Errorf("error %v, want %q", c.Err, tt.want)
			}
			if tt.result == ResultFail && (len(c.Failures) != 2 || len(c.Failures[0].Want) != 2) {
				t.Errorf("failures %+v, want phase and value of rate, value of plain", c.Failures)
			}
			if fm, ok := tt.m.(*fakeMeasurer); ok && (fm.args["service-name"] != "podinfo" || fm.at.IsZero()) {
				t.Errorf("measurer got args %v at %v", fm.args, fm.at)
			}
		})
	}
}

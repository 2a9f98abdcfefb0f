package testfile

import (
	"context"
	"errors"
	"fmt"
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

// timedMeasurer records every time it measures at and returns the metric
// "rate" with the minute of that time as its value.
type timedMeasurer struct{ ats []time.Time }

func (f *timedMeasurer) MeasureTemplates(_ context.Context, _ *recorded.Store, at time.Time, _ []ArgoTemplateFile, _ map[string]string) ([]ArgoMeasurement, error) {
	f.ats = append(f.ats, at)
	return []ArgoMeasurement{{Template: "t", Metric: "rate", Phase: "Successful", Value: fmt.Sprintf("[%d]", at.Minute())}}, nil
}

// TestAnalysisTestsEvalTime: an analysis test's eval_time (a duration after
// the case's start or an RFC 3339 time) is when the templates are measured,
// once per distinct time, the data's end without it; a time outside the
// data is an error naming the data's first and last samples.
func TestAnalysisTestsEvalTime(t *testing.T) {
	data, _ := filepath.Abs("testdata/parse/data.om") // samples at 1700000000, +30s, +60s
	write := func(t *testing.T, tests string) string {
		t.Helper()
		dir := t.TempDir()
		path := filepath.Join(dir, "a.test.yaml")
		if err := os.WriteFile(filepath.Join(dir, "t.yaml"), []byte("# measured by the fake\n"), 0o644); err != nil {
			t.Fatal(err)
		}
		text := "analysis_templates: [t.yaml]\ntests:\n- name: c\n  input_file: " + data + "\n  analysis_tests:\n" + tests
		if err := os.WriteFile(path, []byte(text), 0o644); err != nil {
			t.Fatal(err)
		}
		return path
	}
	start := time.Unix(1700000000, 0).UTC() // 22:13:20
	t.Run("measured at each eval_time", func(t *testing.T) {
		f, err := ParseFile(write(t, "  - {metric: rate, exp_value: \"[14]\"}\n"+
			"  - {metric: rate, eval_time: 20s, exp_value: \"[13]\"}\n"+
			"  - {metric: rate, eval_time: \"2023-11-14T22:13:40Z\", exp_value: \"[13]\"}\n"+
			"  - {metric: rate, eval_time: 1m, exp_value: \"[14]\"}\n"))
		if err != nil {
			t.Fatal(err)
		}
		m := &timedMeasurer{}
		rep := Run(t.Context(), f, RunOptions{Argo: m})
		if c := rep.Cases[0]; c.Result != ResultPass {
			t.Errorf("result %s (%v, %+v)", c.Result, c.Err, c.Failures)
		}
		want := []time.Time{recorded.EvalTime(start.Add(time.Minute)), start.Add(20 * time.Second), start.Add(time.Minute)}
		if fmt.Sprint(m.ats) != fmt.Sprint(want) {
			t.Errorf("measured at %v, want %v (once per distinct time)", m.ats, want)
		}
	})
	t.Run("a changed value fails", func(t *testing.T) {
		f, err := ParseFile(write(t, "  - {metric: rate, eval_time: 20s, exp_value: \"[14]\"}\n"))
		if err != nil {
			t.Fatal(err)
		}
		rep := Run(t.Context(), f, RunOptions{Argo: &timedMeasurer{}})
		c := rep.Cases[0]
		if c.Result != ResultFail || len(c.Failures) != 1 || c.Failures[0].What != "measurement at 20s (2023-11-14T22:13:40Z)" {
			t.Errorf("result %s, failures %+v", c.Result, c.Failures)
		}
	})
	for _, tt := range []struct{ name, at, want string }{
		{"after the data", "5m", "tests[0].analysis_tests[0].eval_time: eval_time 2023-11-14T22:18:20Z is outside the recorded data " + data +
			", whose first sample is at 2023-11-14T22:13:20Z and last at 2023-11-14T22:14:20Z (scraped every 30s)"},
		{"before the data", "2023-11-14T22:00:00Z", "eval_time 2023-11-14T22:00:00Z is outside the recorded data"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			f, err := ParseFile(write(t, "  - {metric: rate, eval_time: \""+tt.at+"\", exp_phase: Successful}\n"))
			if err != nil {
				t.Fatal(err)
			}
			m := &timedMeasurer{}
			rep := Run(t.Context(), f, RunOptions{Argo: m})
			c := rep.Cases[0]
			if c.Result != ResultError || c.Err == nil || !strings.Contains(c.Err.Error(), tt.want) {
				t.Errorf("result %s, error %v\nwant an error containing %q", c.Result, c.Err, tt.want)
			}
			if len(m.ats) != 0 {
				t.Errorf("measured at %v", m.ats)
			}
		})
	}
}

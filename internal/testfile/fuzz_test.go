package testfile

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// FuzzParse feeds any bytes to Parse. It must never panic. A failure is
// made only of *Errors that name the file, carry a sentinel and point
// inside it; a success holds manifests and uniquely named cases, each
// asserting something, with the data it needs. Files that need no disk
// (inline manifests, input_series) are also loaded and run, which must not
// panic either and must never count a broken case as passed.
func FuzzParse(f *testing.F) {
	var seeds []string
	for _, pattern := range []string{"testdata/parse/*.test.yaml", "testdata/run/*.test.yaml", "../../examples/*/*.test.yaml"} {
		m, err := filepath.Glob(pattern)
		if err != nil {
			f.Fatal(err)
		}
		seeds = append(seeds, m...)
	}
	for _, s := range seeds {
		b, err := os.ReadFile(s)
		if err != nil {
			f.Fatal(err)
		}
		f.Add(b)
	}
	f.Add([]byte("manifests: [{apiVersion: flagger.app/v1beta1, kind: Canary, metadata: {name: c}, spec: {targetRef: {name: c, kind: Deployment, apiVersion: apps/v1}, analysis: {interval: 1m, threshold: 1, stepWeight: 10, metrics: [{name: m, query: 'sum(x)', thresholdRange: {max: 1}}]}}}]\ntests: [{input_series: [{series: x, values: '1+1x3'}], metric_tests: [{metric: m, eval_time: 1m, exp_value: 2, exp_check: fail}]}]\n"))
	f.Add([]byte("manifests: [a]\ntests:\n  - &c {metric_tests: [{metric: m, exp_query: q}]}\n  - *c\n"))
	const name = "fuzz.test.yaml"
	f.Fuzz(func(t *testing.T, data []byte) {
		file, err := Parse(data, name)
		if err != nil {
			if file != nil {
				t.Fatal("error with a non-nil File")
			}
			checkFuzzErrors(t, err, data)
			return
		}
		if len(file.Manifests)+len(file.AnalysisTemplates) == 0 || len(file.Cases) == 0 {
			t.Fatalf("parsed without manifests (%d), analysis templates (%d) or cases (%d)", len(file.Manifests), len(file.AnalysisTemplates), len(file.Cases))
		}
		names := map[string]bool{}
		onDisk := false
		for _, m := range file.Manifests {
			if (m.Path == "") == (m.inline == nil) {
				t.Fatalf("manifest entry is neither a path nor inline: %+v", m)
			}
			onDisk = onDisk || m.Path != ""
		}
		samples := 0
		for _, c := range file.Cases {
			if c.Name == "" || names[c.Name] {
				t.Fatalf("case name %q empty or repeated", c.Name)
			}
			names[c.Name] = true
			if c.Assertions() == 0 {
				t.Fatalf("case %q asserts nothing", c.Name)
			}
			if c.Interval <= 0 || c.Interval%time.Millisecond != 0 {
				t.Fatalf("case %q has interval %s", c.Name, c.Interval)
			}
			if c.InputSeries != nil && c.store == nil {
				t.Fatalf("case %q has input series but no data", c.Name)
			}
			if c.store != nil {
				samples += c.store.SampleCount()
			}
			onDisk = onDisk || c.InputFile != ""
			for _, m := range c.MetricTests {
				if m.Metric == "" || m.assertions() == 0 || (m.evaluates() && !c.hasInput) {
					t.Fatalf("case %q has a malformed metric test %+v", c.Name, m)
				}
			}
		}
		if onDisk || samples > 100_000 {
			return
		}
		if err := file.Load(); err != nil {
			checkFuzzErrors(t, err, data)
			return
		}
		ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
		defer cancel()
		rep := Run(ctx, file, RunOptions{})
		for _, c := range rep.Cases {
			switch c.Result {
			case ResultPass:
				if len(c.Failures) > 0 || c.Err != nil {
					t.Fatalf("case %q passed with failures or errors", c.Name)
				}
			case ResultFail:
				if len(c.Failures) == 0 {
					t.Fatalf("case %q failed without failures", c.Name)
				}
			case ResultError:
				checkFuzzErrors(t, c.Err, data)
			default:
				t.Fatalf("case %q has result %q", c.Name, c.Result)
			}
		}
	})
}

func checkFuzzErrors(t *testing.T, err error, data []byte) {
	t.Helper()
	lines := strings.Count(string(data), "\n") + 1
	es := Errors(err)
	if len(es) == 0 {
		t.Fatalf("error %v holds no *Error", err)
	}
	for _, e := range es {
		if e.File != "fuzz.test.yaml" || !strings.HasPrefix(e.Error(), "fuzz.test.yaml") {
			t.Fatalf("error does not name the file: %v", e)
		}
		if e.Line < 0 || e.Line > lines+1 {
			t.Fatalf("error line %d outside the input's %d lines: %v", e.Line, lines, e)
		}
		known := false
		for _, s := range []error{ErrSyntax, ErrUnknownField, ErrInvalid, ErrMissing, ErrInput} {
			known = known || errors.Is(e, s)
		}
		if !known {
			t.Fatalf("error wraps no sentinel: %v", e)
		}
	}
}

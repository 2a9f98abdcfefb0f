package testfile

import (
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	yaml "go.yaml.in/yaml/v3"

	"github.com/augurproj/augur/analysis"
)

var update = flag.Bool("update", false, "rewrite golden files")

// golden compares got with the golden file, or rewrites it with -update.
func golden(t *testing.T, path, got string) {
	t.Helper()
	if *update {
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run go test -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

// TestParseGolden parses and loads every file in testdata/parse: a
// *.good.test.yaml must load, and its summary is the golden *.json; a
// *.bad.test.yaml must fail with the golden *.err, made only of *Errors
// that name the file and lie within it.
func TestParseGolden(t *testing.T) {
	files, err := filepath.Glob("testdata/parse/*.test.yaml")
	if err != nil || len(files) == 0 {
		t.Fatalf("no test files: %v", err)
	}
	for _, file := range files {
		name := filepath.Base(file)
		t.Run(name, func(t *testing.T) {
			t.Parallel()
			path := filepath.ToSlash(file)
			f, err := ParseFile(path)
			base := strings.TrimSuffix(path, ".test.yaml")
			if strings.HasSuffix(name, ".good.test.yaml") {
				if err != nil {
					t.Fatalf("ParseFile: %v", err)
				}
				golden(t, base+".json", summarize(t, f))
				return
			}
			if err == nil {
				t.Fatal("ParseFile succeeded on a bad file")
			}
			if f != nil {
				t.Error("a failed ParseFile returned a File")
			}
			checkErrors(t, err, path)
			golden(t, base+".err", err.Error()+"\n")
		})
	}
}

// checkErrors asserts that err is made of *Errors naming the file, with a
// sentinel, within the file's lines.
func checkErrors(t *testing.T, err error, path string) {
	t.Helper()
	data, _ := os.ReadFile(path)
	lines := strings.Count(string(data), "\n") + 1
	es := Errors(err)
	if len(es) == 0 {
		t.Fatalf("error %v holds no *Error", err)
	}
	var n int
	for range strings.SplitSeq(err.Error(), "\n") {
		n++
	}
	if n != len(es) {
		t.Errorf("error has %d lines but %d *Errors: %v", n, len(es), err)
	}
	for _, e := range es {
		if e.File != path {
			t.Errorf("error names file %q, want %q: %v", e.File, path, e)
		}
		if e.Line < 0 || e.Line > lines {
			t.Errorf("error line %d outside the file's %d lines: %v", e.Line, lines, e)
		}
		known := false
		for _, s := range []error{ErrSyntax, ErrUnknownField, ErrInvalid, ErrMissing, ErrInput} {
			known = known || errors.Is(e, s)
		}
		if !known {
			t.Errorf("error wraps no sentinel: %v", e)
		}
	}
}

// summarize renders what a parsed and loaded file holds, for goldens.
func summarize(t *testing.T, f *File) string {
	t.Helper()
	type caseView struct {
		Name        string
		Line        int
		Interval    string
		Start       time.Time
		Series      int
		Samples     int
		InputFile   string `json:",omitempty"`
		Variables   Variables
		MetricTests []MetricTest
		ReplayTests []ReplayTest
	}
	out := struct {
		Canary       string
		Templates    []string
		MeshProvider string
		Cases        []caseView
	}{Canary: f.canary.Metadata.Namespace + "/" + f.canary.Metadata.Name, MeshProvider: f.MeshProvider}
	for _, tm := range f.set.Templates {
		out.Templates = append(out.Templates, tm.Metadata.Namespace+"/"+tm.Metadata.Name)
	}
	for _, c := range f.Cases {
		v := caseView{Name: c.Name, Line: c.Line, Interval: formatDuration(c.Interval), Start: c.Start,
			Variables: c.Variables, MetricTests: c.MetricTests, ReplayTests: c.ReplayTests}
		if c.store != nil {
			v.Series, v.Samples = c.store.SeriesCount(), c.store.SampleCount()
		}
		if c.InputFile != "" {
			v.InputFile = filepath.ToSlash(c.InputFile)
		}
		out.Cases = append(out.Cases, v)
	}
	b, err := json.MarshalIndent(out, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	return string(b) + "\n"
}

func TestParseErrorPositions(t *testing.T) {
	tests := []struct {
		name     string
		in       string
		wantLine int
		wantCol  int
		wantPath string
		wantCase string
		wantErr  error
	}{
		{
			name:     "unknown field in a metric test",
			in:       "manifests: [a.yaml]\ntests:\n  - name: c1\n    metric_tests:\n      - metric: m\n        exp_qeury: up\n",
			wantLine: 6, wantCol: 9, wantPath: "tests[0].metric_tests[0].exp_qeury", wantCase: "c1", wantErr: ErrUnknownField,
		},
		{
			name:     "bad notation points at its series",
			in:       "manifests: [a.yaml]\ntests:\n  - input_series:\n      - series: up\n        values: 1x2\n      - series: down\n        values: 1y2\n    metric_tests:\n      - metric: m\n        exp_check: pass\n",
			wantLine: 6, wantCol: 9, wantPath: "tests[0].input_series[1]", wantCase: "test 1", wantErr: ErrInvalid,
		},
		{
			name:     "inline canary field keeps its line and column",
			in:       "manifests:\n  - apiVersion: flagger.app/v1beta1\n    kind: Canary\n    metadata: {name: c}\n    spec:\n      targetRef: {apiVersion: apps/v1, kind: Deployment, name: c}\n      analysis:\n        intervall: 1m\ntests:\n  - metric_tests: [{metric: m, exp_query: up}]\n",
			wantLine: 8, wantCol: 9, wantPath: "manifests[0].spec.analysis.intervall", wantErr: ErrUnknownField,
		},
		{
			name:     "inline flow object reports at the object",
			in:       "manifests:\n  - {apiVersion: flagger.app/v1beta1, kind: Canary, metadata: {name: c}, spec: {bogus: 1}}\ntests:\n  - metric_tests: [{metric: m, exp_query: up}]\n",
			wantLine: 2, wantCol: 5, wantPath: "manifests[0].spec.bogus", wantErr: ErrUnknownField,
		},
		{
			name:     "inline object under an anchor reports at the object",
			in:       "manifests:\n  - &c\n    apiVersion: flagger.app/v1beta1\n    kind: Canary\n    metadata: {name: c}\n    spec: {bogus: 1}\ntests:\n  - metric_tests: [{metric: m, exp_query: up}]\n",
			wantLine: 2, wantCol: 5, wantPath: "manifests[0].spec.bogus", wantErr: ErrUnknownField,
		},
		{
			name:     "yaml syntax error has a line",
			in:       "manifests: [a.yaml\ntests: []\n",
			wantLine: 1, wantErr: ErrSyntax,
		},
		{
			name:     "duplicate case name",
			in:       "manifests: [a.yaml]\ntests:\n  - name: x\n    metric_tests: [{metric: m, exp_query: up}]\n  - name: x\n    metric_tests: [{metric: m, exp_query: up}]\n",
			wantLine: 5, wantCol: 11, wantPath: "tests[1].name", wantCase: "", wantErr: ErrInvalid,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Parse([]byte(tt.in), "x.test.yaml")
			es := Errors(err)
			if len(es) != 1 {
				t.Fatalf("want one *Error, got %v", err)
			}
			e := es[0]
			got := fmt.Sprintf("%d:%d %s case=%q", e.Line, e.Column, e.Path, e.Case)
			want := fmt.Sprintf("%d:%d %s case=%q", tt.wantLine, tt.wantCol, tt.wantPath, tt.wantCase)
			if got != want {
				t.Errorf("error at %s, want %s (%v)", got, want, e)
			}
			if !errors.Is(err, tt.wantErr) {
				t.Errorf("error %v is not %v", err, tt.wantErr)
			}
		})
	}
}

// TestAliasExpansionIsBounded: aliases re-walk their target wherever they
// are used, so a small file can stand for a huge one; Parse refuses that.
func TestAliasExpansionIsBounded(t *testing.T) {
	var b strings.Builder
	b.WriteString("manifests: [a.yaml]\nseries: &s\n")
	for i := range 200 {
		fmt.Fprintf(&b, "  - {series: 'up{i=\"%d\"}', values: '1'}\n", i)
	}
	b.WriteString("tests:\n")
	for range 300 {
		b.WriteString("  - {input_series: *s, metric_tests: [{metric: m, exp_check: pass}]}\n")
	}
	_, err := Parse([]byte(b.String()), "bomb.test.yaml")
	if err == nil || !strings.Contains(err.Error(), "aliases used too often") {
		t.Fatalf("want the expansion refused, got %v", err)
	}
	if n := len(Errors(err)); n > maxErrors+1 {
		t.Errorf("%d errors, want at most %d", n, maxErrors+1)
	}
}

func TestNotationBudget(t *testing.T) {
	tests := []struct {
		values string
		want   uint64
	}{
		{"1 2 3", 5},
		{"0+10x30", 7 + 31},
		{"_x3 stale", 9 + 4},
		{"1x99999999999999999999999999", math.MaxUint64 / 4},
	}
	for _, tt := range tests {
		if got := expansion(tt.values); got < tt.want || (tt.want < math.MaxUint64/4 && got != tt.want) {
			t.Errorf("expansion(%q) = %d, want %d", tt.values, got, tt.want)
		}
	}
	// Eleven series of a million samples each: every one is within
	// recorded.MaxNotationSamples, together they are over the file's budget,
	// which is checked before anything is expanded.
	in := "manifests: [a.yaml]\ntests:\n  - metric_tests: [{metric: m, exp_check: pass}]\n    input_series:\n"
	for i := range 11 {
		in += fmt.Sprintf("      - {series: 's%d', values: '0+1x999999'}\n", i)
	}
	_, err := Parse([]byte(in), "big.test.yaml")
	es := Errors(err)
	if len(es) != 1 || es[0].Line != 5 || !strings.Contains(es[0].Msg, "more than 10000000 samples") {
		t.Fatalf("want one error on line 5 about the sample budget, got %v", err)
	}
}

func TestParseTimestampAndMoment(t *testing.T) {
	tests := []struct {
		in      string
		want    time.Time
		wantErr bool
	}{
		{in: "2026-11-01T10:00:00Z", want: time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)},
		{in: "2026-11-01T12:00:00+02:00", want: time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)},
		{in: "1793527200", want: time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)},
		{in: "1793527207.5", want: time.Date(2026, 11, 1, 10, 0, 7, 500e6, time.UTC)},
		{in: "0", want: time.Unix(0, 0).UTC()},
		{in: "tomorrow", wantErr: true},
		{in: "NaN", wantErr: true},
		{in: "1e300", wantErr: true},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			got, err := parseTimestamp(tt.in)
			if (err != nil) != tt.wantErr {
				t.Fatalf("err = %v, wantErr %v", err, tt.wantErr)
			}
			if !got.Equal(tt.want) {
				t.Errorf("got %v, want %v", got, tt.want)
			}
		})
	}
	start := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	moments := []struct {
		m    Moment
		want time.Time
		text string
	}{
		{Moment{Offset: 90 * time.Second}, start.Add(90 * time.Second), "1m30s"},
		{Moment{}, start, "0s"},
		{Moment{At: start.Add(time.Hour)}, start.Add(time.Hour), "2026-11-01T11:00:00Z"},
	}
	for _, tt := range moments {
		if got := tt.m.Time(start); !got.Equal(tt.want) {
			t.Errorf("%v.Time = %v, want %v", tt.m, got, tt.want)
		}
		if got := tt.m.String(); got != tt.text {
			t.Errorf("String() = %q, want %q", got, tt.text)
		}
	}
}

func TestSuggest(t *testing.T) {
	known := []string{"metric", "eval_time", "exp_query", "exp_value", "tolerance", "exp_error", "exp_check"}
	tests := []struct{ in, want string }{
		{"eval_tme", "eval_time"},
		{"exp_vale", "exp_value"},
		{"metrics", "metric"},
		{"exp", "exp_query"},
		{"something_else", ""},
	}
	for _, tt := range tests {
		if got := suggest(tt.in, known); got != tt.want {
			t.Errorf("suggest(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestBlock(t *testing.T) {
	data := "a:\n  - k: v\n    # comment\n  # outdented comment\n\n    q: |\n      line\n\n      more\n  - next\nb: 1\n"
	p := &fileParser{data: []byte(data)}
	var root yaml.Node
	if err := yaml.Unmarshal([]byte(data), &root); err != nil {
		t.Fatal(err)
	}
	item := root.Content[0].Content[1].Content[0]
	got := string(p.block(item.Line, item.Column))
	want := "k: v\n# comment\n\n\nq: |\n  line\n\n  more\n"
	if got != want {
		t.Errorf("block = %q, want %q", got, want)
	}
	var back map[string]any
	if err := yaml.Unmarshal([]byte(got), &back); err != nil || back["q"] != "line\n\nmore\n" {
		t.Errorf("cut block reads back as %v, %v", back, err)
	}
}

func TestCaseApplyLeavesTheBaseAlone(t *testing.T) {
	base := analysis.Canary{
		Metadata: analysis.ObjectMeta{Name: "c", Namespace: "ns"},
		Spec: analysis.CanarySpec{
			TargetRef: analysis.CrossNamespaceObjectReference{Name: "app"},
			Analysis: &analysis.Analysis{Metrics: []analysis.Metric{
				{Name: "a", Interval: "1m", TemplateVariables: map[string]string{"x": "1", "y": "2"}},
				{Name: "b"},
			}},
		},
	}
	c := &Case{Variables: Variables{Namespace: "prod", Target: "app2", Interval: "5m", TemplateVariables: map[string]string{"y": "3"}}}
	got := c.apply(base)
	if got.Metadata.Namespace != "prod" || got.Spec.TargetRef.Name != "app2" {
		t.Errorf("metadata/target not applied: %+v", got.Metadata)
	}
	wantMetrics := []analysis.Metric{
		{Name: "a", Interval: "5m", TemplateVariables: map[string]string{"x": "1", "y": "3"}},
		{Name: "b", Interval: "5m", TemplateVariables: map[string]string{"y": "3"}},
	}
	if diff := cmp.Diff(wantMetrics, got.Spec.Analysis.Metrics); diff != "" {
		t.Errorf("metrics (-want +got):\n%s", diff)
	}
	wantBase := []analysis.Metric{
		{Name: "a", Interval: "1m", TemplateVariables: map[string]string{"x": "1", "y": "2"}},
		{Name: "b"},
	}
	if diff := cmp.Diff(wantBase, base.Spec.Analysis.Metrics); diff != "" {
		t.Errorf("base was modified (-want +got):\n%s", diff)
	}
	if base.Metadata.Namespace != "ns" || base.Spec.TargetRef.Name != "app" {
		t.Errorf("base metadata modified: %+v", base.Metadata)
	}
}

// TestManifestsDirectorySkipsTestFiles: a test file can sit beside the
// manifests it tests and name their directory.
func TestManifestsDirectorySkipsTestFiles(t *testing.T) {
	dir := t.TempDir()
	for _, name := range []string{"canary.yaml", "metrictemplate.yaml"} {
		b, err := os.ReadFile(filepath.Join("../../examples/podinfo/manifests", name))
		if err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(filepath.Join(dir, name), b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	test := "manifests: [.]\ntests:\n  - metric_tests: [{metric: not-found-percentage, exp_query: x}]\n"
	for _, name := range []string{"a.test.yaml", "b.test.yml"} {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(test), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	f, err := ParseFile(filepath.Join(dir, "a.test.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	if f.canary.Metadata.Name != "podinfo" || len(f.set.Templates) != 1 {
		t.Errorf("loaded canary %q and %d templates", f.canary.Metadata.Name, len(f.set.Templates))
	}
	empty := t.TempDir()
	if err := os.WriteFile(filepath.Join(empty, "only.test.yaml"), []byte(test), 0o644); err != nil {
		t.Fatal(err)
	}
	_, err = ParseFile(filepath.Join(empty, "only.test.yaml"))
	if !errors.Is(err, ErrInput) || !strings.Contains(err.Error(), "besides test files") {
		t.Errorf("want an input error for a directory of test files only, got %v", err)
	}
}

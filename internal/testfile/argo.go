package testfile

import (
	"context"
	"errors"
	"fmt"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	yaml "go.yaml.in/yaml/v3"

	"github.com/augurproj/augur/metrics/recorded"
	"github.com/augurproj/augur/service"
)

// Argo Rollouts AnalysisTemplates under test: a test file lists them under
// analysis_templates, a case gives their args (args) and asserts on each
// augur metric's measurement (analysis_tests). The measuring itself is the
// Argo plugin's (plugins/argo), handed in by the caller as an ArgoMeasurer:
// this package must not import plugins.

// MaxTemplateFileBytes bounds an analysis_templates file.
const MaxTemplateFileBytes = 4 << 20

// TemplateFile is one entry of a test file's analysis_templates list.
type TemplateFile struct {
	// Line and Column locate the entry in the test file.
	Line, Column int
	// Path is the file, resolved against the test file's directory.
	Path string

	data []byte
}

// AnalysisTest asserts on the measurement of one augur metric of the
// analysis templates, as the augur plugin measures it for Argo Rollouts
// (thresholdRange, successCondition, failureCondition).
type AnalysisTest struct {
	// Line is where the entry starts in the test file.
	Line int
	// Template picks the AnalysisTemplate when several have the metric.
	Template string
	// Metric is spec.metrics[].name.
	Metric string
	// ExpPhase, when set, is the expected measurement phase: Successful,
	// Failed, Inconclusive or Error.
	ExpPhase string
	// ExpValue, when set, is the expected measurement value as Argo
	// stores it ("[0.995]"), compared as text.
	ExpValue *string
	// ExpNumber, when set, is the expected value as a number: the
	// measurement must hold exactly one number, equal within Tolerance.
	ExpNumber *float64
	// Tolerance is the largest accepted absolute difference from ExpNumber.
	Tolerance float64
	// EvalTime, when set, is when the metric is measured (as promtool's
	// eval_time: a duration after the case's start, or an RFC 3339 time);
	// it must lie inside the case's data. Default: the data's end, where the
	// plugin with data measures.
	EvalTime *Moment
	evalLine int
}

func (a *AnalysisTest) assertions() int {
	return count(a.ExpPhase != "", a.ExpValue != nil || a.ExpNumber != nil)
}

// argoPhases are the values exp_phase accepts (Argo's measurement phases).
var argoPhases = []string{"Successful", "Failed", "Inconclusive", "Error"}

// ArgoMeasurement is one metric of an AnalysisTemplate, measured.
type ArgoMeasurement struct {
	Template, Metric string
	// Phase is Argo's measurement phase; empty for a metric that does not
	// use the augur plugin (not measured).
	Phase   string
	Value   string
	Message string
	Query   string
}

// ArgoTemplateFile is an analysis_templates file handed to an ArgoMeasurer.
type ArgoTemplateFile struct {
	Path string
	Data []byte
}

// ArgoMeasurer measures every augur metric of the files once at time at,
// over the case's data, as the augur plugin for Argo Rollouts does. A
// problem with the args is an *ArgsError; a problem with one file is a
// *TemplateFileError.
type ArgoMeasurer interface {
	MeasureTemplates(ctx context.Context, store *recorded.Store, at time.Time, files []ArgoTemplateFile, args map[string]string) ([]ArgoMeasurement, error)
}

// ArgsError is a problem with a case's args (a declared arg without a
// value, an arg no template declares).
type ArgsError struct{ Err error }

func (e *ArgsError) Error() string { return e.Err.Error() }
func (e *ArgsError) Unwrap() error { return e.Err }

// TemplateFileError is a problem with the Index-th analysis_templates file.
type TemplateFileError struct {
	Index int
	Err   error
}

func (e *TemplateFileError) Error() string { return e.Err.Error() }
func (e *TemplateFileError) Unwrap() error { return e.Err }

// analysisTemplate parses an analysis_templates entry: a file path.
func (p *fileParser) analysisTemplate(n *yaml.Node, path string) {
	v := p.resolve(n, path)
	if v == nil {
		return
	}
	s, ok := p.str(v, path)
	if !ok {
		return
	}
	if strings.TrimSpace(s) == "" {
		p.fail(v, path, ErrInvalid, "want the path of a file of Argo AnalysisTemplates or ClusterAnalysisTemplates")
		return
	}
	p.file.AnalysisTemplates = append(p.file.AnalysisTemplates, TemplateFile{Line: v.Line, Column: v.Column, Path: p.resolvePath(strings.TrimSpace(s))})
}

// caseArgs parses a case's args: a mapping of arg names to values.
func (p *fileParser) caseArgs(c *Case, n *yaml.Node, path string) {
	m := p.resolve(n, path)
	if m == nil {
		return
	}
	c.argsNode = position{m.Line, m.Column}
	if m.Kind != yaml.MappingNode {
		p.fail(m, path, ErrInvalid, "want a mapping of AnalysisTemplate arg names to values, got %s", describe(m))
		return
	}
	c.Args = map[string]string{}
	for i := 0; i+1 < len(m.Content); i += 2 {
		k := m.Content[i]
		key := join(path, k.Value)
		if _, dup := c.Args[k.Value]; dup {
			p.fail(k, key, ErrSyntax, "arg %q given twice", k.Value)
			continue
		}
		if s, ok := p.str(m.Content[i+1], key); ok {
			c.Args[k.Value] = s
		}
	}
}

func (p *fileParser) analysisTest(c *Case, n *yaml.Node, path string) {
	a := AnalysisTest{}
	if v := p.resolve(n, path); v != nil {
		a.Line = v.Line
	}
	var tolNode *yaml.Node
	before := len(p.errs)
	ok, _ := p.mapping(n, path, []field{
		{"template", func(v *yaml.Node, path string) { a.Template, _ = p.str(v, path) }},
		{"eval_time", func(v *yaml.Node, path string) {
			if m, ok := p.moment(v, path); ok {
				a.EvalTime, a.evalLine = &m, v.Line
			}
		}},
		{"metric", func(v *yaml.Node, path string) { a.Metric, _ = p.str(v, path) }},
		{"exp_phase", func(v *yaml.Node, path string) {
			s, ok := p.str(v, path)
			if !ok {
				return
			}
			if !slices.Contains(argoPhases, strings.TrimSpace(s)) {
				p.fail(v, path, ErrInvalid, "unknown measurement phase %q (want %s)", s, strings.Join(argoPhases, ", "))
				return
			}
			a.ExpPhase = strings.TrimSpace(s)
		}},
		{"exp_value", func(v *yaml.Node, path string) {
			r := p.resolve(v, path)
			if r == nil {
				return
			}
			if r.Kind == yaml.ScalarNode && (r.Tag == "!!int" || r.Tag == "!!float") {
				if f, ok := p.float(r, path); ok {
					a.ExpNumber = &f
				}
				return
			}
			if s, ok := p.str(r, path); ok {
				s = strings.TrimSpace(s)
				a.ExpValue = &s
			}
		}},
		{"tolerance", func(v *yaml.Node, path string) {
			tolNode = v
			if f, ok := p.float(v, path); ok {
				if f < 0 || f != f {
					p.fail(v, path, ErrInvalid, "tolerance must be a non-negative number")
					return
				}
				a.Tolerance = f
			}
		}},
	})
	if !ok || len(p.errs) > before {
		return
	}
	a.Metric, a.Template = strings.TrimSpace(a.Metric), strings.TrimSpace(a.Template)
	switch {
	case a.Metric == "":
		p.fail(n, path, ErrMissing, "metric is required (a spec.metrics[].name of an AnalysisTemplate)")
		return
	case a.assertions() == 0:
		p.fail(n, path, ErrMissing, "asserts nothing: give exp_phase or exp_value")
		return
	case tolNode != nil && a.ExpNumber == nil:
		p.fail(tolNode, path+".tolerance", ErrInvalid, "tolerance only applies to a numeric exp_value")
		return
	}
	c.AnalysisTests = append(c.AnalysisTests, a)
}

// loadTemplates reads the analysis_templates files.
func (f *File) loadTemplates() []error {
	var errs []error
	for i := range f.AnalysisTemplates {
		t := &f.AnalysisTemplates[i]
		b, err := readBounded(t.Path, MaxTemplateFileBytes)
		if err != nil {
			errs = append(errs, &Error{File: f.Path, Line: t.Line, Column: t.Column, Path: fmt.Sprintf("analysis_templates[%d]", i), Msg: err.Error(), Err: ErrInput})
			continue
		}
		t.data = b
	}
	return errs
}

func readBounded(path string, limit int64) ([]byte, error) {
	st, err := os.Stat(path)
	if err != nil {
		return nil, fmt.Errorf("reading analysis templates: %w", err)
	}
	if st.IsDir() {
		return nil, fmt.Errorf("reading analysis templates: %s is a directory (name the file)", path)
	}
	if st.Size() > limit {
		return nil, fmt.Errorf("reading analysis templates: %s is %d bytes, more than the %d allowed", path, st.Size(), limit)
	}
	return os.ReadFile(path)
}

// analysisTests measures the analysis templates over the case's data and
// checks the case's analysis_tests.
func (cr *caseRun) analysisTests(ctx context.Context) {
	if len(cr.c.AnalysisTests) == 0 {
		return
	}
	path := fmt.Sprintf("tests[%d]", cr.idx)
	if cr.argo == nil {
		cr.fail(cr.c.Line, path+".analysis_tests", ErrInvalid, "this runner cannot measure Argo AnalysisTemplates (no ArgoMeasurer given)")
		return
	}
	st := cr.c.store
	if st == nil || st.SampleCount() == 0 {
		cr.fail(cr.c.Line, path, ErrMissing, "analysis_tests measure over the case's data, which holds no samples")
		return
	}
	files := make([]ArgoTemplateFile, len(cr.file.AnalysisTemplates))
	for i, t := range cr.file.AnalysisTemplates {
		files[i] = ArgoTemplateFile{Path: t.Path, Data: t.data}
	}
	// Each distinct evaluation time is measured once. Without eval_time, a
	// metric is measured where `augur query -f template.yaml --data` and the
	// plugin with data measure: at the data's end.
	bounds := cr.dataBounds()
	type group struct {
		at   time.Time
		when string
		idx  []int
	}
	var groups []*group
	byTime := map[time.Time]*group{}
	for j, a := range cr.c.AnalysisTests {
		at, when := recorded.EvalTime(st.End()), ""
		if a.EvalTime != nil {
			at = a.EvalTime.Time(cr.c.Start)
			when = cr.when(*a.EvalTime, at)
			if err := bounds.CheckAt("eval_time", at); err != nil {
				cr.fail(a.evalLine, fmt.Sprintf("%s.analysis_tests[%d].eval_time", path, j), ErrInvalid, "%v", err)
				continue
			}
		}
		g := byTime[at]
		if g == nil {
			g = &group{at: at, when: when}
			if when == "" {
				g.when = at.UTC().Format(time.RFC3339Nano)
			}
			byTime[at] = g
			groups = append(groups, g)
		}
		g.idx = append(g.idx, j)
	}
	for _, g := range groups {
		if !cr.measureAt(ctx, path, st, g.at, g.when, files, g.idx) {
			return
		}
	}
}

// measureAt measures the analysis templates at time at and checks the
// analysis_tests of indexes idx; it reports false when the measuring
// itself failed (an error already recorded).
func (cr *caseRun) measureAt(ctx context.Context, path string, st *recorded.Store, at time.Time, when string, files []ArgoTemplateFile, idx []int) bool {
	ms, err := cr.argo.MeasureTemplates(ctx, st, at, files, cr.c.Args)
	if err != nil {
		var ae *ArgsError
		var fe *TemplateFileError
		switch {
		case errors.As(err, &ae):
			line := cr.c.Line
			if cr.c.argsNode.line > 0 {
				line = cr.c.argsNode.line
			}
			cr.fail(line, path+".args", ErrMissing, "%v", ae.Err)
		case errors.As(err, &fe) && fe.Index >= 0 && fe.Index < len(cr.file.AnalysisTemplates):
			t := cr.file.AnalysisTemplates[fe.Index]
			cr.errs = append(cr.errs, &Error{File: cr.file.Path, Line: t.Line, Column: t.Column, Case: cr.c.Name,
				Path: fmt.Sprintf("analysis_templates[%d]", fe.Index), Msg: fe.Err.Error(), Err: ErrInput})
		default:
			cr.fail(cr.c.Line, path+".analysis_tests", ErrInput, "measuring the analysis templates: %v", err)
		}
		return false
	}
	for _, j := range idx {
		a := cr.c.AnalysisTests[j]
		cr.analysisTest(fmt.Sprintf("%s.analysis_tests[%d]", path, j), &a, ms, when)
	}
	return true
}

func (cr *caseRun) analysisTest(path string, a *AnalysisTest, ms []ArgoMeasurement, when string) {
	var found []ArgoMeasurement
	var names []string
	for _, m := range ms {
		names = append(names, m.Template+"/"+m.Metric)
		if m.Metric == a.Metric && (a.Template == "" || m.Template == a.Template) {
			found = append(found, m)
		}
	}
	switch {
	case len(found) == 0 && a.Template != "":
		cr.fail(a.Line, path+".metric", ErrMissing, "no metric %q in AnalysisTemplate %q (the analysis templates have %s)", a.Metric, a.Template, strings.Join(names, ", "))
		return
	case len(found) == 0:
		cr.fail(a.Line, path+".metric", ErrMissing, "no metric %q in the analysis templates (they have %s)", a.Metric, strings.Join(names, ", "))
		return
	case len(found) > 1:
		cr.fail(a.Line, path+".metric", ErrInvalid, "metric %q is in several AnalysisTemplates: pick one with template: NAME", a.Metric)
		return
	}
	m := found[0]
	if m.Phase == "" {
		cr.fail(a.Line, path+".metric", ErrInvalid, "metric %s/%s does not use the augur plugin (provider.plugin.augur/augur): augur test measures augur metrics only", m.Template, m.Metric)
		return
	}
	fl := Failure{Line: a.Line, Metric: m.Template + "/" + m.Metric, What: "measurement at " + when, Query: m.Query, DiffAt: -1}
	if a.ExpPhase != "" && m.Phase != a.ExpPhase {
		fl.Want = append(fl.Want, "phase "+a.ExpPhase)
		fl.Got = append(fl.Got, "phase "+m.Phase)
	}
	switch {
	case a.ExpValue != nil && strings.TrimSpace(m.Value) != *a.ExpValue:
		fl.Want = append(fl.Want, "value "+*a.ExpValue)
		fl.Got = append(fl.Got, "value "+orNone(m.Value))
	case a.ExpNumber != nil:
		got, ok := singleNumber(m.Value)
		if !ok || !approxEqual(*a.ExpNumber, got, a.Tolerance) {
			want := formatNumber(*a.ExpNumber)
			if a.Tolerance > 0 {
				want += " ± " + formatNumber(a.Tolerance)
			}
			fl.Want = append(fl.Want, "value "+want)
			fl.Got = append(fl.Got, "value "+orNone(m.Value))
		}
	}
	if len(fl.Want) == 0 {
		return
	}
	if m.Message != "" {
		fl.Details = []string{m.Message}
	}
	cr.rep.Failures = append(cr.rep.Failures, fl)
}

// singleNumber reads a measurement value holding one number: "0.995" or
// Argo's vector form "[0.995]".
func singleNumber(v string) (float64, bool) {
	s := strings.TrimSpace(v)
	s = strings.TrimSpace(strings.TrimSuffix(strings.TrimPrefix(s, "["), "]"))
	if s == "" || strings.Contains(s, ",") {
		return 0, false
	}
	f, err := strconv.ParseFloat(s, 64)
	return f, err == nil
}

func orNone(s string) string {
	if strings.TrimSpace(s) == "" {
		return "(none)"
	}
	return s
}

// dataBounds is the time range of the case's data, the one check of
// evaluation times every command shares (service.DataBounds).
func (cr *caseRun) dataBounds() *service.DataBounds {
	if cr.bounds == nil {
		rp := recorded.New(cr.c.store, recorded.Options{})
		first, last := rp.DataBounds()
		cr.bounds = &service.DataBounds{Name: cr.c.dataName(), First: first, Last: last, Interval: rp.SampleInterval()}
	}
	return cr.bounds
}

// dataName names the case's data in messages: its input_file, or its
// input_series.
func (c *Case) dataName() string {
	if c.InputFile != "" {
		return c.InputFile
	}
	return "of the case's input_series"
}

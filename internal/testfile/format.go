package testfile

import (
	"bytes"
	"cmp"
	"errors"
	"fmt"
	"io"
	"math"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	yaml "go.yaml.in/yaml/v3"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/manifest"
	"github.com/augurproj/augur/metrics"
	"github.com/augurproj/augur/metrics/answers"
	"github.com/augurproj/augur/metrics/recorded"
)

// DefaultInterval is the spacing of input_series values when a case sets no
// interval (promtool's default evaluation interval).
const DefaultInterval = time.Minute

// MaxFileSamples bounds how many samples the input_series of one test file
// may expand to (`0+1x1000000` is a few bytes but a million samples).
const MaxFileSamples = 10_000_000

// File is a parsed test file.
type File struct {
	// Path is the test file's path as given; paths inside the file are
	// relative to its directory.
	Path string
	// Manifests are the sources of the Canary and MetricTemplates under
	// test, in file order.
	Manifests []Manifest
	// Canary picks the Canary under test ("namespace/name" or "name") when
	// the manifests hold several.
	Canary string
	// MeshProvider is Flagger's -mesh-provider for builtin metrics; empty
	// means istio. A Canary's spec.provider wins.
	MeshProvider string
	// AnalysisTemplates are files of Argo AnalysisTemplates under test
	// (analysis_tests measure their augur metrics).
	AnalysisTemplates []TemplateFile
	// Cases are the test cases, in file order.
	Cases []*Case

	loaded bool
	set    *manifest.Set
	canary analysis.Canary
}

// Manifest is one entry of a test file's manifests list.
type Manifest struct {
	// Line and Column locate the entry in the test file.
	Line, Column int
	// Path is a manifest file or directory (as -f takes it), resolved
	// against the test file's directory; empty for an inline object.
	Path string
	// inline is the decoded inline object.
	inline *manifest.Set
}

// Case is one test case: input data, per-case variables and assertions.
type Case struct {
	// Name names the case in reports and for --run; "test N" when unset.
	Name string
	// Line is where the case starts in the test file.
	Line int
	// Interval is the spacing of InputSeries values (default 1m).
	Interval time.Duration
	// Start is start_timestamp: the time of the first InputSeries value and
	// the origin of relative evaluation times. Without start_timestamp it
	// is the Unix epoch for input_series and the first sample of InputFile.
	Start time.Time
	// InputSeries are series in promtool's expanding notation.
	InputSeries []recorded.SeriesInput
	// InputFile is recorded OpenMetrics data, resolved against the test
	// file's directory.
	InputFile string
	// AnswersFile is a recording of provider answers (augur record
	// --answers-out) for the metrics whose provider is not prometheus,
	// resolved against the test file's directory.
	AnswersFile string
	// Variables override the Canary for this case.
	Variables Variables
	// MetricTests assert on single metrics.
	MetricTests []MetricTest
	// ReplayTests assert on whole replays.
	ReplayTests []ReplayTest
	// Args are the AnalysisTemplates' args for this case.
	Args map[string]string
	// AnalysisTests assert on AnalysisTemplate measurements.
	AnalysisTests []AnalysisTest

	argsNode  position
	hasStart  bool
	hasInput  bool
	inputNode position
	// answers is AnswersFile, loaded.
	answers     *answers.Set
	answersNode position
	store       *recorded.Store
}

// Variables are a case's overrides of the Canary under test.
type Variables struct {
	// Namespace replaces metadata.namespace ({{ namespace }}; templateRefs
	// without a namespace follow it).
	Namespace string
	// Target replaces spec.targetRef.name ({{ target }}).
	Target string
	// Interval replaces every metric's interval ({{ interval }}).
	Interval string
	// TemplateVariables are merged into every metric's templateVariables
	// ({{ variables.KEY }}); the case's values win.
	TemplateVariables map[string]string
}

// Moment is an evaluation time: Offset after the case's start, or At.
type Moment struct {
	// Offset is used when At is zero.
	Offset time.Duration
	// At is an absolute time.
	At time.Time
}

// Time resolves the moment against a case's start.
func (m Moment) Time(start time.Time) time.Time {
	if !m.At.IsZero() {
		return m.At
	}
	return start.Add(m.Offset)
}

// String renders the moment as written: a duration or an RFC 3339 time.
func (m Moment) String() string {
	if !m.At.IsZero() {
		return m.At.Format(time.RFC3339Nano)
	}
	return formatDuration(m.Offset)
}

// MetricTest asserts on one metric of the Canary (analysis.metrics[].name).
type MetricTest struct {
	// Line is where the entry starts in the test file.
	Line int
	// Metric is analysis.metrics[].name.
	Metric string
	// EvalTime is when the query is evaluated (default: the case's start).
	EvalTime Moment
	// ExpQuery, when set, is the expected rendered query; both sides are
	// whitespace-collapsed and trimmed before comparing.
	ExpQuery *string
	// ExpValue, when set, is the expected value (milliseconds for
	// request-duration), equal within Tolerance.
	ExpValue *float64
	// Tolerance is the largest accepted absolute difference from ExpValue.
	Tolerance float64
	// ExpError, when set, is the expected error kind (no-values, …).
	ExpError analysis.ErrorKind
	// ExpCheck, when set, is whether the check against the metric's
	// thresholdRange passes.
	ExpCheck *bool

	hasEval bool
}

// ReplayTest asserts on a whole replay over the case's data.
type ReplayTest struct {
	// Line is where the entry starts in the test file.
	Line int
	// Start is the first tick (default: the case's start plus the longest
	// metric interval, as `augur replay` does).
	Start *Moment
	// TickInterval is the time between ticks (default: analysis.interval).
	TickInterval time.Duration
	// MaxTicks bounds the replay (default engine.DefaultMaxTicks).
	MaxTicks int
	// Webhooks is pass (default) or fail.
	Webhooks string
	// ExpResult, when set, is the phase the replay ends in.
	ExpResult analysis.Phase
	// ExpTicks, when positive, is the number of ticks the replay takes.
	ExpTicks int
	// ExpWeights, when set, is status.canaryWeight after each tick.
	ExpWeights []int
}

// Assertions counts the expectations of the case.
func (c *Case) Assertions() int {
	n := 0
	for _, m := range c.MetricTests {
		n += m.assertions()
	}
	for _, r := range c.ReplayTests {
		n += r.assertions()
	}
	for _, a := range c.AnalysisTests {
		n += a.assertions()
	}
	return n
}

func (m *MetricTest) assertions() int {
	return count(m.ExpQuery != nil, m.ExpValue != nil, m.ExpError != "", m.ExpCheck != nil)
}

// evaluates reports whether the entry needs the metric's value.
func (m *MetricTest) evaluates() bool {
	return m.ExpValue != nil || m.ExpError != "" || m.ExpCheck != nil
}

func (r *ReplayTest) assertions() int {
	return count(r.ExpResult != "", r.ExpTicks > 0, r.ExpWeights != nil)
}

func count(bs ...bool) int {
	n := 0
	for _, b := range bs {
		if b {
			n++
		}
	}
	return n
}

type position struct{ line, col int }

// errorKinds maps the names exp_error accepts to error kinds.
var errorKinds = map[string]analysis.ErrorKind{
	string(analysis.ErrKindNoValues):       analysis.ErrKindNoValues,
	metrics.ErrNoValues.Error():            analysis.ErrKindNoValues,
	string(analysis.ErrKindMultipleValues): analysis.ErrKindMultipleValues,
	metrics.ErrMultipleValues.Error():      analysis.ErrKindMultipleValues,
	string(analysis.ErrKindRender):         analysis.ErrKindRender,
	string(analysis.ErrKindTemplate):       analysis.ErrKindTemplate,
	string(analysis.ErrKindSecret):         analysis.ErrKindSecret,
	string(analysis.ErrKindProvider):       analysis.ErrKindProvider,
	string(analysis.ErrKindQuery):          analysis.ErrKindQuery,
	string(analysis.ErrKindNoMetric):       analysis.ErrKindNoMetric,
}

const errorKindNames = "no-values (or \"no values found\"), multiple-values, query, render, template, secret, provider, no-metric"

// phases are the values exp_result accepts.
var phases = []analysis.Phase{
	analysis.PhaseInitializing, analysis.PhaseInitialized, analysis.PhaseWaiting, analysis.PhaseProgressing,
	analysis.PhaseWaitingPromotion, analysis.PhasePromoting, analysis.PhaseFinalising, analysis.PhaseSucceeded,
	analysis.PhaseFailed, analysis.PhaseTerminating, analysis.PhaseTerminated,
}

// yamlLine reads the line out of a go-yaml error ("yaml: line 3: …").
var yamlLine = regexp.MustCompile(`^yaml: (?:line (\d+): )?`)

// Parse reads a test file from data; path names it in errors and anchors
// the relative paths inside it. Parse reads no other file: manifests and
// input_file are read by (*File).Load. Every problem found is returned, as
// *Error values joined with errors.Join; the File is then nil.
func Parse(data []byte, path string) (*File, error) {
	d := &decoder{file: path, budget: 4*len(data) + 1000}
	dec := yaml.NewDecoder(bytes.NewReader(data))
	var root yaml.Node
	if err := dec.Decode(&root); err != nil {
		if errors.Is(err, io.EOF) {
			return nil, &Error{File: path, Msg: "empty test file (want manifests and tests)", Err: ErrMissing}
		}
		return nil, syntaxError(path, err)
	}
	var extra yaml.Node
	if err := dec.Decode(&extra); !errors.Is(err, io.EOF) {
		if err != nil {
			return nil, syntaxError(path, err)
		}
		return nil, &Error{File: path, Line: extra.Line, Column: extra.Column, Msg: "a test file holds one YAML document; this is a second one", Err: ErrSyntax}
	}
	f := &File{Path: path}
	p := &fileParser{decoder: d, data: data, dir: filepath.Dir(path), file: f, names: map[string]int{}}
	p.file2(root.Content[0])
	if len(d.errs) > 0 {
		slices.SortStableFunc(d.errs, byPosition)
		return nil, errors.Join(d.errs...)
	}
	return f, nil
}

// byPosition orders errors by line and column; errors without a position
// (whole-file problems) come first.
func byPosition(a, b error) int {
	var ea, eb *Error
	if !errors.As(a, &ea) || !errors.As(b, &eb) {
		return 0
	}
	if c := cmp.Compare(ea.Line, eb.Line); c != 0 {
		return c
	}
	return cmp.Compare(ea.Column, eb.Column)
}

func syntaxError(path string, err error) *Error {
	msg := err.Error()
	line := 0
	if m := yamlLine.FindStringSubmatch(msg); m != nil {
		line, _ = strconv.Atoi(m[1])
		msg = msg[len(m[0]):]
	}
	return &Error{File: path, Line: line, Msg: msg, Err: ErrSyntax}
}

// fileParser holds the state of one Parse.
type fileParser struct {
	*decoder
	data  []byte
	lines [][]byte // data split after each newline, built on first use
	dir   string
	file  *File
	names map[string]int // case name → line
	// samples bounds the expansion of all input_series (MaxFileSamples).
	samples uint64
}

func (p *fileParser) file2(root *yaml.Node) {
	f := p.file
	var manifests, tests, templates *yaml.Node
	ok, clean := p.mapping(root, "", []field{
		{"manifests", func(v *yaml.Node, path string) {
			manifests = v
			p.sequence(v, path, func(_ int, v *yaml.Node, path string) { p.manifest(v, path) })
		}},
		{"analysis_templates", func(v *yaml.Node, path string) {
			templates = v
			p.sequence(v, path, func(_ int, v *yaml.Node, path string) { p.analysisTemplate(v, path) })
		}},
		{"canary", func(v *yaml.Node, path string) { f.Canary, _ = p.str(v, path) }},
		{"mesh_provider", func(v *yaml.Node, path string) { f.MeshProvider, _ = p.str(v, path) }},
		{"tests", func(v *yaml.Node, path string) {
			tests = v
			p.sequence(v, path, func(i int, v *yaml.Node, path string) { p.testCase(i, v, path) })
		}},
	})
	if !ok || !clean {
		// A misspelt top-level key would also read as a missing one.
		return
	}
	if (manifests == nil || len(f.Manifests) == 0 && len(p.errs) == 0) && templates == nil {
		p.fail(orNode(manifests, root), "manifests", ErrMissing, "no manifests: list the Canary and MetricTemplate files (or inline objects) under test, or Argo AnalysisTemplate files under analysis_templates")
	}
	for i, c := range f.Cases {
		at := &Error{File: f.Path, Line: c.Line, Case: c.Name, Path: fmt.Sprintf("tests[%d]", i), Err: ErrMissing}
		switch {
		case len(c.MetricTests)+len(c.ReplayTests) > 0 && manifests == nil:
			at.Msg = "metric_tests and replay_tests test a Canary: list it under manifests"
			p.add(at)
		case (len(c.AnalysisTests) > 0 || c.Args != nil) && templates == nil:
			at.Msg = "analysis_tests and args test Argo AnalysisTemplates: list their files under analysis_templates"
			p.add(at)
		}
	}
	if templates != nil && len(f.AnalysisTemplates) == 0 && len(p.errs) == 0 {
		p.fail(templates, "analysis_templates", ErrMissing, "analysis_templates is empty: list files of Argo AnalysisTemplates")
	}
	if tests == nil || len(f.Cases) == 0 && len(p.errs) == 0 {
		p.fail(orNode(tests, root), "tests", ErrMissing, "no tests: add at least one case")
	}
}

func orNode(n, fallback *yaml.Node) *yaml.Node {
	if n != nil {
		return n
	}
	return fallback
}

// resolvePath anchors a path written in the test file at its directory.
func (p *fileParser) resolvePath(s string) string {
	if filepath.IsAbs(s) {
		return filepath.Clean(s)
	}
	return filepath.Join(p.dir, s)
}

func (p *fileParser) manifest(n *yaml.Node, path string) {
	v := p.resolve(n, path)
	if v == nil {
		return
	}
	m := Manifest{Line: v.Line, Column: v.Column}
	switch {
	case v.Kind == yaml.ScalarNode && !isNull(v) && strings.TrimSpace(v.Value) != "":
		m.Path = p.resolvePath(strings.TrimSpace(v.Value))
	case v.Kind == yaml.MappingNode:
		set := p.inline(n, v, path)
		if set == nil {
			return
		}
		m.inline = set
	default:
		p.fail(v, path, ErrInvalid, "want a file or directory path, or an inline Canary or MetricTemplate object; got %s", describe(v))
		return
	}
	p.file.Manifests = append(p.file.Manifests, m)
}

func (p *fileParser) testCase(i int, n *yaml.Node, path string) {
	c := &Case{Name: fmt.Sprintf("test %d", i+1), Interval: DefaultInterval, Start: time.Unix(0, 0).UTC()}
	if v := p.resolve(n, path); v != nil {
		c.Line = v.Line
	}
	if name, node := lookup(n, "name"); strings.TrimSpace(name) != "" {
		c.Name = strings.TrimSpace(name)
		if first, dup := p.names[c.Name]; dup {
			p.fail(node, path+".name", ErrInvalid, "case name %q is used twice (first on line %d); names select cases and must be unique", c.Name, first)
		}
		p.names[c.Name] = node.Line
	}
	p.caseName = c.Name
	defer func() { p.caseName = "" }()
	var intervalNode, seriesNode, fileNode *yaml.Node
	before := len(p.errs)
	ok, _ := p.mapping(n, path, []field{
		{"name", func(*yaml.Node, string) {}},
		{"interval", func(v *yaml.Node, path string) {
			intervalNode = v
			if d, ok := p.duration(v, path); ok {
				c.Interval = d
			}
		}},
		{"start_timestamp", func(v *yaml.Node, path string) {
			if t, ok := p.timestamp(v, path); ok {
				c.Start, c.hasStart = t, true
			}
		}},
		{"input_series", func(v *yaml.Node, path string) {
			seriesNode = v
			c.hasInput = true
			c.InputSeries = []recorded.SeriesInput{}
			p.sequence(v, path, func(_ int, v *yaml.Node, path string) {
				var s recorded.SeriesInput
				var hasSeries, hasValues bool
				ok, clean := p.mapping(v, path, []field{
					{"series", func(v *yaml.Node, path string) { s.Series, hasSeries = p.str(v, path) }},
					{"values", func(v *yaml.Node, path string) { s.Values, hasValues = p.str(v, path) }},
				})
				if !ok || !clean {
					return
				}
				if !hasSeries || !hasValues {
					p.fail(v, path, ErrMissing, "an input series needs series (a selector such as 'up{job=\"a\"}') and values (such as '0+10x30')")
					return
				}
				c.InputSeries = append(c.InputSeries, s)
			})
		}},
		{"input_file", func(v *yaml.Node, path string) {
			fileNode = v
			if s, ok := p.str(v, path); ok {
				if strings.TrimSpace(s) == "" {
					p.fail(v, path, ErrInvalid, "input_file is empty")
					return
				}
				c.InputFile = p.resolvePath(strings.TrimSpace(s))
				c.hasInput = true
				c.inputNode = position{v.Line, v.Column}
			}
		}},
		{"answers_file", func(v *yaml.Node, path string) {
			if s, ok := p.str(v, path); ok {
				if strings.TrimSpace(s) == "" {
					p.fail(v, path, ErrInvalid, "answers_file is empty")
					return
				}
				c.AnswersFile = p.resolvePath(strings.TrimSpace(s))
				c.hasInput = true
				c.answersNode = position{v.Line, v.Column}
			}
		}},
		{"variables", func(v *yaml.Node, path string) { p.variables(v, path, &c.Variables) }},
		{"metric_tests", func(v *yaml.Node, path string) {
			p.sequence(v, path, func(_ int, v *yaml.Node, path string) { p.metricTest(c, v, path) })
		}},
		{"replay_tests", func(v *yaml.Node, path string) {
			p.sequence(v, path, func(_ int, v *yaml.Node, path string) { p.replayTest(c, v, path) })
		}},
		{"args", func(v *yaml.Node, path string) { p.caseArgs(c, v, path) }},
		{"analysis_tests", func(v *yaml.Node, path string) {
			p.sequence(v, path, func(_ int, v *yaml.Node, path string) { p.analysisTest(c, v, path) })
		}},
	})
	if !ok {
		return
	}
	p.file.Cases = append(p.file.Cases, c)
	if seriesNode != nil && fileNode != nil {
		p.fail(fileNode, path+".input_file", ErrInvalid, "give input_series or input_file, not both")
	}
	if intervalNode != nil && (c.Interval <= 0 || c.Interval%time.Millisecond != 0) {
		p.fail(intervalNode, path+".interval", ErrInvalid, "interval must be a positive whole number of milliseconds, got %s", c.Interval)
		return
	}
	if intervalNode != nil && seriesNode == nil {
		p.fail(intervalNode, path+".interval", ErrInvalid, "interval spaces input_series values; this case has no input_series")
	}
	needsData := len(c.ReplayTests) > 0 || len(c.AnalysisTests) > 0
	for _, m := range c.MetricTests {
		needsData = needsData || m.evaluates()
	}
	switch {
	case len(p.errs) > before:
		// The entries are incomplete; what they lack is already reported.
	case c.Assertions() == 0:
		p.fail(n, path, ErrMissing, "the case asserts nothing: add metric_tests, replay_tests or analysis_tests with exp_* fields")
	case needsData && !c.hasInput:
		p.fail(n, path, ErrMissing, "the case evaluates metrics but has no data: give input_series (promtool notation), input_file (recorded OpenMetrics) or answers_file (recorded provider answers)")
	}
	if seriesNode != nil {
		c.store = p.loadSeries(c, seriesNode, path+".input_series")
	}
}

// loadSeries expands the case's input series into a store. On error it
// loads the series one at a time to point at the culprit.
func (p *fileParser) loadSeries(c *Case, n *yaml.Node, path string) *recorded.Store {
	if c.Interval <= 0 || c.Interval%time.Millisecond != 0 {
		return nil
	}
	var total uint64
	for _, s := range c.InputSeries {
		total += expansion(s.Values)
	}
	if p.samples += total; total > MaxFileSamples || p.samples > MaxFileSamples {
		p.fail(n, path, ErrInvalid, "input series expand to more than %d samples in this file", MaxFileSamples)
		return nil
	}
	store, err := recorded.LoadSeries(c.InputSeries, c.Start, c.Interval)
	if err == nil {
		return store
	}
	items := p.resolve(n, path)
	if items == nil || items.Kind != yaml.SequenceNode || len(items.Content) != len(c.InputSeries) {
		p.fail(n, path, ErrInvalid, "%v", err)
		return nil
	}
	for i, s := range c.InputSeries {
		_, err1 := recorded.LoadSeries([]recorded.SeriesInput{s}, c.Start, c.Interval)
		if err1 == nil {
			continue
		}
		msg := strings.TrimPrefix(err1.Error(), fmt.Sprintf("input series 0 (%s): ", s.Series))
		p.fail(items.Content[i], fmt.Sprintf("%s[%d]", path, i), ErrInvalid, "%s", msg)
		return nil
	}
	// Every series loads alone: two of them are the same series.
	p.fail(n, path, ErrInvalid, "%v", err)
	return nil
}

func (p *fileParser) variables(n *yaml.Node, path string, v *Variables) {
	p.mapping(n, path, []field{
		{"namespace", func(n *yaml.Node, path string) { v.Namespace, _ = p.str(n, path) }},
		{"target", func(n *yaml.Node, path string) { v.Target, _ = p.str(n, path) }},
		{"interval", func(n *yaml.Node, path string) {
			s, ok := p.str(n, path)
			if !ok {
				return
			}
			if _, err := time.ParseDuration(s); err != nil {
				p.fail(n, path, ErrInvalid, "metric interval %q is not a duration such as 1m or 30s", s)
				return
			}
			v.Interval = s
		}},
		{"template_variables", func(n *yaml.Node, path string) {
			m := p.resolve(n, path)
			if m == nil {
				return
			}
			if m.Kind != yaml.MappingNode {
				p.fail(m, path, ErrInvalid, "want a mapping of variable names to values, got %s", describe(m))
				return
			}
			v.TemplateVariables = map[string]string{}
			for i := 0; i+1 < len(m.Content); i += 2 {
				k := m.Content[i]
				key := join(path, k.Value)
				if _, dup := v.TemplateVariables[k.Value]; dup {
					p.fail(k, key, ErrSyntax, "variable %q given twice", k.Value)
					continue
				}
				if s, ok := p.str(m.Content[i+1], key); ok {
					v.TemplateVariables[k.Value] = s
				}
			}
		}},
	})
}

func (p *fileParser) metricTest(c *Case, n *yaml.Node, path string) {
	m := MetricTest{}
	if v := p.resolve(n, path); v != nil {
		m.Line = v.Line
	}
	var evalNode, tolNode *yaml.Node
	before := len(p.errs)
	ok, _ := p.mapping(n, path, []field{
		{"metric", func(v *yaml.Node, path string) { m.Metric, _ = p.str(v, path) }},
		{"eval_time", func(v *yaml.Node, path string) {
			evalNode = v
			m.EvalTime, m.hasEval = p.moment(v, path)
		}},
		{"exp_query", func(v *yaml.Node, path string) {
			if s, ok := p.str(v, path); ok {
				m.ExpQuery = &s
			}
		}},
		{"exp_value", func(v *yaml.Node, path string) {
			if f, ok := p.float(v, path); ok {
				m.ExpValue = &f
			}
		}},
		{"tolerance", func(v *yaml.Node, path string) {
			tolNode = v
			if f, ok := p.float(v, path); ok {
				if f < 0 || f != f {
					p.fail(v, path, ErrInvalid, "tolerance must be a non-negative number")
					return
				}
				m.Tolerance = f
			}
		}},
		{"exp_error", func(v *yaml.Node, path string) {
			s, ok := p.str(v, path)
			if !ok {
				return
			}
			k, known := errorKinds[strings.TrimSpace(s)]
			if !known {
				p.fail(v, path, ErrInvalid, "unknown error kind %q (want %s)", s, errorKindNames)
				return
			}
			m.ExpError = k
		}},
		{"exp_check", func(v *yaml.Node, path string) {
			s, ok := p.str(v, path)
			if !ok {
				return
			}
			switch strings.TrimSpace(s) {
			case "pass":
				m.ExpCheck = ptr(true)
			case "fail":
				m.ExpCheck = ptr(false)
			default:
				p.fail(v, path, ErrInvalid, "exp_check is pass or fail, got %q", s)
			}
		}},
	})
	if !ok || len(p.errs) > before {
		return
	}
	switch {
	case strings.TrimSpace(m.Metric) == "":
		p.fail(n, path, ErrMissing, "metric is required (an analysis.metrics[].name of the Canary)")
		return
	case m.assertions() == 0:
		p.fail(n, path, ErrMissing, "asserts nothing: give exp_query, exp_value, exp_error or exp_check")
		return
	case m.ExpValue != nil && m.ExpError != "":
		p.fail(n, path, ErrInvalid, "exp_value and exp_error are exclusive")
		return
	case tolNode != nil && m.ExpValue == nil:
		p.fail(tolNode, path+".tolerance", ErrInvalid, "tolerance only applies to exp_value")
		return
	case evalNode != nil && !m.evaluates():
		p.fail(evalNode, path+".eval_time", ErrInvalid, "eval_time is only used by exp_value, exp_error and exp_check")
		return
	}
	m.Metric = strings.TrimSpace(m.Metric)
	c.MetricTests = append(c.MetricTests, m)
}

func (p *fileParser) replayTest(c *Case, n *yaml.Node, path string) {
	r := ReplayTest{Webhooks: "pass"}
	if v := p.resolve(n, path); v != nil {
		r.Line = v.Line
	}
	before := len(p.errs)
	ok, _ := p.mapping(n, path, []field{
		{"start", func(v *yaml.Node, path string) {
			if m, ok := p.moment(v, path); ok {
				r.Start = &m
			}
		}},
		{"tick_interval", func(v *yaml.Node, path string) {
			if d, ok := p.duration(v, path); ok {
				if d <= 0 {
					p.fail(v, path, ErrInvalid, "tick_interval must be positive")
					return
				}
				r.TickInterval = d
			}
		}},
		{"max_ticks", func(v *yaml.Node, path string) {
			if i, ok := p.int(v, path); ok {
				if i == 0 {
					p.fail(v, path, ErrInvalid, "max_ticks must be positive")
					return
				}
				r.MaxTicks = i
			}
		}},
		{"webhooks", func(v *yaml.Node, path string) {
			s, ok := p.str(v, path)
			if !ok {
				return
			}
			if s != "pass" && s != "fail" {
				p.fail(v, path, ErrInvalid, "webhooks is pass (every gate open, no rollback signalled) or fail, got %q", s)
				return
			}
			r.Webhooks = s
		}},
		{"exp_result", func(v *yaml.Node, path string) {
			s, ok := p.str(v, path)
			if !ok {
				return
			}
			for _, ph := range phases {
				if string(ph) == strings.TrimSpace(s) {
					r.ExpResult = ph
					return
				}
			}
			p.fail(v, path, ErrInvalid, "unknown phase %q (want Succeeded, Failed or another Flagger phase: %v)", s, phases)
		}},
		{"exp_ticks", func(v *yaml.Node, path string) {
			if i, ok := p.int(v, path); ok {
				if i == 0 {
					p.fail(v, path, ErrInvalid, "exp_ticks must be positive (a replay runs at least one tick)")
					return
				}
				r.ExpTicks = i
			}
		}},
		{"exp_weights", func(v *yaml.Node, path string) {
			r.ExpWeights = []int{}
			p.sequence(v, path, func(_ int, v *yaml.Node, path string) {
				if w, ok := p.int(v, path); ok {
					if w > 100 {
						p.fail(v, path, ErrInvalid, "a weight is a percentage within 0..100, got %d", w)
						return
					}
					r.ExpWeights = append(r.ExpWeights, w)
				}
			})
		}},
	})
	if !ok || len(p.errs) > before {
		return
	}
	if r.assertions() == 0 {
		p.fail(n, path, ErrMissing, "asserts nothing: give exp_result, exp_ticks or exp_weights")
		return
	}
	if r.ExpTicks > 0 && r.ExpWeights != nil && len(r.ExpWeights) != r.ExpTicks {
		p.fail(n, path, ErrInvalid, "exp_weights lists %d weights but exp_ticks is %d (one weight per tick)", len(r.ExpWeights), r.ExpTicks)
		return
	}
	c.ReplayTests = append(c.ReplayTests, r)
}

func ptr[T any](v T) *T { return &v }

// expansion is an upper bound of the number of values a notation string
// expands to: every `x<digits>` counts digits+1 values, every other byte
// one; it saturates instead of overflowing.
func expansion(values string) uint64 {
	const limit = math.MaxUint64 / 4
	n := uint64(len(values))
	for i := 0; i < len(values); i++ {
		if values[i] != 'x' {
			continue
		}
		var rep uint64
		j := i + 1
		for ; j < len(values) && values[j] >= '0' && values[j] <= '9'; j++ {
			if rep >= limit/10 {
				rep = limit
				continue
			}
			rep = rep*10 + uint64(values[j]-'0')
		}
		n = min(n+rep+1, limit)
		i = j - 1
	}
	return n
}

// formatDuration renders d in Prometheus's duration syntax (1m30s, 500ms).
func formatDuration(d time.Duration) string {
	if d < 0 {
		return "-" + formatDuration(-d)
	}
	if d%time.Millisecond != 0 {
		return d.String()
	}
	return model.Duration(d).String()
}

package testfile

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"math"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/engine"
	"github.com/augurproj/augur/manifest"
	"github.com/augurproj/augur/metrics"
	"github.com/augurproj/augur/metrics/recorded"
	"github.com/augurproj/augur/service"
	"github.com/augurproj/augur/templates"
)

// RunOptions configure Run and RunFiles.
type RunOptions struct {
	// Run selects the cases whose name it matches; nil runs every case.
	Run *regexp.Regexp
	// Logger receives the engine's and the embedded PromQL engine's debug
	// output (default: discard).
	Logger *slog.Logger
	// Argo measures Argo AnalysisTemplates (analysis_tests); nil makes
	// every case with analysis_tests an error.
	Argo ArgoMeasurer
}

// Result is a case's outcome.
type Result string

// Case outcomes. An error is never a pass.
const (
	// ResultPass: every assertion held.
	ResultPass Result = "pass"
	// ResultFail: at least one assertion did not hold.
	ResultFail Result = "fail"
	// ResultError: the case could not be run as written (a metric the
	// Canary lacks, a missing MetricTemplate or template variable, an
	// unreadable input file).
	ResultError Result = "error"
)

// Report is the outcome of running test files.
type Report struct {
	// Files are the test files in the order given.
	Files []FileReport
}

// FileReport is the outcome of one test file.
type FileReport struct {
	// Path is the test file as given.
	Path string
	// Err is a problem with the whole file (it could not be parsed or
	// loaded); no case ran.
	Err error
	// Cases are the cases that ran (those --run selected), in file order.
	Cases []CaseReport
}

// CaseReport is the outcome of one case.
type CaseReport struct {
	// Name identifies the case.
	Name string
	// Line is where the case starts in the test file.
	Line int
	// Result is pass, fail or error.
	Result Result
	// Assertions counts the case's expectations.
	Assertions int
	// Failures are the expectations that did not hold, in file order.
	Failures []Failure
	// Err holds the case's problems when Result is error (*Error values).
	Err error
	// Elapsed is how long the case took.
	Elapsed time.Duration
}

// Failure is one expectation that did not hold.
type Failure struct {
	// Line is the test-file line of the metric_tests or replay_tests entry.
	Line int
	// Metric is the metric asserted on; empty for a replay.
	Metric string
	// What says what was compared: "rendered query", "value at …",
	// "check at …", "replay from …".
	What string
	// Query is the rendered query, when there is one.
	Query string
	// Want and Got are the expected and actual values, one pair per line.
	Want, Got []string
	// DiffAt is the character index of the first difference between the
	// one-line Want and Got of a rendered query; -1 when not applicable.
	DiffAt int
	// Details are extra lines (a check's reason, a replay's ticks).
	Details []string
}

// Counts returns how many cases passed, failed and could not run (a file
// that could not be loaded counts as one error).
func (r *Report) Counts() (passed, failed, errored int) {
	for _, f := range r.Files {
		if f.Err != nil {
			errored++
		}
		for _, c := range f.Cases {
			switch c.Result {
			case ResultPass:
				passed++
			case ResultFail:
				failed++
			default:
				errored++
			}
		}
	}
	return passed, failed, errored
}

// RunFiles parses, loads and runs every test file; recorded data named by
// several files or cases is read once.
func RunFiles(ctx context.Context, paths []string, opts RunOptions) Report {
	cache := map[string]*recorded.Store{}
	var rep Report
	for _, p := range paths {
		f, err := parseFile(p, cache)
		if err != nil {
			rep.Files = append(rep.Files, FileReport{Path: p, Err: err})
			continue
		}
		rep.Files = append(rep.Files, Run(ctx, f, opts))
	}
	return rep
}

// Run runs the selected cases of a parsed file, loading it first if needed.
func Run(ctx context.Context, f *File, opts RunOptions) FileReport {
	rep := FileReport{Path: f.Path}
	if err := f.load(map[string]*recorded.Store{}); err != nil {
		rep.Err = err
		return rep
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	r := &runner{file: f, logger: logger, argo: opts.Argo, providers: map[*recorded.Store]*recorded.Provider{}}
	for i, c := range f.Cases {
		if opts.Run != nil && !opts.Run.MatchString(c.Name) {
			continue
		}
		start := time.Now()
		cr := r.runCase(ctx, i, c)
		cr.Elapsed = time.Since(start)
		rep.Cases = append(rep.Cases, cr)
	}
	return rep
}

// runner runs the cases of one file.
type runner struct {
	file      *File
	logger    *slog.Logger
	argo      ArgoMeasurer
	providers map[*recorded.Store]*recorded.Provider
}

// caseRun is the state of one case.
type caseRun struct {
	*runner
	idx    int
	c      *Case
	canary analysis.Canary
	plans  []engine.MetricPlan
	rep    *CaseReport
	errs   []error
	bounds *service.DataBounds // of the case's data, once asked for
}

func (r *runner) runCase(ctx context.Context, idx int, c *Case) CaseReport {
	rep := CaseReport{Name: c.Name, Line: c.Line, Assertions: c.Assertions()}
	cr := &caseRun{runner: r, idx: idx, c: c, canary: c.apply(r.file.canary), rep: &rep}
	cr.run(ctx)
	switch {
	case len(cr.errs) > 0:
		rep.Result, rep.Err = ResultError, errors.Join(cr.errs...)
	case len(rep.Failures) > 0:
		rep.Result = ResultFail
	default:
		rep.Result = ResultPass
	}
	return rep
}

func (cr *caseRun) run(ctx context.Context) {
	if err := ctx.Err(); err != nil {
		cr.fail(cr.c.Line, fmt.Sprintf("tests[%d]", cr.idx), ErrInput, "not run: %v", err)
		return
	}
	if len(cr.c.MetricTests)+len(cr.c.ReplayTests) > 0 {
		cr.canaryTests(ctx)
	}
	cr.analysisTests(ctx)
}

// canaryTests runs the case's metric_tests and replay_tests.
func (cr *caseRun) canaryTests(ctx context.Context) {
	eng, err := cr.engine(engine.StaticHooks{Pass: true})
	if err != nil {
		cr.fail(cr.c.Line, fmt.Sprintf("tests[%d]", cr.idx), ErrInvalid, "%v", err)
		return
	}
	plans, err := eng.PlanWith(ctx, &cr.canary, nil)
	if err != nil {
		cr.fail(cr.c.Line, fmt.Sprintf("tests[%d]", cr.idx), ErrInput, "planning metrics: %v", err)
		return
	}
	cr.plans = plans
	for j := range cr.c.MetricTests {
		cr.metricTest(ctx, eng, j, &cr.c.MetricTests[j])
	}
	for j := range cr.c.ReplayTests {
		cr.replayTest(ctx, j, &cr.c.ReplayTests[j])
	}
}

// fail records a problem that keeps the case from running as written.
func (cr *caseRun) fail(line int, path string, kind error, format string, args ...any) {
	cr.errs = append(cr.errs, &Error{File: cr.file.Path, Line: line, Case: cr.c.Name, Path: path, Msg: fmt.Sprintf(format, args...), Err: kind})
}

// engine builds an engine whose prometheus providers all read the case's data.
func (cr *caseRun) engine(hooks engine.HookCaller) (*engine.Engine, error) {
	reg := &metrics.Registry{}
	if st := cr.c.store; st != nil {
		p, ok := cr.providers[st]
		if !ok {
			p = recorded.New(st, recorded.Options{Logger: cr.logger})
			cr.providers[st] = p
		}
		reg.Register(engine.PrometheusType, func(metrics.Config) (metrics.Provider, error) { return p, nil })
	}
	if cr.c.answers != nil {
		cr.c.answers.Register(reg)
	}
	var tpls engine.StaticTemplates
	if cr.file.set != nil {
		tpls = cr.file.set.Templates
	}
	o := engine.Options{
		Registry: reg, Hooks: hooks, Templates: tpls, MeshProvider: cr.file.MeshProvider, Logger: cr.logger,
	}
	if cr.file.set != nil && len(cr.file.set.Secrets) > 0 {
		// A vendor template's secretRef resolves against the manifests'
		// Secrets; its recorded answers need no credential, but the
		// template is planned as it would be live.
		o.Secrets = fileSecrets{cr.file.set}
	}
	return engine.New(o)
}

// fileSecrets is the engine's Secret source over the manifests' Secrets.
type fileSecrets struct{ set *manifest.Set }

func (s fileSecrets) Secret(_ context.Context, namespace, name string) (map[string]string, error) {
	return s.set.LookupSecret(namespace, name)
}

// apply returns the Canary with the case's variables applied; the base is
// not modified.
func (c *Case) apply(base analysis.Canary) analysis.Canary {
	cn := base
	v := c.Variables
	if v.Namespace != "" {
		cn.Metadata.Namespace = v.Namespace
	}
	if v.Target != "" {
		cn.Spec.TargetRef.Name = v.Target
	}
	src := cn.GetAnalysis()
	if src == nil || (v.Interval == "" && len(v.TemplateVariables) == 0) {
		return cn
	}
	a := *src
	a.Metrics = slices.Clone(src.Metrics)
	for i := range a.Metrics {
		m := &a.Metrics[i]
		if v.Interval != "" {
			m.Interval = v.Interval
		}
		if len(v.TemplateVariables) > 0 {
			vars := maps.Clone(m.TemplateVariables)
			if vars == nil {
				vars = make(map[string]string, len(v.TemplateVariables))
			}
			maps.Copy(vars, v.TemplateVariables)
			m.TemplateVariables = vars
		}
	}
	if cn.Spec.Analysis != nil {
		cn.Spec.Analysis = &a
	} else {
		cn.Spec.CanaryAnalysis = &a
	}
	return cn
}

// plan returns the first plan of a metric, or records why there is none.
func (cr *caseRun) plan(line int, path, metric string) *engine.MetricPlan {
	for i := range cr.plans {
		if cr.plans[i].Name == metric {
			return &cr.plans[i]
		}
	}
	names := make([]string, 0, len(cr.plans))
	for _, p := range cr.plans {
		if !slices.Contains(names, p.Name) {
			names = append(names, p.Name)
		}
	}
	have := "it has none"
	if len(names) > 0 {
		have = "it has " + strings.Join(names, ", ")
	}
	cr.fail(line, path+".metric", ErrMissing, "Canary %s/%s has no metric %q in its analysis (%s)",
		cr.canary.Metadata.Namespace, cr.canary.Metadata.Name, metric, have)
	return nil
}

// usable reports whether the plan can be rendered and evaluated over the
// case's data, recording why not. A provider other than prometheus is
// accepted when the entry expects the provider error it leads to.
func (cr *caseRun) usable(line int, path string, p *engine.MetricPlan, expErr analysis.ErrorKind, evaluates bool) bool {
	recordedAnswers := cr.c.answers != nil && slices.Contains(cr.c.answers.Types(), p.Provider.Type)
	if evaluates && p.Provider.Type != "" && p.Provider.Type != engine.PrometheusType && expErr != analysis.ErrKindProvider && !recordedAnswers {
		cr.fail(line, path, ErrInvalid, "metric %q uses provider type %q; augur test evaluates prometheus queries over the case's data, and other providers' over its answers_file (augur record --answers-out) only", p.Name, p.Provider.Type)
		return false
	}
	if p.Err != nil && !(evaluates && p.Err.Kind == analysis.ErrKindProvider && expErr == analysis.ErrKindProvider) {
		cr.fail(line, path, ErrMissing, "metric %q cannot be %s: %s%s", p.Name, verb(evaluates), p.Err.Message, hint(p))
		return false
	}
	return true
}

func verb(evaluates bool) string {
	if evaluates {
		return "evaluated"
	}
	return "rendered"
}

// hint says how to fix the usual plan errors in a test file.
func hint(p *engine.MetricPlan) string {
	switch p.Err.Kind {
	case analysis.ErrKindRender:
		if strings.Contains(p.Err.Message, "map has no entry for key") {
			return " (set the variable in the case's variables.template_variables or the metric's templateVariables)"
		}
	case analysis.ErrKindTemplate:
		return " (add the MetricTemplate to manifests)"
	}
	return ""
}

func (cr *caseRun) metricTest(ctx context.Context, eng *engine.Engine, j int, m *MetricTest) {
	path := fmt.Sprintf("tests[%d].metric_tests[%d]", cr.idx, j)
	p := cr.plan(m.Line, path, m.Metric)
	if p == nil {
		return
	}
	expected := p.Err != nil && m.ExpError == p.Err.Kind
	switch {
	case expected && m.ExpQuery != nil:
		cr.fail(m.Line, path+".exp_query", ErrInvalid, "metric %q has no rendered query to compare (it fails with %s)", p.Name, p.Err.Kind)
		return
	case !expected && !cr.usable(m.Line, path, p, m.ExpError, m.evaluates()):
		return
	}
	if m.ExpQuery != nil {
		want, got := normalizeQuery(*m.ExpQuery), normalizeQuery(p.Query)
		if want != got {
			fl := Failure{
				Line: m.Line, Metric: m.Metric, What: "rendered query",
				Want: []string{want}, Got: []string{got}, DiffAt: firstDiff(want, got),
			}
			if stripSpace(want) == stripSpace(got) {
				fl.Details = []string{"the queries differ only in spaces: runs of whitespace count as one space, but a space is not nothing (\"sum( rate(\" is not \"sum(rate(\")"}
			}
			cr.rep.Failures = append(cr.rep.Failures, fl)
		}
	}
	if !m.evaluates() {
		return
	}
	at := m.EvalTime.Time(cr.c.Start)
	if m.hasEval && cr.c.InputFile != "" && cr.c.store != nil && cr.c.store.SampleCount() > 0 {
		// Recorded data holds nothing outside its samples: a value read
		// there would be a verdict on missing data. (input_series keep
		// promtool's freedom: a series may be written to end on purpose.)
		if err := cr.dataBounds().CheckAt("eval_time", at); err != nil {
			cr.fail(m.Line, path+".eval_time", ErrInvalid, "%v", err)
			return
		}
	}
	var obs analysis.Observation
	if p.Err != nil {
		obs = analysis.Observation{Metric: p.Name, Kind: p.Kind, Err: p.Err}
	} else {
		obs = eng.Evaluate(ctx, []engine.MetricPlan{*p}, at)[0]
	}
	when := cr.when(m.EvalTime, at)
	fl := Failure{Line: m.Line, Metric: m.Metric, Query: p.Query, DiffAt: -1}
	failed := len(cr.rep.Failures)
	defer func() {
		// Show the query once per entry.
		for i := failed + 1; i < len(cr.rep.Failures); i++ {
			cr.rep.Failures[i].Query = ""
		}
	}()
	got := describeObservation(obs)
	switch {
	case m.ExpError != "":
		if obs.Err == nil || obs.Err.Kind != m.ExpError {
			fl.What = "value at " + when
			fl.Want, fl.Got = []string{"error " + string(m.ExpError)}, []string{got}
			cr.rep.Failures = append(cr.rep.Failures, fl)
		}
	case m.ExpValue != nil:
		if obs.Err != nil || !approxEqual(*m.ExpValue, obs.Value, m.Tolerance) {
			fl.What = "value at " + when
			want := formatNumber(*m.ExpValue)
			if m.Tolerance > 0 {
				want += " ± " + formatNumber(m.Tolerance)
			}
			fl.Want, fl.Got = []string{want}, []string{got}
			cr.rep.Failures = append(cr.rep.Failures, fl)
		}
	}
	if m.ExpCheck != nil {
		ch := analysis.CheckObservation(obs)
		if ch.Passed != *m.ExpCheck {
			fl.What = "check at " + when
			fl.Want, fl.Got = []string{passFail(*m.ExpCheck)}, []string{passFail(ch.Passed)}
			fl.Details = []string{ch.Reason}
			cr.rep.Failures = append(cr.rep.Failures, fl)
		}
	}
}

// when renders an evaluation time for people: the offset as written and
// the absolute time.
func (cr *caseRun) when(m Moment, at time.Time) string {
	abs := at.UTC().Format(time.RFC3339Nano)
	if !m.At.IsZero() {
		return abs
	}
	return formatDuration(m.Offset) + " (" + abs + ")"
}

func describeObservation(o analysis.Observation) string {
	if o.Err != nil {
		return "error " + string(o.Err.Kind) + ": " + o.Err.Message
	}
	return formatNumber(o.Value)
}

func passFail(b bool) string {
	if b {
		return "pass"
	}
	return "fail"
}

func approxEqual(want, got, tol float64) bool {
	if math.IsInf(want, 0) || math.IsInf(got, 0) {
		return want == got
	}
	return math.Abs(want-got) <= tol
}

// formatNumber prints a value the way Prometheus's API does.
func formatNumber(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// normalizeQuery collapses whitespace as Flagger does and trims the ends.
func normalizeQuery(q string) string {
	return strings.TrimSpace(templates.Collapse(q))
}

// stripSpace removes every whitespace byte Collapse would fold.
func stripSpace(q string) string {
	return strings.Map(func(r rune) rune {
		switch r {
		case ' ', '\t', '\n', '\f', '\r':
			return -1
		}
		return r
	}, q)
}

// firstDiff returns the rune index of the first difference of a and b.
func firstDiff(a, b string) int {
	ra, rb := []rune(a), []rune(b)
	for i := range min(len(ra), len(rb)) {
		if ra[i] != rb[i] {
			return i
		}
	}
	return min(len(ra), len(rb))
}

// maxTickLines bounds the ticks a failed replay lists.
const maxTickLines = 40

func (cr *caseRun) replayTest(ctx context.Context, j int, r *ReplayTest) {
	path := fmt.Sprintf("tests[%d].replay_tests[%d]", cr.idx, j)
	ok := true
	for i := range cr.plans {
		ok = cr.usable(r.Line, path, &cr.plans[i], "", true) && ok
	}
	if !ok {
		return
	}
	eng, err := cr.engine(engine.StaticHooks{Pass: r.Webhooks != "fail"})
	if err != nil {
		cr.fail(r.Line, path, ErrInvalid, "%v", err)
		return
	}
	start := firstWindow(cr.c.Start, cr.plans)
	if r.Start != nil {
		start = r.Start.Time(cr.c.Start)
	}
	interval := r.TickInterval
	if interval <= 0 {
		interval = cr.canary.GetAnalysis().IntervalDuration()
	}
	req := engine.ReplayRequest{Canary: cr.canary, Start: start, Interval: interval, MaxTicks: r.MaxTicks}
	if cr.c.InputFile != "" && cr.c.store != nil && cr.c.store.SampleCount() > 0 {
		// Recorded data: the first tick lies inside it, with every judge
		// window, and the replay stops where it ends (its own result,
		// never a rollback for want of data), as `augur replay --data`.
		b := cr.dataBounds()
		err := b.CheckAt("start", start)
		if err == nil {
			err = b.CheckJudgeWindows(cr.plans, "start", start)
		}
		if err != nil {
			cr.fail(r.Line, path+".start", ErrInvalid, "%v", err)
			return
		}
		req.DataEnd = b.CoveredUntil()
	}
	res, err := eng.Replay(ctx, req)
	if err != nil {
		cr.fail(r.Line, path, ErrInput, "replay: %v", err)
		return
	}
	fl := Failure{Line: r.Line, What: fmt.Sprintf("replay from %s, one tick every %s", start.UTC().Format(time.RFC3339Nano), formatDuration(interval)), DiffAt: -1}
	weights := make([]int, len(res.Ticks))
	for i, t := range res.Ticks {
		weights[i] = t.Decision.Status.CanaryWeight
	}
	if r.ExpResult != "" && res.Result != r.ExpResult {
		fl.Want = append(fl.Want, "result "+string(r.ExpResult))
		fl.Got = append(fl.Got, "result "+string(res.Result))
	}
	if r.ExpTicks > 0 && len(res.Ticks) != r.ExpTicks {
		fl.Want = append(fl.Want, "ticks "+strconv.Itoa(r.ExpTicks))
		fl.Got = append(fl.Got, "ticks "+strconv.Itoa(len(res.Ticks)))
	}
	if r.ExpWeights != nil && !slices.Equal(weights, r.ExpWeights) {
		fl.Want = append(fl.Want, "weights "+fmt.Sprint(r.ExpWeights))
		fl.Got = append(fl.Got, "weights "+fmt.Sprint(weights))
	}
	if len(fl.Want) == 0 {
		return
	}
	if res.DataEnded {
		fl.Details = append(fl.Details, fmt.Sprintf("the data ends at %s before the analysis finished (still %s after %d ticks)",
			cr.dataBounds().Last.UTC().Format(time.RFC3339Nano), res.Result, len(res.Ticks)))
	}
	for i, t := range res.Ticks {
		if i == maxTickLines {
			fl.Details = append(fl.Details, fmt.Sprintf("… %d more ticks", len(res.Ticks)-i))
			break
		}
		fl.Details = append(fl.Details, tickLine(i+1, t)...)
	}
	cr.rep.Failures = append(cr.rep.Failures, fl)
}

// tickLine summarises one replay tick, with the checks that failed.
func tickLine(n int, t engine.ReplayTick) []string {
	d := t.Decision
	out := []string{fmt.Sprintf("#%d %s %s: %s weight %d, failed checks %d", n, t.Time.UTC().Format(time.RFC3339Nano),
		d.Action, d.Status.Phase, d.Status.CanaryWeight, d.Status.FailedChecks)}
	for _, c := range d.Checks {
		if !c.Passed {
			out = append(out, "    "+c.Reason)
		}
	}
	return out
}

// firstWindow is `augur replay`'s default start over recorded data: the
// data's start plus the longest metric interval, so every rate() has a full
// window.
func firstWindow(start time.Time, plans []engine.MetricPlan) time.Time {
	longest := time.Minute
	for _, p := range plans {
		if d, err := time.ParseDuration(p.Interval); err == nil && d > longest {
			longest = d
		}
	}
	return start.Add(longest)
}

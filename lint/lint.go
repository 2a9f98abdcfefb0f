package lint

import (
	"errors"
	"fmt"
	"math"
	"slices"
	"strconv"
	"strings"
	"time"
)

// Severity of a finding.
type Severity int

// Severities, lowest first.
const (
	Info Severity = iota
	Warning
	Error
)

func (s Severity) String() string {
	switch s {
	case Error:
		return "error"
	case Warning:
		return "warning"
	default:
		return "info"
	}
}

// MarshalText writes the severity's name.
func (s Severity) MarshalText() ([]byte, error) { return []byte(s.String()), nil }

// UnmarshalText reads a severity's name.
func (s *Severity) UnmarshalText(b []byte) error {
	v, err := ParseSeverity(string(b))
	if err != nil {
		return err
	}
	*s = v
	return nil
}

// ParseSeverity reads "error", "warning" or "info".
func ParseSeverity(s string) (Severity, error) {
	switch s {
	case "error":
		return Error, nil
	case "warning":
		return Warning, nil
	case "info":
		return Info, nil
	}
	return Info, fmt.Errorf("severity %q: want error, warning or info", s)
}

// Finding is one problem a rule found.
type Finding struct {
	// Rule is the stable rule id (Rules).
	Rule string `json:"rule"`
	// Severity is the rule's severity after Options.Lower.
	Severity Severity `json:"severity"`
	// Object names the object: "Deployment test/podinfo".
	Object string `json:"object"`
	// Path is the field path inside the object.
	Path string `json:"path"`
	// File is the object's source: a file path, or "cluster".
	File string `json:"file"`
	// Line and Column locate the field (or its closest ancestor present); 0 when unknown.
	Line   int `json:"line,omitempty"`
	Column int `json:"column,omitempty"`
	// Message says what goes wrong at rollout time, in one sentence.
	Message string `json:"message"`
	// Fix is a YAML snippet that fixes it.
	Fix string `json:"fix"`
	// related are the objects the finding concerns besides Object (the
	// workload a PDB or HPA is for; the Canary's target), for Focus.
	related []string
}

// Location formats "file:line:column" (or the parts known).
func (f Finding) Location() string {
	s := f.File
	if f.Line > 0 {
		s += ":" + strconv.Itoa(f.Line)
		if f.Column > 0 {
			s += ":" + strconv.Itoa(f.Column)
		}
	}
	return s
}

// Defaults of Options.
const (
	DefaultPropagation        = 5 * time.Second
	DefaultShutdown           = 10 * time.Second
	DefaultScrapeInterval     = 15 * time.Second
	DefaultMaxTimeToRollback  = 30 * time.Minute
	DefaultMaxTimeToPromotion = 2 * time.Hour
)

// IgnoreAnnotation disables rules on one object: a comma-separated list of
// rule ids, or "all".
const IgnoreAnnotation = "augur.dev/lint-ignore"

// Options configure Run. Zero values take the defaults.
type Options struct {
	// Propagation is the time endpoint removal takes to reach every load
	// balancer and sidecar: the shortest preStop pause (default 5 s).
	Propagation time.Duration
	// Shutdown is the time the application needs after SIGTERM (default 10 s).
	Shutdown time.Duration
	// ScrapeInterval is Prometheus's scrape interval (default 15 s); a rate
	// needs a window of at least two scrapes.
	ScrapeInterval time.Duration
	// MaxTimeToRollback and MaxTimeToPromotion are the limits above which
	// an analysis's timing is flagged.
	MaxTimeToRollback, MaxTimeToPromotion time.Duration
	// Disable lists rule ids no object is checked for.
	Disable []string
	// Lower lists rule ids (or "all") whose errors are reported as warnings.
	Lower []string
	// Cluster holds what only the cluster knows; nil when linting files.
	Cluster *Facts
}

// Facts are what cluster mode knows besides the objects.
type Facts struct {
	// APIGroups are the API groups the server serves (networking.istio.io, linkerd.io, …).
	APIGroups []string
}

func (o Options) withDefaults() Options {
	if o.Propagation <= 0 {
		o.Propagation = DefaultPropagation
	}
	if o.Shutdown <= 0 {
		o.Shutdown = DefaultShutdown
	}
	if o.ScrapeInterval <= 0 {
		o.ScrapeInterval = DefaultScrapeInterval
	}
	if o.MaxTimeToRollback <= 0 {
		o.MaxTimeToRollback = DefaultMaxTimeToRollback
	}
	if o.MaxTimeToPromotion <= 0 {
		o.MaxTimeToPromotion = DefaultMaxTimeToPromotion
	}
	return o
}

// Check validates the rule ids Options name.
func (o Options) Check() error {
	var errs []error
	for _, id := range slices.Concat(o.Disable, o.Lower) {
		if id != "all" && RuleByID(id) == nil {
			errs = append(errs, fmt.Errorf("unknown rule %q (augur lint --list-rules lists them)", id))
		}
	}
	return errors.Join(errs...)
}

// Run checks objs and returns the findings, sorted by file, line, rule.
// A field a rule reads that has the wrong type (replicas: "two") is an
// *InputError: no finding is reported from a value that was misread.
func Run(objs []*Object, opts Options) ([]Finding, error) {
	opts = opts.withDefaults()
	if err := opts.Check(); err != nil {
		return nil, err
	}
	c := &checker{opts: opts, objs: objs}
	c.index()
	for _, w := range c.workloads {
		c.workload(w)
	}
	for _, o := range objs {
		switch {
		case o.Kind == "PodDisruptionBudget":
			c.pdb(o)
		case o.Kind == "Canary" && isFlagger(o):
			c.canary(o)
		case (o.Kind == "AnalysisTemplate" || o.Kind == "ClusterAnalysisTemplate") && isArgo(o):
			c.analysisTemplate(o)
		case o.Kind == "Rollout" && isArgo(o):
			c.rolloutChecks(o)
		}
	}
	if len(c.errs) > 0 {
		return nil, errors.Join(c.errs...)
	}
	out := c.filter()
	slices.SortStableFunc(out, func(a, b Finding) int {
		if a.File != b.File {
			return strings.Compare(a.File, b.File)
		}
		if a.Line != b.Line {
			return a.Line - b.Line
		}
		if a.Column != b.Column {
			return a.Column - b.Column
		}
		return strings.Compare(a.Rule, b.Rule)
	})
	return out, nil
}

// Focus keeps the findings about the named objects ("Canary test/podinfo")
// and the objects they concern (a Canary's target workload, its templates,
// the workload's HPA and PDB).
func Focus(fs []Finding, objects ...string) []Finding {
	var out []Finding
	for _, f := range fs {
		if slices.Contains(objects, f.Object) || slices.ContainsFunc(f.related, func(r string) bool { return slices.Contains(objects, r) }) {
			out = append(out, f)
		}
	}
	return out
}

// Errors counts the findings of severity Error.
func Errors(fs []Finding) int {
	n := 0
	for _, f := range fs {
		if f.Severity == Error {
			n++
		}
	}
	return n
}

func isFlagger(o *Object) bool { return strings.HasPrefix(o.APIVersion, "flagger.app/") }
func isArgo(o *Object) bool    { return strings.HasPrefix(o.APIVersion, "argoproj.io/") }

// checker holds one run's state.
type checker struct {
	opts      Options
	objs      []*Object
	workloads []*workload
	findings  []Finding
	errs      []error
}

// report records a finding of rule on o at path.
func (c *checker) report(rule string, o *Object, path, msg, fix string, related ...string) {
	r := RuleByID(rule)
	if r == nil {
		panic("lint: unknown rule " + rule)
	}
	p := o.At(path)
	c.findings = append(c.findings, Finding{
		Rule: rule, Severity: r.Severity, Object: o.Key(), Path: path, File: o.Source,
		Line: p.Line, Column: p.Column, Message: msg, Fix: strings.TrimRight(fix, "\n") + "\n", related: related,
	})
}

// filter applies Disable, the ignore annotations and Lower.
func (c *checker) filter() []Finding {
	ignored := map[string][]string{}
	for _, o := range c.objs {
		if v := str(annotations(o.Body)[IgnoreAnnotation]); v != "" {
			for _, id := range strings.Split(v, ",") {
				ignored[o.Key()] = append(ignored[o.Key()], strings.TrimSpace(id))
			}
		}
	}
	skip := func(f Finding) bool {
		if slices.Contains(c.opts.Disable, f.Rule) {
			return true
		}
		for _, obj := range append([]string{f.Object}, f.related...) {
			ids := ignored[obj]
			if slices.Contains(ids, f.Rule) || slices.Contains(ids, "all") {
				return true
			}
		}
		return false
	}
	lowerAll := slices.Contains(c.opts.Lower, "all")
	var out []Finding
	for _, f := range c.findings {
		if skip(f) {
			continue
		}
		if f.Severity == Error && (lowerAll || slices.Contains(c.opts.Lower, f.Rule)) {
			f.Severity = Warning
		}
		out = append(out, f)
	}
	return out
}

// bad records a field of the wrong type.
func (c *checker) bad(o *Object, path, want string) {
	c.errs = append(c.errs, &InputError{Source: o.Source, Pos: o.At(path), Object: o.Key(), Path: path, Msg: "want " + want})
}

// get walks a dotted path of map keys (no indices) from v.
func get(v any, keys ...string) any {
	for _, k := range keys {
		m, ok := v.(map[string]any)
		if !ok {
			return nil
		}
		v = m[k]
	}
	return v
}

func annotations(body map[string]any) map[string]any {
	m, _ := get(body, "metadata", "annotations").(map[string]any)
	return m
}

// mapAt returns the mapping at path (nil if absent); another type is bad input.
func (c *checker) mapAt(o *Object, v any, path string) map[string]any {
	if v == nil {
		return nil
	}
	m, ok := v.(map[string]any)
	if !ok {
		c.bad(o, path, "an object")
	}
	return m
}

// listAt returns the list at path (nil if absent); another type is bad input.
func (c *checker) listAt(o *Object, v any, path string) []any {
	if v == nil {
		return nil
	}
	l, ok := v.([]any)
	if !ok {
		c.bad(o, path, "a list")
	}
	return l
}

// intAt returns the integer at path; ok false if absent or bad.
func (c *checker) intAt(o *Object, v any, path string) (int64, bool) {
	switch x := v.(type) {
	case nil:
		return 0, false
	case int64:
		return x, true
	}
	c.bad(o, path, "an integer")
	return 0, false
}

// numAt returns the number at path; ok false if absent or bad.
func (c *checker) numAt(o *Object, v any, path string) (float64, bool) {
	switch x := v.(type) {
	case nil:
		return 0, false
	case int64:
		return float64(x), true
	case float64:
		return x, true
	}
	c.bad(o, path, "a number")
	return 0, false
}

// strAt returns the string at path; "" if absent or bad.
func (c *checker) strAt(o *Object, v any, path string) string {
	switch x := v.(type) {
	case nil:
		return ""
	case string:
		return x
	}
	c.bad(o, path, "a string")
	return ""
}

// durationAt reads a Go/Flagger duration string ("1m", "30s"); ok false if absent or bad.
func (c *checker) durationAt(o *Object, v any, path string) (time.Duration, bool) {
	s := c.strAt(o, v, path)
	if s == "" {
		return 0, false
	}
	d, err := time.ParseDuration(s)
	if err != nil || d < 0 {
		c.bad(o, path, "a duration such as 30s or 1m")
		return 0, false
	}
	return d, true
}

// intOrPercent resolves an IntOrString against total: percentages round
// up when roundUp (maxSurge) and down otherwise (maxUnavailable), as the
// Deployment controller does.
func (c *checker) intOrPercent(o *Object, v any, path string, total int64, roundUp bool) (int64, bool) {
	switch x := v.(type) {
	case nil:
		return 0, false
	case int64:
		return x, true
	case string:
		if p, ok := strings.CutSuffix(x, "%"); ok {
			n, err := strconv.ParseFloat(p, 64)
			if err == nil && n >= 0 {
				f := n * float64(total) / 100
				if roundUp {
					return int64(math.Ceil(f)), true
				}
				return int64(math.Floor(f)), true
			}
		}
		if n, err := strconv.ParseInt(x, 10, 64); err == nil {
			return n, true
		}
	}
	c.bad(o, path, "an integer or a percentage such as 25%")
	return 0, false
}

// seconds formats a duration for messages: "45s", "2m30s", "2m", "1h".
func seconds(d time.Duration) string {
	s := d.Round(time.Second).String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

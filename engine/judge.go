package engine

import (
	"errors"
	"fmt"
	"maps"
	"slices"
	"sort"
	"strings"
	"time"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/analysis/judges"
)

// Judge keys beyond judges.ConfigKeys: where a judged metric's data comes
// from. Every key is flat and every value a string, so the same keys work
// in annotations, request bodies, CLI flags, Argo plugin configurations
// and Flagger webhook metadata.
const (
	// KeyWindow is the judging window of the fixed-window judges (a Go
	// duration); default the analysis interval. The sequential judge always
	// reads the data since the analysis started.
	KeyWindow = "window"
	// KeyStep is the range-query step (a Go duration): one sample per step,
	// and the {{ interval }} of the count and bucket queries; default the
	// metric's interval, or 1m.
	KeyStep = "step"
	// KeyBaselineQuery is the baseline's samples query; default the
	// metric's own query rendered with {{ target }} = <target>-primary.
	KeyBaselineQuery = "baselineQuery"
	// KeyRequestsQuery and KeyErrorsQuery give each side's request and
	// error counts per step (e.g. sum(increase(x[{{ interval }}]))).
	KeyRequestsQuery = "requestsQuery"
	KeyErrorsQuery   = "errorsQuery"
	// KeyBaselineRequestsQuery and KeyBaselineErrorsQuery are the
	// baseline's count queries; default the canary's rendered with
	// {{ target }} = <target>-primary.
	KeyBaselineRequestsQuery = "baselineRequestsQuery"
	KeyBaselineErrorsQuery   = "baselineErrorsQuery"
	// KeyBucketsQuery gives each side's histogram bucket counts per step,
	// one series per le (e.g. sum by (le) (increase(x_bucket[{{ interval }}]))).
	KeyBucketsQuery = "bucketsQuery"
	// KeyBaselineBucketsQuery is the baseline's bucket query.
	KeyBaselineBucketsQuery = "baselineBucketsQuery"
	// KeySumQuery optionally gives the histogram's _sum per step (exact means).
	KeySumQuery = "sumQuery"
	// KeyBaselineSumQuery is the baseline's sum query.
	KeyBaselineSumQuery = "baselineSumQuery"
)

// JudgeThreshold is the judge value that turns judging off for a metric:
// Flagger's threshold check only. It overrides a judge set elsewhere (an
// annotation), and the metric's other judge keys are then ignored.
const JudgeThreshold = "threshold"

// Annotations that configure judges on Flagger objects, whose CRDs keep
// annotations but drop unknown spec fields.
const (
	// JudgeAnnotationPrefix starts a judge annotation. On a Canary,
	// judge.augur.dev/<metric> holds a list "key=value,key=value" (see
	// ParseJudgeList) for the metric named <metric>, and
	// judge.augur.dev/<metric>.<key> holds one key. On a MetricTemplate,
	// judge.augur.dev/<key> holds one key for every metric that uses it.
	JudgeAnnotationPrefix = "judge.augur.dev/"
	// ScoreAnnotation on a Canary holds the score thresholds "pass=95,marginal=75".
	ScoreAnnotation = "augur.dev/score"
)

var dataKeys = []string{
	KeyWindow, KeyStep, KeyBaselineQuery, KeyRequestsQuery, KeyErrorsQuery, KeyBaselineRequestsQuery,
	KeyBaselineErrorsQuery, KeyBucketsQuery, KeyBaselineBucketsQuery, KeySumQuery, KeyBaselineSumQuery,
}

// JudgeKeys returns every key a judge configuration accepts, sorted: the
// keys of judges.ParseConfig and the data keys above.
func JudgeKeys() []string {
	keys := append(judges.ConfigKeys(), dataKeys...)
	sort.Strings(keys)
	return keys
}

// ErrJudgeConfig marks an invalid judge configuration.
var ErrJudgeConfig = errors.New("invalid judge configuration")

// JudgeSpec is a judged metric's parsed configuration.
type JudgeSpec struct {
	// Config configures the statistics.
	Config judges.Config
	// Window is the fixed judging window; zero means the analysis interval.
	Window time.Duration
	// Step is the range-query step; zero means the metric's interval.
	Step time.Duration
	// Queries are the data query keys that were set (KeyBaselineQuery,
	// KeyRequestsQuery, …) with their unrendered query texts.
	Queries map[string]string
}

// ParseJudgeSpec reads a judge configuration from flat keys (JudgeKeys). It
// returns nil and no error when the configuration turns judging off
// (judge=threshold). Unknown keys, bad values, keys the judge does not use
// and half-given count queries are errors naming the key, all reported
// together.
func ParseJudgeSpec(kv map[string]string) (*JudgeSpec, error) {
	var errs []error
	for _, k := range sortedKeys(kv) {
		if !slices.Contains(dataKeys, k) && !slices.Contains(judges.ConfigKeys(), k) {
			errs = append(errs, fmt.Errorf("key %q: %w (known keys: %s)", k, judges.ErrUnknownKey, strings.Join(JudgeKeys(), ", ")))
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w: %w", ErrJudgeConfig, errors.Join(errs...))
	}
	if kv[judges.KeyJudge] == JudgeThreshold {
		return nil, nil
	}
	stat := map[string]string{}
	spec := &JudgeSpec{Queries: map[string]string{}}
	for k, v := range kv {
		switch {
		case k == KeyWindow || k == KeyStep:
			d, err := time.ParseDuration(strings.TrimSpace(v))
			if err != nil || d <= 0 {
				errs = append(errs, fmt.Errorf("key %q: value %q: want a positive Go duration such as 5m: %w", k, v, judges.ErrInvalidValue))
				continue
			}
			if k == KeyWindow {
				spec.Window = d
			} else {
				spec.Step = d
			}
		case slices.Contains(dataKeys, k):
			if strings.TrimSpace(v) == "" {
				errs = append(errs, fmt.Errorf("key %q: empty query: %w", k, judges.ErrInvalidValue))
				continue
			}
			spec.Queries[k] = v
		default:
			stat[k] = v
		}
	}
	cfg, err := judges.ParseConfig(stat)
	if err != nil {
		errs = append(errs, err)
	}
	spec.Config = cfg
	if err == nil {
		errs = append(errs, spec.checkKeys()...)
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w: %w", ErrJudgeConfig, errors.Join(errs...))
	}
	return spec, nil
}

// dataFor is the kind of data a judge reads with these queries.
func (s *JudgeSpec) dataFor(successRate bool) judges.DataKind {
	switch s.Config.WithDefaults().Judge {
	case judges.KindErrorRate:
		return judges.DataCounts
	case judges.KindHistogram:
		return judges.DataHistogram
	case judges.KindSequential:
		if _, ok := s.Queries[KeyRequestsQuery]; ok || successRate {
			return judges.DataCounts
		}
	}
	return judges.DataSamples
}

// keysOf lists the data query keys each data kind uses.
var keysOf = map[judges.DataKind][]string{
	judges.DataSamples:   {KeyBaselineQuery},
	judges.DataCounts:    {KeyRequestsQuery, KeyErrorsQuery, KeyBaselineRequestsQuery, KeyBaselineErrorsQuery},
	judges.DataHistogram: {KeyBucketsQuery, KeyBaselineBucketsQuery, KeySumQuery, KeyBaselineSumQuery},
}

// checkKeys reports data keys the judge does not use and half-given pairs.
func (s *JudgeSpec) checkKeys() []error {
	var errs []error
	judge := s.Config.WithDefaults().Judge
	if judge == judges.KindSequential && s.Window != 0 {
		errs = append(errs, fmt.Errorf("key %q: %w %q (it reads the data since the analysis started)", KeyWindow, judges.ErrNotApplicable, judge))
	}
	data := s.dataFor(false)
	for _, k := range sortedKeys(s.Queries) {
		if !slices.Contains(keysOf[data], k) {
			errs = append(errs, fmt.Errorf("key %q: %w %q (it compares %s)", k, judges.ErrNotApplicable, judge, data))
		}
	}
	_, req := s.Queries[KeyRequestsQuery]
	_, errq := s.Queries[KeyErrorsQuery]
	if req != errq {
		errs = append(errs, fmt.Errorf("keys %q and %q: give both or neither: %w", KeyRequestsQuery, KeyErrorsQuery, judges.ErrInvalidValue))
	}
	for base, of := range map[string]string{
		KeyBaselineRequestsQuery: KeyRequestsQuery, KeyBaselineErrorsQuery: KeyErrorsQuery,
		KeyBaselineBucketsQuery: KeyBucketsQuery, KeyBaselineSumQuery: KeySumQuery,
	} {
		if _, ok := s.Queries[base]; ok && s.Queries[of] == "" && slices.Contains(keysOf[data], base) {
			errs = append(errs, fmt.Errorf("key %q: needs %q (the canary's query) too: %w", base, of, judges.ErrInvalidValue))
		}
	}
	return errs
}

// ParseJudgeList reads the list form "key=value,key=value" of a judge or
// score configuration. Pairs are separated by the commas outside brackets
// ((), {}, []) and quotes (", ', `), so a PromQL query may be written as
// it is: its commas are always inside brackets. Keys and values are
// trimmed; a key must be one of known (nil: any key of letters), given
// once; unbalanced brackets or quotes are an error.
func ParseJudgeList(s string, known []string) (map[string]string, error) {
	out := map[string]string{}
	s = strings.TrimSpace(s)
	if s == "" {
		return out, nil
	}
	var parts []string
	depth, start := 0, 0
	var quote byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == '\\' && quote != '`' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'' || c == '`':
			quote = c
		case c == '(' || c == '{' || c == '[':
			depth++
		case c == ')' || c == '}' || c == ']':
			if depth == 0 {
				return nil, fmt.Errorf("%q: unbalanced %q: %w", s, c, judges.ErrInvalidValue)
			}
			depth--
		case c == ',' && depth == 0:
			parts = append(parts, s[start:i])
			start = i + 1
		}
	}
	if quote != 0 || depth != 0 {
		return nil, fmt.Errorf("%q: unbalanced brackets or quotes: %w", s, judges.ErrInvalidValue)
	}
	parts = append(parts, s[start:])
	for _, p := range parts {
		k, v, ok := strings.Cut(p, "=")
		k = strings.TrimSpace(k)
		if !ok || k == "" {
			return nil, fmt.Errorf("%q: want key=value: %w", strings.TrimSpace(p), judges.ErrInvalidValue)
		}
		switch {
		case known != nil && !slices.Contains(known, k):
			return nil, fmt.Errorf("key %q: %w (known keys: %s)", k, judges.ErrUnknownKey, strings.Join(known, ", "))
		case known == nil && strings.IndexFunc(k, func(r rune) bool { return !(r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z') }) >= 0:
			return nil, fmt.Errorf("key %q: want letters only: %w", k, judges.ErrUnknownKey)
		}
		if _, dup := out[k]; dup {
			return nil, fmt.Errorf("key %q given twice: %w", k, judges.ErrInvalidValue)
		}
		out[k] = strings.TrimSpace(v)
	}
	return out, nil
}

// CanaryJudges returns the judge settings of the canary's metrics by metric
// name: the Canary's judge annotations (list form, then one-key form), with
// overrides (a request's judges, CLI flags) over them. An override that
// sets judge replaces the annotations' keys of that metric; one without it
// adds to them and overrides them key by key. It checks that every name is
// a metric of the canary and every key is known; values are checked when
// the metric is planned (ParseJudgeSpec), together with its
// MetricTemplate's judge annotations.
func CanaryJudges(c *analysis.Canary, overrides map[string]map[string]string) (map[string]map[string]string, error) {
	metrics := map[string]bool{}
	if a := c.GetAnalysis(); a != nil {
		for _, m := range a.Metrics {
			metrics[m.Name] = true
		}
	}
	known := JudgeKeys()
	out := map[string]map[string]string{}
	set := func(metric, key, value string) {
		if out[metric] == nil {
			out[metric] = map[string]string{}
		}
		out[metric][key] = value
	}
	var errs []error
	var single [][3]string
	for _, ann := range sortedKeys(c.Metadata.Annotations) {
		name, ok := strings.CutPrefix(ann, JudgeAnnotationPrefix)
		if !ok {
			continue
		}
		v := c.Metadata.Annotations[ann]
		if metric, key, one := cutKey(name, known); one && !metrics[name] {
			if !metrics[metric] {
				errs = append(errs, fmt.Errorf("annotation %s: the canary has no metric %q", ann, metric))
				continue
			}
			single = append(single, [3]string{metric, key, v})
			continue
		}
		if !metrics[name] {
			errs = append(errs, fmt.Errorf("annotation %s: the canary has no metric %q", ann, name))
			continue
		}
		kv, err := ParseJudgeList(v, known)
		if err != nil {
			errs = append(errs, fmt.Errorf("annotation %s: %w", ann, err))
			continue
		}
		if out[name] == nil {
			out[name] = map[string]string{} // an empty list judges with the defaults
		}
		for k, val := range kv {
			set(name, k, val)
		}
	}
	for _, s := range single {
		set(s[0], s[1], s[2])
	}
	for _, metric := range sortedKeys(overrides) {
		if !metrics[metric] {
			errs = append(errs, fmt.Errorf("judges: the canary has no metric %q", metric))
			continue
		}
		out[metric] = layer(out[metric], overrides[metric])
	}
	for _, metric := range sortedKeys(out) {
		for _, k := range sortedKeys(out[metric]) {
			if !slices.Contains(known, k) {
				errs = append(errs, fmt.Errorf("metric %q: key %q: %w (known keys: %s)", metric, k, judges.ErrUnknownKey, strings.Join(known, ", ")))
			}
		}
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w: %w", ErrJudgeConfig, errors.Join(errs...))
	}
	return out, nil
}

// layer puts one layer of judge settings over another: a layer that sets
// the judge replaces the one below (its keys may not apply to the new
// judge), a layer without it adds and overrides keys. Either may be nil;
// the result is nil only when both are.
func layer(below, above map[string]string) map[string]string {
	if above == nil {
		return maps.Clone(below)
	}
	if _, ok := above[judges.KeyJudge]; ok || below == nil {
		return maps.Clone(above)
	}
	out := maps.Clone(below)
	maps.Copy(out, above)
	return out
}

// cutKey splits "<metric>.<key>" at its last dot when the key is known.
func cutKey(name string, known []string) (metric, key string, ok bool) {
	i := strings.LastIndexByte(name, '.')
	if i <= 0 || !slices.Contains(known, name[i+1:]) {
		return "", "", false
	}
	return name[:i], name[i+1:], true
}

// ValidateJudges checks a canary's judge annotations and overrides (a
// request's judges or CLI flags) as far as they can be checked without the
// MetricTemplates: names, keys, and each metric's configuration when it
// does not read keys from a MetricTemplate. Transports call it to reject a
// bad request up front; Plan reports anything else per metric.
func ValidateJudges(c *analysis.Canary, overrides map[string]map[string]string) error {
	all, err := CanaryJudges(c, overrides)
	if err != nil {
		return err
	}
	var errs []error
	if a := c.GetAnalysis(); a != nil {
		for _, m := range a.Metrics {
			kv, ok := all[m.Name]
			if !ok || m.TemplateRef != nil {
				continue
			}
			if _, err := ParseJudgeSpec(kv); err != nil {
				errs = append(errs, fmt.Errorf("metric %q: %w", m.Name, err))
			}
		}
	}
	if _, err := ScoreConfig(c, nil); err != nil {
		errs = append(errs, err)
	}
	return errors.Join(errs...)
}

// ScoreConfig reads the canary's score annotation (ScoreAnnotation) with
// overrides (keys pass and marginal) merged over it.
func ScoreConfig(c *analysis.Canary, overrides map[string]string) (judges.ScoreConfig, error) {
	kv := map[string]string{}
	if v, ok := c.Metadata.Annotations[ScoreAnnotation]; ok {
		parsed, err := ParseJudgeList(v, []string{judges.KeyPass, judges.KeyMarginal})
		if err != nil {
			return judges.ScoreConfig{}, fmt.Errorf("%w: annotation %s: %w", ErrJudgeConfig, ScoreAnnotation, err)
		}
		kv = parsed
	}
	for k, v := range overrides {
		kv[k] = v
	}
	s, err := judges.ParseScoreConfig(kv)
	if err != nil {
		return s, fmt.Errorf("%w: score: %w", ErrJudgeConfig, err)
	}
	return s, nil
}

// templateJudges reads a MetricTemplate's one-key judge annotations.
func templateJudges(mt *analysis.MetricTemplate) (map[string]string, error) {
	var out map[string]string
	var errs []error
	for _, ann := range sortedKeys(mt.Metadata.Annotations) {
		key, ok := strings.CutPrefix(ann, JudgeAnnotationPrefix)
		if !ok {
			continue
		}
		if out == nil {
			out = map[string]string{}
		}
		if !slices.Contains(JudgeKeys(), key) {
			errs = append(errs, fmt.Errorf("MetricTemplate %s/%s annotation %s: key %q: %w", mt.Metadata.Namespace, mt.Metadata.Name, ann, key, judges.ErrUnknownKey))
			continue
		}
		out[key] = mt.Metadata.Annotations[ann]
	}
	if len(errs) > 0 {
		return nil, fmt.Errorf("%w: %w", ErrJudgeConfig, errors.Join(errs...))
	}
	return out, nil
}

package engine

import (
	"fmt"
	"maps"
	"strconv"
	"time"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/analysis/judges"
	"github.com/augurproj/augur/templates"
)

// DefaultJudgeStep is the range-query step of a judged metric without an
// interval of its own (and without the step key).
const DefaultJudgeStep = time.Minute

// DefaultSampleSteps is the least number of steps in the default window of
// a fixed-window judge on samples: one analysis interval usually holds too
// few samples (two at interval 1m and step 30s) for mann-whitney's
// minPoints.
const DefaultSampleSteps = 10

// DefaultCountSteps is the smallest default window, in steps, of a
// fixed-window judge on counts or histogram buckets: each step is a cluster,
// and the dispersion between clusters needs several of them (with two steps
// the test refers to t with one degree of freedom and can hardly fail).
const DefaultCountSteps = 10

// baselineSuffix names the primary workload: Flagger's <target>-primary.
const baselineSuffix = "-primary"

// JudgePlan is how a judged metric's data is fetched: the judge's
// configuration, the kind of data, the window and step, and the rendered
// queries of both sides.
type JudgePlan struct {
	// Config is the judge's configuration (defaults not filled in).
	Config judges.Config `json:"config"`
	// Data is the kind of data the judge compares.
	Data judges.DataKind `json:"data"`
	// Window is the fixed judging window (a Go duration); empty when Cumulative.
	Window string `json:"window,omitempty"`
	// Cumulative reports that the data runs from the analysis start (sequential).
	Cumulative bool `json:"cumulative,omitempty"`
	// Step is the range-query step (a Go duration).
	Step string `json:"step"`
	// Threshold reports whether the metric's threshold is checked too (it
	// sets thresholdRange or a non-zero threshold); without one the metric's
	// own instant query does not run.
	Threshold bool `json:"threshold"`
	// Queries are the rendered data queries.
	Queries []analysis.JudgeQuery `json:"queries"`

	window, step time.Duration
}

// Default data queries of the builtin metrics, per observer family: the
// request and error counts behind request-success-rate, and the histogram
// behind request-duration, per step ({{ interval }} is the step). Other
// observers need the queries in the judge configuration.
var defaultJudgeQueries = map[string]map[string]string{
	templates.ObserverIstio: {
		KeyRequestsQuery: `sum(increase(istio_requests_total{reporter="destination",destination_workload_namespace="{{ namespace }}",destination_workload=~"{{ target }}"}[{{ interval }}]))`,
		KeyErrorsQuery:   `sum(increase(istio_requests_total{reporter="destination",destination_workload_namespace="{{ namespace }}",destination_workload=~"{{ target }}",response_code=~"5.*"}[{{ interval }}]))`,
		KeyBucketsQuery:  `sum by (le) (increase(istio_request_duration_milliseconds_bucket{reporter="destination",destination_workload_namespace="{{ namespace }}",destination_workload=~"{{ target }}"}[{{ interval }}]))`,
		KeySumQuery:      `sum(increase(istio_request_duration_milliseconds_sum{reporter="destination",destination_workload_namespace="{{ namespace }}",destination_workload=~"{{ target }}"}[{{ interval }}]))`,
	},
	templates.ObserverLinkerd: {
		KeyRequestsQuery: `sum(increase(response_total{namespace="{{ namespace }}",deployment=~"{{ target }}",direction="inbound"}[{{ interval }}]))`,
		KeyErrorsQuery:   `sum(increase(response_total{namespace="{{ namespace }}",deployment=~"{{ target }}",classification="failure",direction="inbound"}[{{ interval }}]))`,
		KeyBucketsQuery:  `sum by (le) (increase(response_latency_ms_bucket{namespace="{{ namespace }}",deployment=~"{{ target }}",direction="inbound"}[{{ interval }}]))`,
		KeySumQuery:      `sum(increase(response_latency_ms_sum{namespace="{{ namespace }}",deployment=~"{{ target }}",direction="inbound"}[{{ interval }}]))`,
	},
}

// DefaultJudgeQueries returns augur's default count and histogram queries
// for the builtin metrics of an observer family (nil when it has none).
func DefaultJudgeQueries(observer string) map[string]string {
	return maps.Clone(defaultJudgeQueries[observer])
}

// judgeSource is what planJudge needs to know about the metric.
type judgeSource struct {
	// text is the metric's query template, name its template name for errors.
	text, name string
	model      templates.Model
	// observer is the builtin query family (builtin kinds only).
	observer string
}

// planJudge resolves a judged metric's data queries. settings are the
// metric's merged judge keys; the plan is left alone when they turn judging
// off, and gets an error when they are invalid or incomplete.
func (e *Engine) planJudge(c *analysis.Canary, p *MetricPlan, settings map[string]string, src judgeSource) {
	if p.Err != nil || settings == nil {
		return
	}
	fail := func(err error) {
		p.Err = &analysis.ObservationError{Kind: analysis.ErrKindJudge,
			Message: fmt.Sprintf("metric %s: %v", p.Name, err)}
	}
	spec, err := ParseJudgeSpec(settings)
	if err != nil {
		fail(err)
		return
	}
	if spec == nil {
		return
	}
	jp := &JudgePlan{Config: spec.Config, Threshold: p.Metric.HasThreshold()}
	jp.Data = spec.dataFor(p.Kind == analysis.KindSuccessRate)
	jp.step = spec.Step
	if jp.step == 0 {
		jp.step = DefaultJudgeStep
		if d, err := time.ParseDuration(p.Interval); err == nil && d > 0 {
			jp.step = d
		}
	}
	jp.Step = promDuration(jp.step)
	if spec.Config.WithDefaults().Judge == judges.KindSequential {
		jp.Cumulative = true
	} else {
		jp.window = spec.Window
		if jp.window == 0 {
			jp.window = max(c.GetAnalysis().IntervalDuration(), jp.step)
			if jp.Data == judges.DataSamples {
				jp.window = max(jp.window, DefaultSampleSteps*jp.step)
			} else {
				// Counts and buckets: enough steps (clusters) to estimate
				// the dispersion between them (docs/judges.md, calibration).
				jp.window = max(jp.window, DefaultCountSteps*jp.step)
			}
		}
		if jp.window < jp.step {
			fail(fmt.Errorf("key %q: the window %s is shorter than the step %s, so it holds no data point: %w",
				KeyWindow, promDuration(jp.window), jp.Step, judges.ErrInvalidValue))
			return
		}
		jp.Window = promDuration(jp.window)
	}

	queries := spec.Queries
	defaults := defaultJudgeQueries[src.observer]
	var roles [][2]string // role, canary key
	switch jp.Data {
	case judges.DataSamples:
		roles = [][2]string{{analysis.RoleSamples, ""}}
	case judges.DataCounts:
		if queries[KeyRequestsQuery] == "" {
			if p.Kind != analysis.KindSuccessRate || defaults == nil {
				fail(fmt.Errorf("judge %s compares request and error counts: give %s and %s (augur has default count queries only for the builtin request-success-rate of the istio and linkerd observers)",
					spec.Config.WithDefaults().Judge, KeyRequestsQuery, KeyErrorsQuery))
				return
			}
			queries = withDefaults(queries, defaults, KeyRequestsQuery, KeyErrorsQuery)
		}
		roles = [][2]string{{analysis.RoleRequests, KeyRequestsQuery}, {analysis.RoleErrors, KeyErrorsQuery}}
	case judges.DataHistogram:
		if queries[KeyBucketsQuery] == "" {
			if p.Kind != analysis.KindDuration || defaults == nil {
				fail(fmt.Errorf("judge histogram compares histogram buckets: give %s (augur has a default bucket query only for the builtin request-duration of the istio and linkerd observers)", KeyBucketsQuery))
				return
			}
			queries = withDefaults(queries, defaults, KeyBucketsQuery, KeySumQuery)
		}
		roles = [][2]string{{analysis.RoleBuckets, KeyBucketsQuery}}
		if queries[KeySumQuery] != "" {
			roles = append(roles, [2]string{analysis.RoleSum, KeySumQuery})
		}
	}

	stepModel := src.model
	stepModel.Interval = jp.Step
	baseModel := func(m templates.Model) templates.Model {
		m.Target += baselineSuffix
		return m
	}
	for _, r := range roles {
		role, key := r[0], r[1]
		var canary, baseline string
		var rerr *analysis.ObservationError
		if role == analysis.RoleSamples {
			canary = p.Query
			if q := queries[KeyBaselineQuery]; q != "" {
				baseline, rerr = e.render(p.Name+"/"+KeyBaselineQuery, q, src.model)
			} else {
				baseline, rerr = e.render(src.name, src.text, templates.BuiltinModel(src.observer, baseModel(src.model)))
			}
		} else {
			canary, rerr = e.render(p.Name+"/"+key, queries[key], stepModel)
			if rerr == nil {
				if q := queries["baseline"+upperFirst(key)]; q != "" {
					baseline, rerr = e.render(p.Name+"/baseline"+upperFirst(key), q, stepModel)
				} else {
					baseline, rerr = e.render(p.Name+"/"+key, queries[key], baseModel(stepModel))
				}
			}
		}
		if rerr != nil {
			p.Err = rerr
			return
		}
		jp.Queries = append(jp.Queries,
			analysis.JudgeQuery{Side: analysis.SideCanary, Role: role, Query: canary},
			analysis.JudgeQuery{Side: analysis.SideBaseline, Role: role, Query: baseline})
	}
	p.Judge = jp
}

// withDefaults returns queries with the default of each key added.
func withDefaults(queries, defaults map[string]string, keys ...string) map[string]string {
	out := maps.Clone(queries)
	for _, k := range keys {
		if out[k] == "" {
			out[k] = defaults[k]
		}
	}
	return out
}

func upperFirst(s string) string {
	if s == "" {
		return s
	}
	return string(s[0]-'a'+'A') + s[1:]
}

// mergeJudges puts the canary-level judge settings of one metric over its
// MetricTemplate's (either may be nil), as layer does.
func mergeJudges(template, canary map[string]string) map[string]string {
	return layer(template, canary)
}

// promDuration writes d as Prometheus writes durations: 1m, 30s, 1h30m.
func promDuration(d time.Duration) string {
	if d <= 0 || d%time.Millisecond != 0 {
		return d.String() // not a PromQL duration; ParseDuration refused it anyway
	}
	var out string
	for _, u := range []struct {
		unit string
		d    time.Duration
	}{{"d", 24 * time.Hour}, {"h", time.Hour}, {"m", time.Minute}, {"s", time.Second}, {"ms", time.Millisecond}} {
		if n := d / u.d; n > 0 {
			out += strconv.FormatInt(int64(n), 10) + u.unit
			d -= n * u.d
		}
	}
	return out
}

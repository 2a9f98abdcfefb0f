package engine_test

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/analysis/judges"
	"github.com/augurproj/augur/engine"
	"github.com/augurproj/augur/metrics"
)

func TestParseJudgeSpec(t *testing.T) {
	tests := []struct {
		name    string
		kv      map[string]string
		want    *engine.JudgeSpec
		wantErr []string
	}{
		{"defaults", map[string]string{}, &engine.JudgeSpec{Queries: map[string]string{}}, nil},
		{"threshold turns judging off", map[string]string{"judge": "threshold", "window": "whatever"}, nil, nil},
		{"error-rate with queries", map[string]string{"judge": "error-rate", "requestsQuery": "r", "errorsQuery": "e", "alpha": "0.01", "window": "5m"},
			&engine.JudgeSpec{Config: judges.Config{Judge: judges.KindErrorRate, Alpha: 0.01}, Window: 5 * time.Minute,
				Queries: map[string]string{"requestsQuery": "r", "errorsQuery": "e"}}, nil},
		{"histogram with step", map[string]string{"judge": "histogram", "step": "30s", "bucketsQuery": "b", "baselineBucketsQuery": "bb"},
			&engine.JudgeSpec{Config: judges.Config{Judge: judges.KindHistogram}, Step: 30 * time.Second,
				Queries: map[string]string{"bucketsQuery": "b", "baselineBucketsQuery": "bb"}}, nil},
		{"sequential on counts", map[string]string{"judge": "sequential", "requestsQuery": "r", "errorsQuery": "e", "margin": "0.005"},
			&engine.JudgeSpec{Config: judges.Config{Judge: judges.KindSequential, Margin: 0.005},
				Queries: map[string]string{"requestsQuery": "r", "errorsQuery": "e"}}, nil},
		{"unknown key", map[string]string{"judge": "histogram", "windw": "5m"}, nil, []string{`key "windw": unknown key`}},
		{"unknown key with threshold", map[string]string{"judge": "threshold", "nope": "1"}, nil, []string{`key "nope": unknown key`}},
		{"bad durations", map[string]string{"window": "5", "step": "-1m"}, nil,
			[]string{`key "step": value "-1m": want a positive Go duration`, `key "window": value "5": want a positive Go duration`}},
		{"window of the sequential judge", map[string]string{"judge": "sequential", "window": "5m"}, nil,
			[]string{`key "window": does not apply to this judge "sequential"`}},
		{"bucket query for mann-whitney", map[string]string{"bucketsQuery": "b"}, nil,
			[]string{`key "bucketsQuery": does not apply to this judge "mann-whitney" (it compares samples)`}},
		{"half a count pair", map[string]string{"judge": "error-rate", "requestsQuery": "r"}, nil,
			[]string{`keys "requestsQuery" and "errorsQuery": give both or neither`}},
		{"baseline without canary query", map[string]string{"judge": "histogram", "baselineBucketsQuery": "b"}, nil,
			[]string{`key "baselineBucketsQuery": needs "bucketsQuery"`}},
		{"empty query", map[string]string{"baselineQuery": " "}, nil, []string{`key "baselineQuery": empty query`}},
		{"statistics keys are the judges package's", map[string]string{"judge": "error-rate", "alpha": "0.9", "tau": "1"}, nil,
			[]string{`key "alpha": value 0.9`, `key "tau": does not apply to this judge "error-rate"`}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := engine.ParseJudgeSpec(tt.kv)
			if len(tt.wantErr) > 0 {
				if err == nil || !errors.Is(err, engine.ErrJudgeConfig) {
					t.Fatalf("err = %v, want an ErrJudgeConfig", err)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not contain %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("spec (-want +got):\n%s", diff)
			}
		})
	}
}

func TestParseJudgeList(t *testing.T) {
	known := engine.JudgeKeys()
	tests := []struct {
		name    string
		in      string
		want    map[string]string
		wantErr string
	}{
		{"empty", " ", map[string]string{}, ""},
		{"pairs", "judge=histogram, window=5m ,critical=true", map[string]string{"judge": "histogram", "window": "5m", "critical": "true"}, ""},
		{"commas inside a query", `judge=error-rate,requestsQuery=sum(increase(x{a="b",c="d"}[1m])),errorsQuery=sum(y{a="b",code=~"5.."})`,
			map[string]string{"judge": "error-rate", "requestsQuery": `sum(increase(x{a="b",c="d"}[1m]))`, "errorsQuery": `sum(y{a="b",code=~"5.."})`}, ""},
		{"equals inside a value", `baselineQuery=x{a="b"}`, map[string]string{"baselineQuery": `x{a="b"}`}, ""},
		{"missing equals", "judge", nil, `"judge": want key=value`},
		{"duplicate", "alpha=0.1,alpha=0.2", nil, `key "alpha" given twice`},
		{"unknown key after a comma", "judge=histogram,windw=5m", nil, `key "windw": unknown key`},
		{"quotes and brackets protect commas", `baselineQuery=x{a="b,c",d='e,f'} or on(a,b) y[1m:30s]`,
			map[string]string{"baselineQuery": `x{a="b,c",d='e,f'} or on(a,b) y[1m:30s]`}, ""},
		{"escaped quote", `baselineQuery=x{a="b\",c"},alpha=0.1`, map[string]string{"baselineQuery": `x{a="b\",c"}`, "alpha": "0.1"}, ""},
		{"unbalanced bracket", "baselineQuery=sum(x", nil, "unbalanced brackets or quotes"},
		{"unbalanced quote", `baselineQuery=x{a="b}`, nil, "unbalanced brackets or quotes"},
		{"closing bracket first", "baselineQuery=x)", nil, "unbalanced ')'"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := engine.ParseJudgeList(tt.in, known)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("err = %v, want %q", err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func judgedCanary(annotations map[string]string) analysis.Canary {
	c := analysis.Canary{
		Metadata: analysis.ObjectMeta{Name: "podinfo", Namespace: "test", Annotations: annotations},
		Spec: analysis.CanarySpec{
			TargetRef: analysis.CrossNamespaceObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "podinfo"},
			Analysis: &analysis.Analysis{Interval: "1m", Threshold: 5, MaxWeight: 50, StepWeight: 10, Metrics: []analysis.Metric{
				{Name: "request-success-rate", Interval: "1m", ThresholdRange: &analysis.ThresholdRange{Min: ptr(99.0)}},
				{Name: "request-duration", Interval: "30s", ThresholdRange: &analysis.ThresholdRange{Max: ptr(500.0)}},
				{Name: "latency.mean", Query: `avg(lat{app="{{ target }}"})`},
				{Name: "errors", TemplateRef: &analysis.CrossNamespaceObjectReference{Name: "errors"}, Interval: "2m",
					ThresholdRange: &analysis.ThresholdRange{Max: ptr(1.0)}},
			}},
		},
	}
	return c
}

func TestCanaryJudges(t *testing.T) {
	tests := []struct {
		name      string
		ann       map[string]string
		overrides map[string]map[string]string
		want      map[string]map[string]string
		wantErr   []string
	}{
		{"none", nil, nil, map[string]map[string]string{}, nil},
		{"list, one key and override, by precedence",
			map[string]string{
				"judge.augur.dev/request-duration":        "judge=histogram,alpha=0.01,window=2m",
				"judge.augur.dev/request-duration.window": "5m",
				"judge.augur.dev/latency.mean":            "",
				"other.example.com/x":                     "ignored",
			},
			map[string]map[string]string{"request-duration": {"alpha": "0.02"}, "errors": {"judge": "mann-whitney"}},
			map[string]map[string]string{
				"request-duration": {"judge": "histogram", "alpha": "0.02", "window": "5m"},
				"latency.mean":     {},
				"errors":           {"judge": "mann-whitney"},
			}, nil},
		{"a metric name with a dot takes the list form", map[string]string{"judge.augur.dev/latency.mean": "judge=sequential"}, nil,
			map[string]map[string]string{"latency.mean": {"judge": "sequential"}}, nil},
		{"one key of a dotted metric", map[string]string{"judge.augur.dev/latency.mean.judge": "sequential"}, nil,
			map[string]map[string]string{"latency.mean": {"judge": "sequential"}}, nil},
		{"errors name the annotation and the metric",
			map[string]string{
				"judge.augur.dev/request-durations":        "judge=histogram",
				"judge.augur.dev/request-durations.window": "5m",
				"judge.augur.dev/request-duration":         "judge",
			},
			map[string]map[string]string{"nope": {"judge": "histogram"}, "errors": {"windw": "1m"}},
			nil,
			[]string{
				`annotation judge.augur.dev/request-durations: the canary has no metric "request-durations"`,
				`annotation judge.augur.dev/request-durations.window: the canary has no metric "request-durations"`,
				`annotation judge.augur.dev/request-duration: "judge": want key=value`,
				`judges: the canary has no metric "nope"`,
				`metric "errors": key "windw": unknown key`,
			}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := judgedCanary(tt.ann)
			got, err := engine.CanaryJudges(&c, tt.overrides)
			if len(tt.wantErr) > 0 {
				if err == nil {
					t.Fatalf("no error; got %v", got)
				}
				for _, w := range tt.wantErr {
					if !strings.Contains(err.Error(), w) {
						t.Errorf("error %q does not contain %q", err, w)
					}
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

func TestValidateJudgesAndScoreConfig(t *testing.T) {
	tests := []struct {
		name      string
		ann       map[string]string
		overrides map[string]map[string]string
		wantErr   string
	}{
		{"valid", map[string]string{"judge.augur.dev/request-duration": "judge=histogram", "augur.dev/score": "pass=90,marginal=60"}, nil, ""},
		{"a bad value", map[string]string{"judge.augur.dev/request-duration": "judge=histogram,alpha=2"}, nil, `metric "request-duration": invalid judge configuration: key "alpha": value 2`},
		{"template metrics are checked at plan time", nil, map[string]map[string]string{"errors": {"judge": "error-rate"}}, ""},
		{"bad score annotation", map[string]string{"augur.dev/score": "pass=90,marginal=95"}, nil, `key "marginal": value 95: above pass 90`},
		{"unknown score key", map[string]string{"augur.dev/score": "fail=1"}, nil, `annotation augur.dev/score: key "fail": unknown key`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := judgedCanary(tt.ann)
			err := engine.ValidateJudges(&c, tt.overrides)
			if tt.wantErr == "" {
				if err != nil {
					t.Fatal(err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("err = %v, want %q", err, tt.wantErr)
			}
		})
	}
	c := judgedCanary(map[string]string{"augur.dev/score": "pass=90"})
	got, err := engine.ScoreConfig(&c, map[string]string{"marginal": "50"})
	if err != nil {
		t.Fatal(err)
	}
	if got.Pass == nil || *got.Pass != 90 || got.Marginal == nil || *got.Marginal != 50 {
		t.Errorf("score config %+v, want pass 90 (annotation) and marginal 50 (override)", got)
	}
}

// TestPlanJudgeGolden plans judged metrics of every kind and compares the
// judge plans (data kind, window, step, rendered queries of both sides)
// with a golden file.
func TestPlanJudgeGolden(t *testing.T) {
	templates := engine.StaticTemplates{{
		Metadata: analysis.ObjectMeta{Name: "errors", Namespace: "test", Annotations: map[string]string{
			"judge.augur.dev/judge":         "error-rate",
			"judge.augur.dev/requestsQuery": `sum(increase(http_requests_total{app="{{ target }}"}[{{ interval }}]))`,
			"judge.augur.dev/errorsQuery":   `sum(increase(http_requests_total{app="{{ target }}",code=~"5.."}[{{ interval }}]))`,
		}},
		Spec: analysis.MetricTemplateSpec{Provider: analysis.MetricTemplateProvider{Type: "prometheus", Address: "http://prom:9090"},
			Query: `sum(rate(http_requests_total{app="{{ target }}",code=~"5.."}[{{ interval }}]))`},
	}}
	eng, err := engine.New(engine.Options{Registry: &metrics.Registry{}, Templates: templates})
	if err != nil {
		t.Fatal(err)
	}
	cases := []struct {
		name      string
		mesh      string
		ann       map[string]string
		overrides map[string]map[string]string
	}{
		{"istio builtins with defaults", "istio", map[string]string{
			"judge.augur.dev/request-success-rate": "judge=error-rate,critical=true",
			"judge.augur.dev/request-duration":     "judge=histogram",
		}, nil},
		{"linkerd builtins, sequential on counts", "linkerd", map[string]string{
			"judge.augur.dev/request-success-rate": "judge=sequential,margin=0.005",
			"judge.augur.dev/request-duration":     "judge=histogram,window=5m,step=1m",
		}, nil},
		{"samples: default window of ten steps, explicit baseline", "istio", map[string]string{
			"judge.augur.dev/latency.mean":               "judge=mann-whitney,step=30s",
			"judge.augur.dev/latency.mean.baselineQuery": `avg(lat{app="{{ target }}-stable"})`,
			"judge.augur.dev/request-duration":           "window=3m",
		}, nil},
		{"template annotations, canary override", "istio", nil, map[string]map[string]string{"errors": {"alpha": "0.01", "window": "10m"}}},
		{"threshold turns a template's judge off", "istio", nil, map[string]map[string]string{"errors": {"judge": "threshold"}}},
		{"no default count queries for nginx", "nginx", map[string]string{"judge.augur.dev/request-success-rate": "judge=error-rate"}, nil},
		{"a misspelt annotation fails every metric", "istio", map[string]string{"judge.augur.dev/request-durration": "judge=histogram"}, nil},
	}
	type planned struct {
		Name  string                     `json:"name"`
		Query string                     `json:"query"`
		Err   *analysis.ObservationError `json:"error,omitempty"`
		Judge *engine.JudgePlan          `json:"judge,omitempty"`
	}
	got := map[string][]planned{}
	for _, tc := range cases {
		c := judgedCanary(tc.ann)
		c.Spec.Provider = tc.mesh
		plans, err := eng.PlanFor(context.Background(), &c, engine.PlanOptions{Judges: tc.overrides})
		if err != nil {
			t.Fatal(err)
		}
		for _, p := range plans {
			got[tc.name] = append(got[tc.name], planned{Name: p.Name, Query: p.Query, Err: p.Err, Judge: p.Judge})
		}
	}
	b, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	golden(t, "judge-plans.golden.json", append(b, '\n'))
}

func golden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update)", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

// rangeFake answers instant and range queries from canned series and
// records the range queries it ran.
type rangeFake struct {
	mu      sync.Mutex
	instant map[string]float64
	series  map[string][]metrics.Series
	errs    map[string]error
	ranges  []rangeCall
	queries []string
}

type rangeCall struct {
	Query      string
	Start, End time.Time
	Step       time.Duration
}

func (f *rangeFake) Query(_ context.Context, q string, _ time.Time) (float64, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.queries = append(f.queries, q)
	v, ok := f.instant[q]
	if !ok {
		return 0, metrics.ErrNoValues
	}
	return v, nil
}

func (f *rangeFake) QueryRange(_ context.Context, q string, start, end time.Time, step time.Duration) ([]metrics.Series, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.ranges = append(f.ranges, rangeCall{q, start, end, step})
	if err := f.errs[q]; err != nil {
		return nil, err
	}
	return f.series[q], nil
}

// instantOnly is a provider without range queries.
type instantOnly struct{}

func (instantOnly) Query(context.Context, string, time.Time) (float64, error) { return 1, nil }

func series(labels map[string]string, vs ...float64) metrics.Series {
	s := metrics.Series{Labels: labels}
	for i, v := range vs {
		s.Samples = append(s.Samples, metrics.Sample{T: time.Unix(int64(60*i), 0), V: v})
	}
	return s
}

func le(b string) map[string]string { return map[string]string{"le": b} }

func TestEvaluateJudgedData(t *testing.T) {
	end := time.Date(2026, 11, 1, 10, 10, 0, 0, time.UTC)
	inline := func(judge string) analysis.Canary {
		c := canaryWith(0)
		c.Spec.Analysis.Metrics = []analysis.Metric{{Name: "m", Query: `x{app="{{ target }}"}`, Interval: "1m"}}
		c.Metadata.Annotations = map[string]string{"judge.augur.dev/m": judge}
		return c
	}
	canaryQ, baseQ := `x{app="podinfo"}`, `x{app="podinfo-primary"}`
	tests := []struct {
		name       string
		canary     analysis.Canary
		provider   func(f *rangeFake) metrics.Provider
		start      time.Time
		wantData   judges.Input
		wantWindow analysis.JudgeWindow
		wantRanges []rangeCall
		wantErr    string
		wantKind   analysis.ErrorKind
	}{
		{
			name:   "samples over ten steps, no threshold: no instant query",
			canary: inline("judge=mann-whitney"),
			provider: func(f *rangeFake) metrics.Provider {
				f.series = map[string][]metrics.Series{canaryQ: {series(nil, 1, 2, 3)}, baseQ: {series(nil, 4, 5)}}
				return f
			},
			wantData:   judges.Input{Canary: judges.Data{Samples: judges.Series{1, 2, 3}}, Baseline: judges.Data{Samples: judges.Series{4, 5}}},
			wantWindow: analysis.JudgeWindow{Start: end.Add(-10 * time.Minute), End: end, Step: "1m"},
			wantRanges: []rangeCall{{canaryQ, end.Add(-9 * time.Minute), end, time.Minute}, {baseQ, end.Add(-9 * time.Minute), end, time.Minute}},
		},
		{
			name: "counts summed over the steps; no error series means no errors",
			canary: inline(`judge=error-rate,window=3m,requestsQuery=sum(increase(r{app="{{ target }}"}[{{ interval }}])),` +
				`errorsQuery=sum(increase(e{app="{{ target }}"}[{{ interval }}]))`),
			provider: func(f *rangeFake) metrics.Provider {
				f.series = map[string][]metrics.Series{
					`sum(increase(r{app="podinfo"}[1m]))`:         {series(nil, 100, 110, 120.5)},
					`sum(increase(e{app="podinfo"}[1m]))`:         {series(nil, 1, 0, 2)},
					`sum(increase(r{app="podinfo-primary"}[1m]))`: {series(nil, 200, 210, 220)},
				}
				return f
			},
			wantData: judges.Input{Canary: judges.Data{Counts: &judges.Counts{Requests: 330.5, Errors: 3}},
				Baseline: judges.Data{Counts: &judges.Counts{Requests: 630, Errors: 0}}},
			wantWindow: analysis.JudgeWindow{Start: end.Add(-3 * time.Minute), End: end, Step: "1m", Counting: analysis.CountingIncrease},
		},
		{
			name: "buckets by le, sorted, with the sum",
			canary: inline(`judge=histogram,window=2m,step=30s,bucketsQuery=sum by (le) (b{app="{{ target }}"}),` +
				`sumQuery=sum(s{app="{{ target }}"})`),
			provider: func(f *rangeFake) metrics.Provider {
				f.series = map[string][]metrics.Series{
					`sum by (le) (b{app="podinfo"})`:         {series(le("+Inf"), 10, 12), series(le("0.5"), 5, 6), series(le("1.0"), 8, 9)},
					`sum(s{app="podinfo"})`:                  {series(nil, 7, 8)},
					`sum by (le) (b{app="podinfo-primary"})`: {series(le("1"), 1, 1), series(le("+Inf"), 2, 2)},
				}
				return f
			},
			wantData: judges.Input{
				Canary: judges.Data{Histogram: &judges.Histogram{Buckets: []judges.Bucket{
					{UpperBound: 0.5, Count: 11}, {UpperBound: 1, Count: 17}, {UpperBound: inf, Count: 22}}, Sum: ptr(15.0)}},
				Baseline: judges.Data{Histogram: &judges.Histogram{Buckets: []judges.Bucket{{UpperBound: 1, Count: 2}, {UpperBound: inf, Count: 4}}}},
			},
			wantWindow: analysis.JudgeWindow{Start: end.Add(-2 * time.Minute), End: end, Step: "30s", Counting: analysis.CountingIncrease},
		},
		{
			name:   "sequential: cumulative from the analysis start",
			canary: inline("judge=sequential"),
			start:  end.Add(-7 * time.Minute),
			provider: func(f *rangeFake) metrics.Provider {
				f.series = map[string][]metrics.Series{canaryQ: {series(nil, 1)}, baseQ: {series(nil, 2)}}
				return f
			},
			wantData:   judges.Input{Canary: judges.Data{Samples: judges.Series{1}}, Baseline: judges.Data{Samples: judges.Series{2}}},
			wantWindow: analysis.JudgeWindow{Start: end.Add(-7 * time.Minute), End: end, Step: "1m", Cumulative: true},
			wantRanges: []rangeCall{{canaryQ, end.Add(-6 * time.Minute), end, time.Minute}, {baseQ, end.Add(-6 * time.Minute), end, time.Minute}},
		},
		{
			name:   "sequential without an analysis start reads one interval",
			canary: inline("judge=sequential"),
			provider: func(f *rangeFake) metrics.Provider {
				return f
			},
			wantData:   judges.Input{Canary: judges.Data{Samples: judges.Series{}}, Baseline: judges.Data{Samples: judges.Series{}}},
			wantWindow: analysis.JudgeWindow{Start: end.Add(-time.Minute), End: end, Step: "1m", Cumulative: true},
			wantRanges: []rangeCall{{canaryQ, end, end, time.Minute}, {baseQ, end, end, time.Minute}},
		},
		{
			name:     "a provider without range queries",
			canary:   inline("judge=mann-whitney"),
			provider: func(*rangeFake) metrics.Provider { return instantOnly{} },
			wantErr:  `metrics provider "prometheus" cannot run range queries, which judging m against the primary needs`,
			wantKind: analysis.ErrKindProvider,
		},
		{
			name:   "several series",
			canary: inline("judge=mann-whitney"),
			provider: func(f *rangeFake) metrics.Provider {
				f.series = map[string][]metrics.Series{canaryQ: {series(nil, 1), series(nil, 2)}}
				return f
			},
			wantErr:  "canary samples query: query returned multiple values: 2 series (aggregate them, e.g. with sum())",
			wantKind: analysis.ErrKindMultipleValues,
		},
		{
			name:   "buckets without le",
			canary: inline(`judge=histogram,bucketsQuery=sum(b{app="{{ target }}"})`),
			provider: func(f *rangeFake) metrics.Provider {
				f.series = map[string][]metrics.Series{`sum(b{app="podinfo"})`: {series(map[string]string{"pod": "a"}, 1)}}
				return f
			},
			wantErr:  `canary buckets query: series {pod="a"} has no le label (group the buckets by le)`,
			wantKind: analysis.ErrKindQuery,
		},
		{
			name:   "a failing range query",
			canary: inline("judge=mann-whitney"),
			provider: func(f *rangeFake) metrics.Provider {
				f.errs = map[string]error{baseQ: errors.New("bad_data: parse error")}
				return f
			},
			wantErr:  "baseline samples query: bad_data: parse error",
			wantKind: analysis.ErrKindQuery,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			f := &rangeFake{}
			eng, err := engine.New(engine.Options{Registry: fakeRegistry(tt.provider(f))})
			if err != nil {
				t.Fatal(err)
			}
			plans, err := eng.PlanFor(context.Background(), &tt.canary, engine.PlanOptions{})
			if err != nil {
				t.Fatal(err)
			}
			if plans[0].Err != nil || plans[0].Judge == nil {
				t.Fatalf("plan %+v", plans[0])
			}
			obs := eng.EvaluateFor(context.Background(), plans, engine.EvalOptions{At: end, AnalysisStart: tt.start, Interval: time.Minute})
			j := obs[0].Judged
			if j == nil {
				t.Fatal("no judged data")
			}
			if len(f.queries) != 0 {
				t.Errorf("instant queries %q ran for a metric without a threshold", f.queries)
			}
			if tt.wantErr != "" {
				if j.Err == nil || j.Err.Message != tt.wantErr || j.Err.Kind != tt.wantKind {
					t.Fatalf("error %+v, want %s: %q", j.Err, tt.wantKind, tt.wantErr)
				}
				return
			}
			if j.Err != nil {
				t.Fatalf("error %+v", j.Err)
			}
			if diff := cmp.Diff(tt.wantData, j.Data); diff != "" {
				t.Errorf("data (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff(tt.wantWindow, j.Window); diff != "" {
				t.Errorf("window (-want +got):\n%s", diff)
			}
			if tt.wantRanges != nil {
				got := append([]rangeCall(nil), f.ranges...)
				if len(got) == 2 && got[0].Query != tt.wantRanges[0].Query {
					got[0], got[1] = got[1], got[0]
				}
				if diff := cmp.Diff(tt.wantRanges, got); diff != "" {
					t.Errorf("range queries (-want +got):\n%s", diff)
				}
			}
		})
	}
}

var inf = math.Inf(1)

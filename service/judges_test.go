package service_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/analysis/judges"
	"github.com/augurproj/augur/engine"
	"github.com/augurproj/augur/metrics"
	"github.com/augurproj/augur/service"
)

// ranged answers range queries with one series per query, by query text.
type ranged struct {
	mu     sync.Mutex
	series map[string][]float64
	starts []time.Time
}

func (r *ranged) Query(context.Context, string, time.Time) (float64, error) { return 1, nil }

func (r *ranged) QueryRange(_ context.Context, q string, start, _ time.Time, _ time.Duration) ([]metrics.Series, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.starts = append(r.starts, start)
	vs, ok := r.series[q]
	if !ok {
		return []metrics.Series{}, nil
	}
	s := metrics.Series{Labels: map[string]string{}}
	for i, v := range vs {
		s.Samples = append(s.Samples, metrics.Sample{T: start.Add(time.Duration(i) * time.Minute), V: v})
	}
	return []metrics.Series{s}, nil
}

func judgedService(t *testing.T, p metrics.Provider) *service.Service {
	t.Helper()
	reg := &metrics.Registry{}
	reg.Register("prometheus", func(metrics.Config) (metrics.Provider, error) { return p, nil })
	eng, err := engine.New(engine.Options{Registry: reg})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := service.New(service.Options{Engine: eng, Now: func() time.Time { return time.Unix(1e9, 0) }})
	if err != nil {
		t.Fatal(err)
	}
	return svc
}

func slowCanary() *ranged {
	return &ranged{series: map[string][]float64{
		`lat{app="podinfo"}`:         {130, 131, 132, 133, 134, 135, 136, 137, 138, 139},
		`lat{app="podinfo-primary"}`: {100, 101, 102, 103, 104, 105, 106, 107, 108, 109},
	}}
}

func latencyCanary() analysis.Canary {
	c := canary()
	c.Spec.Analysis.Metrics = append(c.Spec.Analysis.Metrics, analysis.Metric{Name: "latency", Query: `lat{app="{{ target }}"}`,
		ThresholdRange: &analysis.ThresholdRange{Max: ptr(1000.0)}})
	return c
}

// TestDecideJudges: a request's judges judge a metric against the primary;
// the decision carries the judgement and the score.
func TestDecideJudges(t *testing.T) {
	svc := judgedService(t, slowCanary())
	st := analysis.CanaryStatus{Phase: analysis.PhaseProgressing, CanaryWeight: 10}
	at := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	one := 1.0
	req := service.DecideRequest{Canary: latencyCanary(), Status: st, At: &at, Webhooks: service.WebhooksPass,
		Values: map[string]engine.Value{"errors": {Value: &one}},
		Judges: map[string]map[string]string{"latency": {"judge": "mann-whitney", "direction": "increase"}},
		Score:  map[string]string{"pass": "90"}}
	d, err := svc.Decide(context.Background(), req)
	if err != nil {
		t.Fatal(err)
	}
	if d.Action != analysis.ActionHold || d.Status.FailedChecks != 1 || len(d.Checks) != 2 {
		t.Fatalf("action %s, failed checks %d, %d checks; want a hold counting the judged failure", d.Action, d.Status.FailedChecks, len(d.Checks))
	}
	j := d.Checks[1].Judgement
	if j == nil || j.Classification != judges.ClassHigh || j.Explanation.Canary.Count != 10 || j.Explanation.PValue == nil {
		t.Fatalf("judgement %+v", j)
	}
	if d.Score == nil || d.Score.Pass != 90 || d.Score.Classification != judges.ScoreFail {
		t.Errorf("score %+v, want Fail with pass 90", d.Score)
	}
	if d.Status.AnalysisStart != at.Format(time.RFC3339Nano) {
		t.Errorf("analysisStart %q, want the tick's time", d.Status.AnalysisStart)
	}

	// judge: threshold turns it off again.
	req.Judges = map[string]map[string]string{"latency": {"judge": "threshold"}}
	if d, err = svc.Decide(context.Background(), req); err != nil || d.Action != analysis.ActionAdvance {
		t.Errorf("judge threshold: action %s, err %v; want advance", d.Action, err)
	}
}

func TestJudgesBadRequests(t *testing.T) {
	svc := judgedService(t, slowCanary())
	ctx := context.Background()
	annotated := latencyCanary()
	annotated.Metadata.Annotations = map[string]string{"judge.augur.dev/latency": "judge=histogramm"}
	tests := []struct {
		name string
		req  service.DecideRequest
		want string
	}{
		{"unknown metric", service.DecideRequest{Canary: latencyCanary(), Judges: map[string]map[string]string{"latncy": {}}},
			`judges: the canary has no metric "latncy"`},
		{"unknown key", service.DecideRequest{Canary: latencyCanary(), Judges: map[string]map[string]string{"latency": {"alfa": "0.1"}}},
			`key "alfa": unknown key`},
		{"bad value", service.DecideRequest{Canary: latencyCanary(), Judges: map[string]map[string]string{"latency": {"window": "soon"}}},
			`key "window": value "soon"`},
		{"bad annotation", service.DecideRequest{Canary: annotated}, `key "judge": value "histogramm"`},
		{"bad score", service.DecideRequest{Canary: latencyCanary(), Score: map[string]string{"pass": "101"}}, `key "pass": value 101`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := svc.Decide(ctx, tt.req)
			if !errors.Is(err, service.ErrBadRequest) || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("err = %v, want a bad request containing %q", err, tt.want)
			}
		})
	}
	if _, err := svc.Query(ctx, service.QueryRequest{Canary: latencyCanary(), Judges: map[string]map[string]string{"x": {}}}); !errors.Is(err, service.ErrBadRequest) {
		t.Errorf("query with judges for an unknown metric: %v", err)
	}
}

func TestQueryJudges(t *testing.T) {
	p := slowCanary()
	svc := judgedService(t, p)
	at := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	start := at.Add(-7 * time.Minute)
	c := latencyCanary()
	c.Metadata.Annotations = map[string]string{"judge.augur.dev/errors": "judge=histogram"} // not evaluated below
	resp, err := svc.Query(context.Background(), service.QueryRequest{Canary: c, At: &at, AnalysisStart: &start,
		Metric: &c.Spec.Analysis.Metrics[1], Judges: map[string]map[string]string{"latency": {"judge": "sequential", "tau": "1"}}})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Checks) != 1 || resp.Checks[0].Judgement == nil {
		t.Fatalf("checks %+v", resp.Checks)
	}
	j := resp.Checks[0].Judgement
	if j.Judge != judges.KindSequential || !j.Window.Cumulative || !j.Window.Start.Equal(start) || !j.Window.End.Equal(at) {
		t.Errorf("judge %s window %+v; want sequential from %s to %s", j.Judge, j.Window, start, at)
	}
	for _, s := range p.starts {
		if !s.Equal(start.Add(time.Minute)) {
			t.Errorf("range query from %s, want %s (one step after the analysis start)", s, start.Add(time.Minute))
		}
	}
}

func ptr[T any](v T) *T { return &v }

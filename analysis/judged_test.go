package analysis

import (
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/augurproj/augur/analysis/judges"
)

// Samples of a canary clearly slower than its baseline, and of two equal sides.
var (
	slowCanary = judges.Series{130, 131, 132, 133, 134, 135, 136, 137, 138, 139}
	baseline   = judges.Series{100, 101, 102, 103, 104, 105, 106, 107, 108, 109}
)

func judgedObs(metric string, kind MetricKind, value float64, tr *ThresholdRange, j *Judged) Observation {
	return Observation{Metric: metric, Kind: kind, Observer: "istio", Value: value, ThresholdRange: tr, Judged: j}
}

func samples(cfg judges.Config, canary, base judges.Series) *Judged {
	return &Judged{Config: cfg, Data: judges.Input{Canary: judges.Data{Samples: canary}, Baseline: judges.Data{Samples: base}},
		Window:  JudgeWindow{Start: tick0.Add(-10 * time.Minute), End: tick0, Step: "1m"},
		Queries: []JudgeQuery{{Side: SideCanary, Role: RoleSamples, Query: "q"}, {Side: SideBaseline, Role: RoleSamples, Query: "qb"}}}
}

func TestCheckObservationJudged(t *testing.T) {
	max500 := &ThresholdRange{Max: fp(500)}
	tests := []struct {
		name             string
		obs              Observation
		passed, inconcl  bool
		classification   judges.Classification
		value            *float64
		reason, errorTxt string
	}{
		{"threshold and judge pass", judgedObs("lat", KindTemplate, 120, max500, samples(judges.Config{}, baseline, baseline)),
			true, false, judges.ClassPass, fp(120),
			"lat = 120 is within [-Inf, 500] (bounds are inclusive); judged against the primary by mann-whitney on samples, passes: Pass: the canary and baseline samples are identical.", ""},
		{"the judge fails inside the threshold", judgedObs("lat", KindTemplate, 120, max500, samples(judges.Config{}, slowCanary, baseline)),
			false, false, judges.ClassHigh, fp(120),
			"lat = 120 is within [-Inf, 500] (bounds are inclusive); judged against the primary by mann-whitney on samples, fails: High: the 98% interval", ""},
		{"the threshold decides first", judgedObs("lat", KindTemplate, 900, max500, samples(judges.Config{}, baseline, baseline)),
			false, false, judges.ClassPass, fp(900),
			"lat = 900 is above the maximum 500; judged against the primary by mann-whitney on samples, passes", ""},
		{"too few samples: inconclusive", judgedObs("lat", KindTemplate, 120, max500, samples(judges.Config{}, slowCanary[:3], baseline)),
			false, true, judges.ClassNodata, fp(120),
			"judged against the primary by mann-whitney on samples, is inconclusive: Nodata: the canary has 3 and the baseline 10 samples, fewer than minPoints 5 per side.", ""},
		{"a critical metric without data fails", judgedObs("lat", KindTemplate, 120, max500, samples(judges.Config{Critical: true}, nil, baseline)),
			false, false, judges.ClassNodata, fp(120),
			"fails (a critical metric): Nodata: the canary has no samples. The metric is critical, so this fails the whole analysis.", ""},
		{"judge only: no threshold, no value", judgedObs("lat", KindTemplate, 0, nil, samples(judges.Config{}, slowCanary, baseline)),
			false, false, judges.ClassHigh, nil,
			"lat judged against the primary by mann-whitney on samples, fails: High", ""},
		{"data that could not be fetched fails", judgedObs("lat", KindTemplate, 120, max500, &Judged{Config: judges.Config{Judge: judges.KindHistogram},
			Err: &ObservationError{Kind: ErrKindProvider, Message: "no range queries"}}),
			false, false, judges.ClassError, fp(120),
			"judged against the primary by histogram, fails: the data could not be fetched (provider): no range queries", "no range queries"},
		{"counts", judgedObs(MetricRequestSuccessRate, KindSuccessRate, 99.9, &ThresholdRange{Min: fp(99)}, &Judged{
			Config: judges.Config{Judge: judges.KindErrorRate},
			Data: judges.Input{Canary: judges.Data{Counts: &judges.Counts{Requests: 5000, Errors: 150}},
				Baseline: judges.Data{Counts: &judges.Counts{Requests: 5000, Errors: 20}}}}),
			false, false, judges.ClassHigh, fp(99.9), "by error-rate on counts, fails: High", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := CheckObservation(tt.obs)
			if c.Passed != tt.passed || c.Inconclusive != tt.inconcl {
				t.Errorf("passed %v inconclusive %v, want %v %v (%s)", c.Passed, c.Inconclusive, tt.passed, tt.inconcl, c.Reason)
			}
			if c.Judgement == nil {
				t.Fatal("no judgement")
			}
			if c.Judgement.Classification != tt.classification || c.Judgement.Metric != tt.obs.Metric {
				t.Errorf("judgement %s of %q, want %s", c.Judgement.Classification, c.Judgement.Metric, tt.classification)
			}
			if tt.obs.Judged.Err == nil && (c.Judgement.Window != tt.obs.Judged.Window || len(c.Judgement.Queries) != len(tt.obs.Judged.Queries)) {
				t.Errorf("window %+v and queries %v not copied", c.Judgement.Window, c.Judgement.Queries)
			}
			if diff := cmp.Diff(tt.value, c.Value); diff != "" {
				t.Errorf("value (-want +got):\n%s", diff)
			}
			if !strings.Contains(c.Reason, tt.reason) {
				t.Errorf("reason %q does not contain %q", c.Reason, tt.reason)
			}
			if c.Error != tt.errorTxt {
				t.Errorf("error %q, want %q", c.Error, tt.errorTxt)
			}
		})
	}
}

// TestStepJudged runs ticks whose metrics are judged: a failing judge is a
// failed check with augur's event, an inconclusive one holds without
// counting, passing ones let the canary advance; the score is reported.
func TestStepJudged(t *testing.T) {
	max500 := &ThresholdRange{Max: fp(500)}
	min99 := &ThresholdRange{Min: fp(99)}
	passing := func() Observation {
		return judgedObs(MetricRequestSuccessRate, KindSuccessRate, 99.9, min99, samples(judges.Config{Group: "errors"}, baseline, baseline))
	}
	tests := []struct {
		name       string
		duration   Observation
		action     Action
		failed     int
		weight     int
		event      Event
		score      judges.ScoreClass
		wantReason string
	}{
		{"both pass", judgedObs(MetricRequestDuration, KindDuration, 120, max500, samples(judges.Config{Group: "latency"}, baseline, baseline)),
			ActionAdvance, 1, 30, nev("Advance podinfo.test canary weight 30"), judges.ScorePass,
			"Score of the judged metrics (reported, not decisive): Pass: the score 100 is at least pass 95."},
		{"the judge fails", judgedObs(MetricRequestDuration, KindDuration, 120, max500, samples(judges.Config{Group: "latency"}, slowCanary, baseline)),
			ActionHold, 2, 20, wev("Halt podinfo.test advancement request-duration judged against podinfo-primary.test by mann-whitney: High: the 98% interval"),
			judges.ScoreMarginal, "Failed check: 1 of 2 metric checks failed"},
		{"inconclusive", judgedObs(MetricRequestDuration, KindDuration, 120, max500, samples(judges.Config{Group: "latency"}, slowCanary[:2], baseline)),
			ActionHold, 1, 20, nev("Halt podinfo.test advancement judged metric request-duration inconclusive against podinfo-primary.test: waiting for more data"),
			judges.ScoreFail, "1 of 2 metric checks are inconclusive (request-duration = 120ms is within [-Inf, 500ms] (bounds are inclusive); judged against the primary by mann-whitney on samples, is inconclusive: Nodata"},
		{"the threshold fails first: Flagger's event", judgedObs(MetricRequestDuration, KindDuration, 812, max500, samples(judges.Config{}, slowCanary, baseline)),
			ActionHold, 2, 20, wev("Halt podinfo.test advancement request duration 812ms > 500ms"), judges.ScoreMarginal, "Failed check"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := podinfo()
			in := Input{Canary: c, Now: tick0, Status: CanaryStatus{Phase: PhaseProgressing, CanaryWeight: 20, FailedChecks: 1},
				Score: judges.ScoreConfig{Marginal: fp(50)}}
			obs := []Observation{passing(), tt.duration}
			d, _ := drive(t, in, func(n Need) Answer {
				if n.Metrics {
					return Answer{Metrics: obs}
				}
				return Answer{Hooks: []HookResult{{Name: "load-test", Type: HookRollout}}}
			})
			if d.Action != tt.action || d.Status.FailedChecks != tt.failed || d.Status.CanaryWeight != tt.weight {
				t.Fatalf("action %s, failed checks %d, weight %d; want %s, %d, %d (reasons %q)", d.Action, d.Status.FailedChecks,
					d.Status.CanaryWeight, tt.action, tt.failed, tt.weight, d.Reasons)
			}
			if len(d.Events) != 1 || d.Events[0].Type != tt.event.Type || !strings.HasPrefix(d.Events[0].Message, tt.event.Message) {
				t.Errorf("events %q, want one starting %q", d.Events, tt.event)
			}
			if d.Score == nil || d.Score.Classification != tt.score || d.Score.Marginal != 50 {
				t.Errorf("score %+v, want %s with marginal 50", d.Score, tt.score)
			}
			if !strings.Contains(strings.Join(d.Reasons, "\n"), tt.wantReason) {
				t.Errorf("reasons %q do not contain %q", d.Reasons, tt.wantReason)
			}
			for _, ch := range d.Checks {
				if ch.Judgement == nil {
					t.Errorf("check %s has no judgement", ch.Metric)
				}
			}
		})
	}
}

func TestAnalysisStart(t *testing.T) {
	earlier := "2026-03-01T11:00:00Z"
	now := tick0.Format(time.RFC3339Nano)
	tests := []struct {
		name  string
		in    func(in *Input)
		want  string
		phase Phase
	}{
		{"a new revision starts the analysis", func(in *Input) { in.Status = CanaryStatus{Phase: PhaseSucceeded}; in.NewRevision = true },
			now, PhaseProgressing},
		{"a running analysis keeps its start", func(in *Input) {
			in.Status = CanaryStatus{Phase: PhaseProgressing, CanaryWeight: 10, AnalysisStart: earlier}
		}, earlier, PhaseProgressing},
		{"a status without a start gets this tick", func(in *Input) { in.Status = CanaryStatus{Phase: PhaseProgressing, CanaryWeight: 10} },
			now, PhaseProgressing},
		{"a restart resets it", func(in *Input) {
			in.Status = CanaryStatus{Phase: PhaseProgressing, CanaryWeight: 30, AnalysisStart: earlier}
			in.NewRevision = true
		}, now, PhaseProgressing},
		{"promotion clears it", func(in *Input) {
			in.Status = CanaryStatus{Phase: PhaseProgressing, CanaryWeight: 50, AnalysisStart: earlier}
		}, "", PhasePromoting},
		{"a rollback clears it", func(in *Input) {
			in.Status = CanaryStatus{Phase: PhaseProgressing, CanaryWeight: 20, FailedChecks: 5, AnalysisStart: earlier}
		}, "", PhaseFailed},
		{"waiting for promotion keeps it", func(in *Input) {
			in.Canary.Spec.Analysis.Webhooks = append(in.Canary.Spec.Analysis.Webhooks, Webhook{Name: "gate", Type: HookConfirmPromotion})
			in.Status = CanaryStatus{Phase: PhaseProgressing, CanaryWeight: 50, AnalysisStart: earlier}
		}, earlier, PhaseWaitingPromotion},
		{"no clock, no start", func(in *Input) {
			in.Now = time.Time{}
			in.Status = CanaryStatus{Phase: PhaseProgressing, CanaryWeight: 10}
		},
			"", PhaseProgressing},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := podinfo()
			in := Input{Canary: c, Now: tick0}
			tt.in(&in)
			w := newWorld(&in.Canary)
			w.fail["gate"] = "403 Forbidden"
			d, _ := drive(t, in, w.answer)
			if d.Status.Phase != tt.phase || d.Status.AnalysisStart != tt.want {
				t.Errorf("phase %s, analysisStart %q; want %s, %q (reasons %q)", d.Status.Phase, d.Status.AnalysisStart, tt.phase, tt.want, d.Reasons)
			}
		})
	}
	// A malformed input changes nothing, not even an unset start.
	in := Input{Canary: podinfo(), Now: tick0, Status: CanaryStatus{Phase: PhaseProgressing, CanaryWeight: 10},
		Metrics: []Observation{{Metric: "nope", Kind: KindQuery}}, MetricsGathered: true,
		Hooks: map[HookType][]HookResult{HookRollback: {}, HookRollout: {{Name: "load-test", Type: HookRollout}}}}
	d := Step(in).Decision
	if d == nil || d.Status.AnalysisStart != "" || !strings.HasPrefix(d.Reasons[0], "Malformed input") {
		t.Errorf("malformed input: %+v", d)
	}
}

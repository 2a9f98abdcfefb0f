package analysis

import (
	"math/rand/v2"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
)

func TestStepHookResults(t *testing.T) {
	c := podinfo()
	c.Spec.Analysis.Webhooks = append(c.Spec.Analysis.Webhooks,
		Webhook{Name: "load-test-2", URL: "http://x/", Type: HookRollout},
		Webhook{Name: "rb1", Type: HookRollback, URL: "http://x/"},
		Webhook{Name: "rb2", Type: HookRollback, URL: "http://x/"})
	status := CanaryStatus{Phase: PhaseProgressing, CanaryWeight: 10, FailedChecks: 1}
	obs := observe(&c, map[string]float64{MetricRequestSuccessRate: 100, MetricRequestDuration: 10}, nil)
	noSignal := []HookResult{{Name: "rb1", Err: "403"}, {Name: "rb2", Err: "403"}}
	tests := []struct {
		name       string
		hooks      map[HookType][]HookResult
		wantAction Action
		wantFailed int
		wantHooks  []HookResult
		wantReason string
	}{
		{
			name:       "every hook passed",
			hooks:      map[HookType][]HookResult{HookRollback: noSignal, HookRollout: {{Name: "load-test"}, {Name: "load-test-2"}}},
			wantAction: ActionAdvance, wantFailed: 1,
			wantHooks: []HookResult{{Name: "rb1", Type: HookRollback, Err: "403"}, {Name: "rb2", Type: HookRollback, Err: "403"},
				{Name: "load-test", Type: HookRollout}, {Name: "load-test-2", Type: HookRollout}},
			wantReason: "weight goes from 10% to 20%",
		},
		{
			name:       "results after the first failure are ignored",
			hooks:      map[HookType][]HookResult{HookRollback: noSignal, HookRollout: {{Name: "load-test", Err: "500"}, {Name: "load-test-2"}}},
			wantAction: ActionHold, wantFailed: 2,
			wantHooks: []HookResult{{Name: "rb1", Type: HookRollback, Err: "403"}, {Name: "rb2", Type: HookRollback, Err: "403"},
				{Name: "load-test", Type: HookRollout, Err: "500"}},
			wantReason: "rollout hook load-test failed: 500",
		},
		{
			name:       "the empty hook type key answers rollout hooks",
			hooks:      map[HookType][]HookResult{HookRollback: noSignal, "": {{Name: "load-test"}, {Name: "load-test-2"}}},
			wantAction: ActionAdvance, wantFailed: 1,
			wantHooks: []HookResult{{Name: "rb1", Type: HookRollback, Err: "403"}, {Name: "rb2", Type: HookRollback, Err: "403"},
				{Name: "load-test", Type: HookRollout}, {Name: "load-test-2", Type: HookRollout}},
			wantReason: "weight goes from 10% to 20%",
		},
		{
			name:       "rollback results stop at the first signal",
			hooks:      map[HookType][]HookResult{HookRollback: {{Name: "rb1"}, {Name: "rb2", Err: "403"}}},
			wantAction: ActionRollback, wantFailed: 0,
			wantHooks:  []HookResult{{Name: "rb1", Type: HookRollback}},
			wantReason: "rollback hook rb1 signalled",
		},
		{
			name:       "missing results are a malformed input",
			hooks:      map[HookType][]HookResult{HookRollback: noSignal, HookRollout: {{Name: "load-test"}}},
			wantAction: ActionHold, wantFailed: 1,
			wantHooks:  []HookResult{{Name: "rb1", Type: HookRollback, Err: "403"}, {Name: "rb2", Type: HookRollback, Err: "403"}},
			wantReason: "Malformed input",
		},
		{
			name:       "results for other hooks are a malformed input",
			hooks:      map[HookType][]HookResult{HookRollback: noSignal, HookRollout: {{Name: "smoke"}, {Name: "load-test-2"}}},
			wantAction: ActionHold, wantFailed: 1,
			wantHooks:  []HookResult{{Name: "rb1", Type: HookRollback, Err: "403"}, {Name: "rb2", Type: HookRollback, Err: "403"}},
			wantReason: `is for "smoke" but the spec's hook 1 is "load-test"`,
		},
		{
			name:       "an empty result list for configured rollback hooks is a malformed input",
			hooks:      map[HookType][]HookResult{HookRollback: {}},
			wantAction: ActionHold, wantFailed: 1,
			wantReason: "Malformed input",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			in := Input{Canary: c, Status: status, Hooks: tt.hooks, Metrics: obs, MetricsGathered: true, Now: tick0}
			r := Step(in)
			if r.Decision == nil {
				t.Fatalf("Step asked for %+v, want a decision", r.Need)
			}
			d := r.Decision
			if d.Action != tt.wantAction || d.Status.FailedChecks != tt.wantFailed {
				t.Errorf("action %s, failed checks %d; want %s, %d (reasons %q)", d.Action, d.Status.FailedChecks, tt.wantAction, tt.wantFailed, d.Reasons)
			}
			if diff := cmp.Diff(tt.wantHooks, d.Hooks, cmpopts.EquateEmpty()); diff != "" {
				t.Errorf("hooks (-want +got):\n%s", diff)
			}
			if !strings.Contains(strings.Join(d.Reasons, " "), tt.wantReason) {
				t.Errorf("reasons %q do not mention %q", d.Reasons, tt.wantReason)
			}
			if strings.Contains(tt.wantReason, "Malformed") || strings.Contains(tt.wantReason, "smoke") {
				if diff := cmp.Diff(status, d.Status); diff != "" || len(d.Events) != 0 {
					t.Errorf("malformed input changed the status (%s) or recorded events %v", diff, d.Events)
				}
			}
		})
	}
}

func TestStepMalformedMetrics(t *testing.T) {
	c := podinfo()
	notFoundMetric(&c)
	status := CanaryStatus{Phase: PhaseProgressing, CanaryWeight: 20, FailedChecks: 2, LastTransitionTime: "2026-01-01T00:00:00Z"}
	hooks := map[HookType][]HookResult{HookRollout: {{Name: "load-test"}}}
	good := observe(&c, map[string]float64{MetricRequestSuccessRate: 100, MetricRequestDuration: 10}, nil)
	tests := []struct {
		name    string
		metrics []Observation
		reason  string
	}{
		{"gathered but empty", nil, "request-success-rate has no observation"},
		{"a metric is missing", good[:2], "not-found-percentage has no observation"},
		{"an unknown metric", append(append([]Observation{}, good...), Observation{Metric: "extra", Kind: KindQuery}), `"extra" names no metric`},
		{"an unknown kind", []Observation{good[0], good[1], {Metric: "not-found-percentage", Kind: "latency"}}, `unknown kind "latency"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := Step(Input{Canary: c, Status: status, Hooks: hooks, Metrics: tt.metrics, MetricsGathered: true, Now: tick0})
			if r.Decision == nil {
				t.Fatalf("Step asked for %+v", r.Need)
			}
			d := r.Decision
			want := Decision{Action: ActionHold, Status: status, Events: []Event{}, Checks: []Check{}, Weights: w(80, 20),
				Hooks: []HookResult{{Name: "load-test", Type: HookRollout}}}
			if diff := cmp.Diff(want, *d, cmpopts.IgnoreFields(Decision{}, "Reasons")); diff != "" {
				t.Errorf("decision (-want +got):\n%s", diff)
			}
			if len(d.Reasons) != 1 || !strings.Contains(d.Reasons[0], tt.reason) || !strings.HasPrefix(d.Reasons[0], "Malformed input") {
				t.Errorf("reasons %q, want one malformed-input reason mentioning %q", d.Reasons, tt.reason)
			}
		})
	}
}

// TestStepMetricEvents pins Flagger's event text for each way a metric
// fails, one metric at a time.
func TestStepMetricEvents(t *testing.T) {
	tmpl := &CrossNamespaceObjectReference{Name: "nf", Namespace: "istio-system"}
	tests := []struct {
		name   string
		metric Metric
		obs    Observation
		server string
		want   string
	}{
		{"success rate below min", Metric{Name: MetricRequestSuccessRate},
			Observation{Kind: KindSuccessRate, Value: 97.456, ThresholdRange: rng(fp(99.5), nil)}, "",
			"Halt podinfo.test advancement success rate 97.46% < 99.5%"},
		{"success rate above max", Metric{Name: MetricRequestSuccessRate},
			Observation{Kind: KindSuccessRate, Value: 100, ThresholdRange: rng(nil, fp(99))}, "",
			"Halt podinfo.test advancement success rate 100.00% > 99%"},
		{"success rate under the deprecated threshold", Metric{Name: MetricRequestSuccessRate},
			Observation{Kind: KindSuccessRate, Value: 90, Threshold: 99}, "",
			"Halt podinfo.test advancement success rate 90.00% < 99%"},
		{"duration below min", Metric{Name: MetricRequestDuration},
			Observation{Kind: KindDuration, Value: 4.7, ThresholdRange: rng(fp(10), nil)}, "",
			"Halt podinfo.test advancement request duration 4ms < 10ms"},
		{"duration above the deprecated threshold", Metric{Name: MetricRequestDuration},
			Observation{Kind: KindDuration, Value: 1500, Threshold: 500}, "",
			"Halt podinfo.test advancement request duration 1.5s > 500ms"},
		{"query below min", Metric{Name: "errors", Query: "sum(x)"},
			Observation{Kind: KindQuery, Value: 1, ThresholdRange: rng(fp(2.5), nil)}, "",
			"Halt podinfo.test advancement errors 1.00 < 2.5"},
		{"query above the deprecated threshold", Metric{Name: "errors", Query: "sum(x)"},
			Observation{Kind: KindQuery, Value: 12.345, Threshold: 10}, "",
			"Halt podinfo.test advancement errors 12.35 > 10"},
		{"success rate without values", Metric{Name: MetricRequestSuccessRate},
			Observation{Kind: KindSuccessRate, Observer: "linkerd", Err: &ObservationError{Kind: ErrKindNoValues, Message: "running query failed: no values found"}}, "",
			"Halt advancement no values found for linkerd metric request-success-rate probably podinfo.test is not receiving traffic: running query failed: no values found"},
		{"duration without values", Metric{Name: MetricRequestDuration},
			Observation{Kind: KindDuration, Observer: "istio", Err: &ObservationError{Kind: ErrKindNoValues, Message: "no values found"}}, "",
			"Halt advancement no values found for istio metric request-duration probably podinfo.test is not receiving traffic"},
		{"builtin query error", Metric{Name: MetricRequestDuration},
			Observation{Kind: KindDuration, Err: &ObservationError{Kind: ErrKindQuery, Message: "running query failed: error response: Status 400"}}, "",
			"Prometheus query failed: running query failed: error response: Status 400"},
		{"builtin provider error with spec.metricsServer", Metric{Name: MetricRequestSuccessRate},
			Observation{Kind: KindSuccessRate, Err: &ObservationError{Kind: ErrKindProvider, Message: "address is not a valid URL"}}, "::bad",
			"Error building Prometheus client for ::bad address is not a valid URL"},
		{"inline query without values", Metric{Name: "errors", Query: "sum(x)"},
			Observation{Kind: KindQuery, Err: &ObservationError{Kind: ErrKindNoValues, Message: "no values found"}}, "",
			"Halt advancement no values found for metric: errors"},
		{"inline query error", Metric{Name: "errors", Query: "sum(x)"},
			Observation{Kind: KindQuery, Err: &ObservationError{Kind: ErrKindMultipleValues, Message: "query returned multiple values"}}, "",
			"Prometheus query failed for errors: query returned multiple values"},
		{"template above max", Metric{Name: "nf", TemplateRef: tmpl},
			Observation{Kind: KindTemplate, Value: 5.001, ThresholdRange: rng(nil, fp(5))}, "",
			"Halt podinfo.test advancement nf 5.00 > 5"},
		{"template without values", Metric{Name: "nf", TemplateRef: tmpl},
			Observation{Kind: KindTemplate, Err: &ObservationError{Kind: ErrKindNoValues, Message: "no values found"}}, "",
			"Halt advancement no values found for custom metric: nf: no values found"},
		{"template query error", Metric{Name: "nf", TemplateRef: tmpl},
			Observation{Kind: KindTemplate, Err: &ObservationError{Kind: ErrKindQuery, Message: "context deadline exceeded"}}, "",
			"Metric query failed for nf: context deadline exceeded"},
		{"template missing", Metric{Name: "nf", TemplateRef: tmpl},
			Observation{Kind: KindTemplate, Template: "nf.istio-system", Err: &ObservationError{Kind: ErrKindTemplate, Message: `metrictemplate.flagger.app "nf" not found`}}, "",
			`Metric template nf.istio-system error: metrictemplate.flagger.app "nf" not found`},
		{"template secret", Metric{Name: "nf", TemplateRef: tmpl},
			Observation{Kind: KindTemplate, Template: "nf.istio-system", Secret: "prom-auth", Err: &ObservationError{Kind: ErrKindSecret, Message: `secrets "prom-auth" not found`}}, "",
			`Metric template nf.istio-system secret prom-auth error: secrets "prom-auth" not found`},
		{"template provider", Metric{Name: "nf", TemplateRef: tmpl},
			Observation{Kind: KindTemplate, Template: "nf.istio-system", ProviderType: "datadog", Err: &ObservationError{Kind: ErrKindProvider, Message: "datadog_api_key missing"}}, "",
			"Metric template nf.istio-system provider datadog error: datadog_api_key missing"},
		{"template render", Metric{Name: "nf", TemplateRef: tmpl},
			Observation{Kind: KindTemplate, Template: "nf.istio-system", Err: &ObservationError{Kind: ErrKindRender, Message: `map has no entry for key "cluster"`}}, "",
			`Metric template nf.istio-system query render error: map has no entry for key "cluster"`},
		{"metric with neither builtin name, query nor template", Metric{Name: "mystery"},
			Observation{Kind: KindTemplate, Err: &ObservationError{Kind: ErrKindNoMetric, Message: "no usable metrics template and query were configured"}}, "",
			"Metric query failed for no usable metrics template and query were configured"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := podinfo()
			c.Spec.MetricsServer = tt.server
			c.Spec.Analysis.Metrics = []Metric{tt.metric}
			tt.obs.Metric = tt.metric.Name
			in := Input{
				Canary: c, Status: CanaryStatus{Phase: PhaseProgressing, CanaryWeight: 10},
				Hooks:   map[HookType][]HookResult{HookRollout: {{Name: "load-test"}}},
				Metrics: []Observation{tt.obs}, MetricsGathered: true,
			}
			r := Step(in)
			if r.Decision == nil {
				t.Fatalf("Step asked for %+v", r.Need)
			}
			d := r.Decision
			want := []Event{wev(tt.want)}
			if diff := cmp.Diff(want, withoutPhases(d.Events)); diff != "" {
				t.Errorf("events (-want +got):\n%s", diff)
			}
			if d.Action != ActionHold || d.Status.FailedChecks != 1 || d.Status.CanaryWeight != 10 {
				t.Errorf("action %s failedChecks %d weight %d, want hold, 1, 10", d.Action, d.Status.FailedChecks, d.Status.CanaryWeight)
			}
			if len(d.Checks) != 1 || d.Checks[0].Passed {
				t.Errorf("checks %+v, want one failed check", d.Checks)
			}
		})
	}
}

// TestStepEvaluatesEveryMetric: all observations become checks even though
// only the first failure (in Flagger's order) makes the event.
func TestStepEvaluatesEveryMetric(t *testing.T) {
	c := podinfo()
	notFoundMetric(&c)
	obs := observe(&c, map[string]float64{MetricRequestSuccessRate: 98, MetricRequestDuration: 800, "not-found-percentage": 1}, nil)
	r := Step(Input{Canary: c, Status: CanaryStatus{Phase: PhaseProgressing, CanaryWeight: 10},
		Hooks: map[HookType][]HookResult{HookRollout: {{Name: "load-test"}}}, Metrics: obs, MetricsGathered: true})
	d := r.Decision
	if d == nil {
		t.Fatalf("Step asked for %+v", r.Need)
	}
	var passed []bool
	for _, ch := range d.Checks {
		passed = append(passed, ch.Passed)
	}
	if diff := cmp.Diff([]bool{false, false, true}, passed); diff != "" {
		t.Errorf("check verdicts (-want +got):\n%s", diff)
	}
	if diff := cmp.Diff([]string{"Halt podinfo.test advancement success rate 98.00% < 99%"}, messages(d.Events)); diff != "" {
		t.Errorf("events (-want +got):\n%s", diff)
	}
	if !strings.Contains(strings.Join(d.Reasons, " "), "2 of 3 metric checks failed") {
		t.Errorf("reasons %q do not count the failures", d.Reasons)
	}
}

func TestStepIsDeterministic(t *testing.T) {
	c := podinfo()
	notFoundMetric(&c)
	in := Input{Canary: c, Status: CanaryStatus{Phase: PhaseProgressing, CanaryWeight: 10}, Now: tick0,
		Hooks:   map[HookType][]HookResult{HookRollout: {{Name: "load-test"}}},
		Metrics: observe(&c, map[string]float64{MetricRequestSuccessRate: 98, MetricRequestDuration: 800, "not-found-percentage": 9}, nil), MetricsGathered: true}
	first := Step(in)
	for range 20 {
		if diff := cmp.Diff(first, Step(in)); diff != "" {
			t.Fatalf("Step is not deterministic (-first +again):\n%s", diff)
		}
	}
}

func TestRun(t *testing.T) {
	c := podinfo()
	c.Spec.Analysis.Webhooks = append(c.Spec.Analysis.Webhooks, Webhook{Name: "cti", Type: HookConfirmTrafficIncrease, URL: "http://x/"})
	in := Input{Canary: c, Status: CanaryStatus{Phase: PhaseProgressing, CanaryWeight: 10}, Hooks: map[HookType][]HookResult{}}
	var asked []Need
	d := Run(in, func(n Need) Answer {
		asked = append(asked, n)
		switch {
		case n.Metrics:
			return Answer{Metrics: observe(&c, map[string]float64{MetricRequestSuccessRate: 100, MetricRequestDuration: 1}, nil)}
		case n.Hooks == HookRollout:
			return Answer{Hooks: []HookResult{{Name: "load-test"}}}
		default:
			return Answer{Hooks: []HookResult{{Name: "cti"}}}
		}
	})
	if diff := cmp.Diff([]Need{needRollout, needMetrics, needTraffic}, asked); diff != "" {
		t.Errorf("needs (-want +got):\n%s", diff)
	}
	if d.Action != ActionAdvance || d.Status.CanaryWeight != 20 {
		t.Errorf("Run decided %s at weight %d, want advance to 20", d.Action, d.Status.CanaryWeight)
	}
	if len(in.Hooks) != 0 {
		t.Errorf("Run modified the caller's hook map: %v", in.Hooks)
	}

	// An answer that never satisfies the need (nil hooks for configured
	// hooks) is a malformed input, not a loop.
	d = Run(Input{Canary: c, Status: CanaryStatus{Phase: PhaseProgressing, CanaryWeight: 10}}, func(Need) Answer { return Answer{} })
	if d.Action != ActionHold || !strings.HasPrefix(d.Reasons[0], "Malformed input") {
		t.Errorf("Run with empty answers: %s %q", d.Action, d.Reasons)
	}
}

// needRank is the order in which Flagger's tick consults things.
var needRank = map[Need]int{
	{Providers: true}: 0, needConfirm: 1, needRollback: 2, needPre: 3, needRollout: 3, needMetrics: 4, needTraffic: 5, needPromote: 6,
}

// TestNeedSequencing: over a pseudo-random sample of inputs, Step asks for
// each thing at most once, only for things the spec configures (drive
// checks both), in Flagger's order; and an input that answers everything up
// front gets the same decision in one call, so the protocol is resumable.
func TestNeedSequencing(t *testing.T) {
	r := rand.New(rand.NewPCG(3, 4))
	asked := map[Need]int{}
	for range 3000 {
		data := make([]byte, 96)
		for i := range data {
			data[i] = byte(r.Uint32())
		}
		in, answer := fuzzInput(&bytesrc{b: data})
		d, needs := drive(t, in, answer)
		for i, n := range needs {
			asked[n]++
			if i > 0 && needRank[needs[i-1]] >= needRank[n] {
				t.Fatalf("needs out of Flagger's order: %+v", needs)
			}
		}
		full := in
		full.Hooks = map[HookType][]HookResult{}
		for _, ht := range allHookTypes[1:] {
			if len(configuredHooks(in.Canary.GetAnalysis(), ht)) > 0 {
				full.Hooks[ht] = answer(Need{Hooks: ht}).Hooks
			}
		}
		full.Metrics, full.MetricsGathered = answer(Need{Metrics: true}).Metrics, true
		full.Providers = &ProvidersCheck{}
		res := Step(full)
		if res.Decision == nil {
			t.Fatalf("a fully answered input still needs %+v", res.Need)
		}
		if diff := cmp.Diff(d, *res.Decision); diff != "" {
			t.Fatalf("answering up front changed the decision (-lazy +upfront):\n%s", diff)
		}
	}
	for n := range needRank {
		if asked[n] == 0 {
			t.Errorf("the sample never asked for %+v", n)
		}
	}
}

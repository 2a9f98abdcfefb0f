package engine_test

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/engine"
	"github.com/augurproj/augur/metrics"
	"github.com/augurproj/augur/metrics/metricstest"
	"github.com/augurproj/augur/webhooks"
)

func ptr[T any](v T) *T { return &v }

// canaryWith builds a canary with n inline-query metrics q0..q(n-1), each with max 10.
func canaryWith(n int) analysis.Canary {
	c := analysis.Canary{
		Metadata: analysis.ObjectMeta{Name: "podinfo", Namespace: "test"},
		Spec: analysis.CanarySpec{
			TargetRef: analysis.CrossNamespaceObjectReference{Kind: "Deployment", Name: "podinfo"},
			Analysis:  &analysis.Analysis{Interval: "1m", Threshold: 5, MaxWeight: 50, StepWeight: 10},
		},
	}
	for i := range n {
		c.Spec.Analysis.Metrics = append(c.Spec.Analysis.Metrics, analysis.Metric{
			Name: fmt.Sprintf("m%d", i), Query: fmt.Sprintf("q%d{ns=\"{{ namespace }}\"}", i),
			ThresholdRange: &analysis.ThresholdRange{Max: ptr(10.0)},
		})
	}
	return c
}

func fakeRegistry(p metrics.Provider) *metrics.Registry {
	reg := &metrics.Registry{}
	reg.Register("prometheus", func(metrics.Config) (metrics.Provider, error) { return p, nil })
	return reg
}

func TestEvaluateRunsQueriesConcurrently(t *testing.T) {
	const n = 8
	fake := &metricstest.Provider{Latency: 50 * time.Millisecond}
	fake.SetDefault(metricstest.Result{Value: 1})
	eng, err := engine.New(engine.Options{Registry: fakeRegistry(fake), Concurrency: n})
	if err != nil {
		t.Fatal(err)
	}
	c := canaryWith(n)
	plans, err := eng.Plan(context.Background(), &c)
	if err != nil {
		t.Fatal(err)
	}
	obs := eng.Evaluate(context.Background(), plans, time.Time{})
	if got := fake.MaxInFlight(); got != n {
		t.Errorf("max in-flight queries = %d, want %d (all at once)", got, n)
	}
	for i, o := range obs {
		if want := fmt.Sprintf("m%d", i); o.Metric != want {
			t.Errorf("observation %d is %s, want %s (spec order)", i, o.Metric, want)
		}
		if o.Err != nil || o.Value != 1 {
			t.Errorf("observation %d = %v, %v", i, o.Value, o.Err)
		}
	}
}

func TestEvaluateBoundsConcurrency(t *testing.T) {
	fake := &metricstest.Provider{Latency: 10 * time.Millisecond}
	fake.SetDefault(metricstest.Result{Value: 1})
	eng, _ := engine.New(engine.Options{Registry: fakeRegistry(fake), Concurrency: 3})
	c := canaryWith(12)
	plans, _ := eng.Plan(context.Background(), &c)
	eng.Evaluate(context.Background(), plans, time.Time{})
	if got := fake.MaxInFlight(); got != 3 {
		t.Errorf("max in-flight = %d, want the bound 3", got)
	}
}

func TestEvaluateTimeoutIsAFailedObservation(t *testing.T) {
	fake := &metricstest.Provider{Latency: time.Second}
	fake.SetDefault(metricstest.Result{Value: 1})
	eng, _ := engine.New(engine.Options{Registry: fakeRegistry(fake), QueryTimeout: 20 * time.Millisecond})
	c := canaryWith(1)
	plans, _ := eng.Plan(context.Background(), &c)
	obs := eng.Evaluate(context.Background(), plans, time.Time{})
	if obs[0].Err == nil || obs[0].Err.Kind != analysis.ErrKindQuery || !strings.Contains(obs[0].Err.Message, "timed out after 20ms") {
		t.Fatalf("got %+v, want a query error saying it timed out", obs[0].Err)
	}
}

func TestEvaluateErrorKinds(t *testing.T) {
	tests := []struct {
		name string
		err  error
		want analysis.ErrorKind
	}{
		{"no values", fmt.Errorf("wrapped: %w", metrics.ErrNoValues), analysis.ErrKindNoValues},
		{"multiple values", fmt.Errorf("3 series: %w", metrics.ErrMultipleValues), analysis.ErrKindMultipleValues},
		{"other", errors.New("bad_data: parse error"), analysis.ErrKindQuery},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := &metricstest.Provider{}
			fake.SetDefault(metricstest.Result{Err: tt.err})
			eng, _ := engine.New(engine.Options{Registry: fakeRegistry(fake)})
			c := canaryWith(1)
			plans, _ := eng.Plan(context.Background(), &c)
			obs := eng.Evaluate(context.Background(), plans, time.Time{})
			if obs[0].Err == nil || obs[0].Err.Kind != tt.want {
				t.Fatalf("got %+v, want kind %s", obs[0].Err, tt.want)
			}
		})
	}
}

func TestUnknownProviderTypeIsAnErrorNotPrometheus(t *testing.T) {
	fake := &metricstest.Provider{}
	fake.SetDefault(metricstest.Result{Value: 1})
	c := canaryWith(0)
	c.Spec.Analysis.Metrics = []analysis.Metric{{Name: "dd", Interval: "1m", TemplateRef: &analysis.CrossNamespaceObjectReference{Name: "dd"}}}
	tmpl := analysis.MetricTemplate{Metadata: analysis.ObjectMeta{Name: "dd", Namespace: "test"},
		Spec: analysis.MetricTemplateSpec{Provider: analysis.MetricTemplateProvider{Type: "opentsdb"}, Query: "avg:x{*}"}}
	eng, _ := engine.New(engine.Options{Registry: fakeRegistry(fake), Templates: engine.StaticTemplates{tmpl}})
	plans, _ := eng.Plan(context.Background(), &c)
	obs := eng.Evaluate(context.Background(), plans, time.Time{})
	if obs[0].Err == nil || obs[0].Err.Kind != analysis.ErrKindProvider || !strings.Contains(obs[0].Err.Message, `"opentsdb"`) {
		t.Fatalf("got %+v, want a provider error naming opentsdb", obs[0].Err)
	}
	if len(fake.Calls()) != 0 {
		t.Errorf("the prometheus provider was queried %d times for an opentsdb template", len(fake.Calls()))
	}

	// A vendor template needs the metric's interval (Flagger's constructors
	// refuse an empty one): a provider error, before any query.
	c.Spec.Analysis.Metrics[0].Interval = ""
	tmpl.Spec.Provider.Type = "datadog"
	eng, _ = engine.New(engine.Options{Registry: fakeRegistry(fake), Templates: engine.StaticTemplates{tmpl}})
	plans, _ = eng.Plan(context.Background(), &c)
	obs = eng.Evaluate(context.Background(), plans, time.Time{})
	if obs[0].Err == nil || obs[0].Err.Kind != analysis.ErrKindProvider || !strings.Contains(obs[0].Err.Message, "interval") {
		t.Fatalf("got %+v, want a provider error about the interval", obs[0].Err)
	}

	// graphite's and influxdb's constructors take no interval (their queries
	// carry their range): an empty one is no error and reaches the provider.
	for _, typ := range []string{"graphite", "influxdb"} {
		tmpl.Spec.Provider.Type = typ
		var got metrics.Config
		reg := fakeRegistry(fake)
		reg.Register(typ, func(cfg metrics.Config) (metrics.Provider, error) { got = cfg; return fake, nil })
		eng, _ = engine.New(engine.Options{Registry: reg, Templates: engine.StaticTemplates{tmpl}})
		plans, _ = eng.Plan(context.Background(), &c)
		obs = eng.Evaluate(context.Background(), plans, time.Time{})
		if obs[0].Err != nil || got.Type != typ || got.Interval != 0 {
			t.Errorf("%s without an interval: error %+v, config %+v; want a query", typ, obs[0].Err, got)
		}
	}
}

func TestProvidersAreReusedPerConfiguration(t *testing.T) {
	built := 0
	reg := &metrics.Registry{}
	fake := &metricstest.Provider{}
	fake.SetDefault(metricstest.Result{Value: 1})
	reg.Register("prometheus", func(metrics.Config) (metrics.Provider, error) { built++; return fake, nil })
	eng, _ := engine.New(engine.Options{Registry: reg})
	c := canaryWith(5)
	for range 3 {
		plans, _ := eng.Plan(context.Background(), &c)
		eng.Evaluate(context.Background(), plans, time.Time{})
	}
	if built != 1 {
		t.Errorf("provider built %d times for one configuration over 3 ticks, want 1", built)
	}
}

func TestPlanOrderIsFlaggers(t *testing.T) {
	c := canaryWith(0)
	c.Spec.Analysis.Metrics = []analysis.Metric{
		{Name: "custom", TemplateRef: &analysis.CrossNamespaceObjectReference{Name: "t"}},
		{Name: "request-success-rate"},
		{Name: "inline", Query: "up"},
		{Name: "request-duration", TemplateRef: &analysis.CrossNamespaceObjectReference{Name: "t"}},
	}
	tmpl := analysis.MetricTemplate{Metadata: analysis.ObjectMeta{Name: "t", Namespace: "test"},
		Spec: analysis.MetricTemplateSpec{Provider: analysis.MetricTemplateProvider{Type: "prometheus"}, Query: "vector(1)"}}
	eng, _ := engine.New(engine.Options{Registry: &metrics.Registry{}, Templates: engine.StaticTemplates{tmpl}})
	plans, err := eng.Plan(context.Background(), &c)
	if err != nil {
		t.Fatal(err)
	}
	var got []string
	for _, p := range plans {
		got = append(got, p.Name+"/"+string(p.Kind))
	}
	want := "request-success-rate/request-success-rate inline/query request-duration/request-duration custom/template request-duration/template"
	if strings.Join(got, " ") != want {
		t.Errorf("plan order\n got %s\nwant %s", strings.Join(got, " "), want)
	}
	if plans[0].Interval != "1m" || plans[0].Provider.Address != engine.DefaultMetricsServer {
		t.Errorf("builtin defaults: interval %q address %q", plans[0].Interval, plans[0].Provider.Address)
	}
	if plans[3].Interval != "" {
		t.Errorf("a templateRef metric's interval is passed through as is, got %q", plans[3].Interval)
	}
}

func TestTickCallsOnlyTheHooksTheCoreAsksFor(t *testing.T) {
	var called []string
	hooks := hookFunc(func(_ context.Context, h webhooks.Hook, p webhooks.Payload) error {
		called = append(called, h.Type+"/"+h.Name+"@"+p.Phase)
		return nil
	})
	fake := &metricstest.Provider{}
	fake.SetDefault(metricstest.Result{Value: 1})
	eng, _ := engine.New(engine.Options{Registry: fakeRegistry(fake), Hooks: hooks})
	c := canaryWith(1)
	c.Spec.Analysis.Webhooks = []analysis.Webhook{
		{Name: "pre", Type: analysis.HookPreRollout, URL: "http://127.0.0.1:1/"},
		{Name: "load", URL: "http://127.0.0.1:1/"},
		{Name: "promo", Type: analysis.HookConfirmPromotion, URL: "http://127.0.0.1:1/"},
	}
	d, err := eng.Tick(context.Background(), engine.TickRequest{Canary: c,
		Status: analysis.CanaryStatus{Phase: analysis.PhaseProgressing, CanaryWeight: 20}, Now: time.Unix(0, 0)})
	if err != nil {
		t.Fatal(err)
	}
	if d.Action != analysis.ActionAdvance || strings.Join(called, ",") != "rollout/load@Progressing" {
		t.Errorf("action %s, hooks called %v; want advance with only the rollout hook", d.Action, called)
	}
	if len(fake.Calls()) != 1 {
		t.Errorf("queries = %d, want 1", len(fake.Calls()))
	}
}

type hookFunc func(context.Context, webhooks.Hook, webhooks.Payload) error

func (f hookFunc) Call(ctx context.Context, h webhooks.Hook, p webhooks.Payload) error {
	return f(ctx, h, p)
}

func TestStaticHooks(t *testing.T) {
	ctx := context.Background()
	pass, fail := engine.StaticHooks{Pass: true}, engine.StaticHooks{Pass: false}
	if pass.Call(ctx, webhooks.Hook{Type: "rollout"}, webhooks.Payload{}) != nil {
		t.Error("pass mode: a rollout hook must pass")
	}
	if pass.Call(ctx, webhooks.Hook{Type: "rollback"}, webhooks.Payload{}) == nil {
		t.Error("pass mode: a rollback hook must not signal a rollback")
	}
	if fail.Call(ctx, webhooks.Hook{Type: "confirm-promotion"}, webhooks.Payload{}) == nil {
		t.Error("fail mode: a gate must stay closed")
	}
}

func TestReplayStopsWhenFinished(t *testing.T) {
	fake := &metricstest.Provider{}
	fake.SetDefault(metricstest.Result{Value: 1})
	eng, _ := engine.New(engine.Options{Registry: fakeRegistry(fake), Hooks: engine.StaticHooks{Pass: true}})
	start := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	res, err := eng.Replay(context.Background(), engine.ReplayRequest{Canary: canaryWith(2), Start: start})
	if err != nil {
		t.Fatal(err)
	}
	if !res.Finished || res.Result != analysis.PhaseSucceeded {
		t.Fatalf("result %s finished %v", res.Result, res.Finished)
	}
	// 5 advances (10..50), promote, finalise, succeed.
	if len(res.Ticks) != 8 {
		t.Errorf("ticks = %d, want 8", len(res.Ticks))
	}
	for i, tk := range res.Ticks {
		if want := start.Add(time.Duration(i) * time.Minute); !tk.Time.Equal(want) {
			t.Errorf("tick %d at %s, want %s", i, tk.Time, want)
		}
	}
	// metrics were evaluated at each tick's simulated time
	for _, c := range fake.Calls() {
		if c.At.Before(start) || c.At.After(start.Add(8*time.Minute)) {
			t.Errorf("query at %s outside the replay window", c.At)
		}
	}
}

func TestReplayRollsBackOnFailingMetric(t *testing.T) {
	fake := &metricstest.Provider{}
	fake.SetDefault(metricstest.Result{Value: 50})
	eng, _ := engine.New(engine.Options{Registry: fakeRegistry(fake), Hooks: engine.StaticHooks{Pass: true}})
	res, err := eng.Replay(context.Background(), engine.ReplayRequest{Canary: canaryWith(1), Start: time.Unix(1e9, 0)})
	if err != nil {
		t.Fatal(err)
	}
	// threshold 5: tick 1 pre-rollout advances, ticks 2-6 fail, tick 7 rolls back.
	if res.Result != analysis.PhaseFailed || len(res.Ticks) != 7 {
		t.Fatalf("result %s after %d ticks, want Failed after 7", res.Result, len(res.Ticks))
	}
}

func TestReplayStopsAtDataEnd(t *testing.T) {
	fake := &metricstest.Provider{}
	fake.SetDefault(metricstest.Result{Value: 1})
	eng, _ := engine.New(engine.Options{Registry: fakeRegistry(fake), Hooks: engine.StaticHooks{Pass: true}})
	start := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	// The data ends 2m30s after the start: ticks at +0, +1m, +2m run, +3m does not.
	res, err := eng.Replay(context.Background(), engine.ReplayRequest{Canary: canaryWith(2), Start: start,
		DataEnd: start.Add(150 * time.Second)})
	if err != nil {
		t.Fatal(err)
	}
	if res.Finished || !res.DataEnded || len(res.Ticks) != 3 {
		t.Fatalf("finished %v dataEnded %v after %d ticks, want stopped at the data's end after 3", res.Finished, res.DataEnded, len(res.Ticks))
	}
	for _, c := range fake.Calls() {
		if c.At.After(start.Add(150 * time.Second)) {
			t.Errorf("query at %s after the data's end", c.At)
		}
	}
}

// TestPlanSkipperEncodesModel pins Flagger's encodeModelForSkipper in the
// plan: a skipper canary's builtin queries name routes with "_" for every
// non-word character of the namespace, ingress and service.
func TestPlanSkipperEncodesModel(t *testing.T) {
	c := canaryWith(0)
	c.Metadata.Namespace = "team-a.prod"
	c.Spec.Provider = "skipper"
	c.Spec.TargetRef.Name = "pod-info"
	c.Spec.Analysis.Metrics = []analysis.Metric{{Name: "request-success-rate"}, {Name: "request-duration"}}
	eng, _ := engine.New(engine.Options{Registry: &metrics.Registry{}})
	plans, err := eng.Plan(context.Background(), &c)
	if err != nil {
		t.Fatal(err)
	}
	for _, p := range plans {
		if p.Err != nil {
			t.Fatalf("%s: %v", p.Name, p.Err)
		}
		if !strings.Contains(p.Query, `kube(ew)?_team_a_prod__pod_info_canary__.*__pod_info_canary(_[0-9]+)?`) || strings.Contains(p.Query, "pod-info") {
			t.Errorf("%s query not encoded for skipper: %s", p.Name, p.Query)
		}
	}
}

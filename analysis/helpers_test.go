package analysis

import (
	"encoding/json"
	"flag"
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

var update = flag.Bool("update", false, "rewrite golden files")

func fp(f float64) *float64 { return &f }
func ip(i int) *int         { return &i }

var tick0 = time.Date(2026, 3, 1, 12, 0, 0, 0, time.UTC)

// podinfo is the Flagger walkthrough canary: podinfo in namespace test,
// interval 1m, threshold 5, maxWeight 50, stepWeight 10, two builtin metrics,
// a pre-rollout acceptance test and a load test.
func podinfo() Canary {
	return Canary{
		APIVersion: APIVersion,
		Kind:       KindCanary,
		Metadata:   ObjectMeta{Name: "podinfo", Namespace: "test"},
		Spec: CanarySpec{
			TargetRef: CrossNamespaceObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "podinfo"},
			Analysis: &Analysis{
				Interval:   "1m",
				Threshold:  5,
				MaxWeight:  50,
				StepWeight: 10,
				Metrics: []Metric{
					{Name: MetricRequestSuccessRate, Interval: "1m", ThresholdRange: &ThresholdRange{Min: fp(99)}},
					{Name: MetricRequestDuration, Interval: "30s", ThresholdRange: &ThresholdRange{Max: fp(500)}},
				},
				Webhooks: []Webhook{
					{Name: "acceptance-test", Type: HookPreRollout, URL: "http://flagger-loadtester.test/"},
					{Name: "load-test", URL: "http://flagger-loadtester.test/"},
				},
			},
		},
	}
}

// world answers the core's needs: every hook passes unless listed in fail
// (gating types) or signal (rollback type), and each metric observes
// values[name] or errs[name].
type world struct {
	canary *Canary
	fail   map[string]string
	signal map[string]bool
	values map[string]float64
	errs   map[string]*ObservationError
}

func newWorld(c *Canary) *world {
	return &world{
		canary: c,
		fail:   map[string]string{},
		signal: map[string]bool{},
		values: map[string]float64{MetricRequestSuccessRate: 99.9, MetricRequestDuration: 120},
		errs:   map[string]*ObservationError{},
	}
}

func (w *world) answer(n Need) Answer {
	if n.Metrics {
		return Answer{Metrics: observe(w.canary, w.values, w.errs)}
	}
	var out []HookResult
	for _, h := range configuredHooks(w.canary.GetAnalysis(), n.Hooks) {
		r := HookResult{Name: h.Name, Type: n.Hooks}
		if n.Hooks == HookRollback {
			if !w.signal[h.Name] {
				r.Err = "403 Forbidden"
			}
			out = append(out, r)
			if r.Passed() {
				break
			}
			continue
		}
		r.Err = w.fail[h.Name]
		out = append(out, r)
		if !r.Passed() {
			break
		}
	}
	return Answer{Hooks: out}
}

// observe builds the observations the shell would gather, in Flagger's
// order (builtin and inline queries first, then templates).
func observe(c *Canary, values map[string]float64, errs map[string]*ObservationError) []Observation {
	var obs []Observation
	a := c.GetAnalysis()
	mk := func(m Metric, k MetricKind) Observation {
		o := Observation{Metric: m.Name, Kind: k, Value: values[m.Name], Err: errs[m.Name],
			ThresholdRange: m.ThresholdRange, Threshold: m.Threshold}
		switch k {
		case KindSuccessRate, KindDuration:
			o.Observer = "istio"
		case KindTemplate:
			if m.TemplateRef != nil {
				o.Template = m.TemplateRef.Name + "." + m.TemplateRef.Namespace
			}
		}
		return o
	}
	for _, m := range a.Metrics {
		switch {
		case m.Name == MetricRequestSuccessRate:
			obs = append(obs, mk(m, KindSuccessRate))
		case m.Name == MetricRequestDuration:
			obs = append(obs, mk(m, KindDuration))
		case m.Query != "":
			obs = append(obs, mk(m, KindQuery))
		}
	}
	for _, m := range a.Metrics {
		if m.TemplateRef != nil || (!IsBuiltin(m.Name) && m.Query == "") {
			obs = append(obs, mk(m, KindTemplate))
		}
	}
	return obs
}

// drive runs one tick through Step, recording the needs, and fails the test
// if a need repeats or cannot be answered from the canary's spec.
func drive(t testing.TB, in Input, answer func(Need) Answer) (Decision, []Need) {
	t.Helper()
	var needs []Need
	seen := map[Need]bool{}
	for range maxRunSteps {
		r := Step(in)
		if (r.Need == nil) == (r.Decision == nil) {
			t.Fatalf("Step returned %+v: want exactly one of Need and Decision", r)
		}
		if r.Decision != nil {
			return *r.Decision, needs
		}
		n := *r.Need
		if seen[n] {
			t.Fatalf("Step asked twice for %+v (needs so far %+v)", n, needs)
		}
		seen[n] = true
		needs = append(needs, n)
		a := in.Canary.GetAnalysis()
		switch {
		case n.Metrics && n.Hooks != "":
			t.Fatalf("need %+v asks for two things", n)
		case n.Providers:
			if in.Status.Phase != "" && in.Status.Phase != PhaseInitializing {
				t.Fatalf("Step asked about the providers in phase %s", in.Status.Phase)
			}
			in.Providers = &ProvidersCheck{}
			if p := answer(n).Providers; p != nil {
				in.Providers = p
			}
		case n.Metrics:
			if a == nil || len(a.Metrics) == 0 {
				t.Fatalf("Step asked for metrics but the analysis has none")
			}
			in.Metrics = answer(n).Metrics
			in.MetricsGathered = true
		case n.Hooks != "":
			if len(configuredHooks(a, n.Hooks)) == 0 {
				t.Fatalf("Step asked for %s hooks but none is configured", n.Hooks)
			}
			hooks := map[HookType][]HookResult{}
			for k, v := range in.Hooks {
				hooks[k] = v
			}
			hooks[n.Hooks] = answer(n).Hooks
			in.Hooks = hooks
		default:
			t.Fatalf("empty need %+v", n)
		}
	}
	t.Fatalf("no decision after %d steps", maxRunSteps)
	return Decision{}, nil
}

// traceTick is one tick of a scenario, as stored in golden files.
type traceTick struct {
	Tick     int          `json:"tick"`
	Before   CanaryStatus `json:"before"`
	Needs    []Need       `json:"needs"`
	Decision Decision     `json:"decision"`
}

// simulate runs ticks one interval apart, feeding each decision's status to
// the next tick, until the canary Succeeded or Failed or max ticks ran.
// before, when set, may change the world or the input before each tick.
func simulate(t testing.TB, c Canary, status CanaryStatus, w *world, max int, before func(i int, in *Input, w *world)) []traceTick {
	t.Helper()
	var trace []traceTick
	for i := range max {
		in := Input{Canary: c, Status: status, Now: tick0.Add(time.Duration(i) * time.Minute)}
		if before != nil {
			before(i, &in, w)
		}
		d, needs := drive(t, in, w.answer)
		trace = append(trace, traceTick{Tick: i, Before: in.Status, Needs: needs, Decision: d})
		status = d.Status
		if status.Phase == PhaseSucceeded || status.Phase == PhaseFailed {
			break
		}
	}
	return trace
}

func messages(es []Event) []string {
	out := make([]string, len(es))
	for i, e := range es {
		out[i] = e.Message
	}
	return out
}

func allMessages(trace []traceTick) []string {
	var out []string
	for _, tt := range trace {
		out = append(out, messages(tt.Decision.Events)...)
	}
	return out
}

// golden compares got, as indented JSON, with testdata/<name>.golden.json,
// rewriting the file with -update.
func golden(t *testing.T, name string, got any) {
	t.Helper()
	b, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatalf("marshal %s: %v", name, err)
	}
	b = append(b, '\n')
	path := filepath.Join("testdata", name+".golden.json")
	if *update {
		if err := os.MkdirAll("testdata", 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, b, 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden %s (run with -update to create it): %v", path, err)
	}
	if diff := cmp.Diff(string(want), string(b)); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

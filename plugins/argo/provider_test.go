package argo

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"

	"github.com/argoproj/argo-rollouts/pkg/apis/rollouts/v1alpha1"
	"github.com/google/go-cmp/cmp"
)

type scenario struct {
	name             string
	cfg              any
	success, failure string
	ns               string // AnalysisRun namespace
	rawKey           string // plugin key instead of PluginName
}

func scenarios(data string) []scenario {
	return []scenario{
		{name: "query within range", cfg: obj{"data": data, "query": `success_ratio{app="podinfo"}`, "thresholdRange": obj{"min": 0.99}}},
		{name: "query below range", cfg: obj{"data": data, "query": `success_ratio{app="broken"}`, "thresholdRange": obj{"min": 0.99}}},
		{name: "query success condition", cfg: obj{"data": data, "query": `success_ratio{app="podinfo"}`}, success: "result[0] >= 0.99"},
		{name: "query failure condition", cfg: obj{"data": data, "query": `success_ratio{app="broken"}`}, failure: "result[0] < 0.95"},
		{name: "both conditions, neither true", cfg: obj{"data": data, "query": `success_ratio{app="broken"}`},
			success: "result[0] >= 0.99", failure: "result[0] < 0.5"},
		{name: "condition and range disagree", cfg: obj{"data": data, "query": `success_ratio{app="broken"}`, "thresholdRange": obj{"min": 0.99}},
			success: "result[0] > 0.5"},
		{name: "flagger variables with delims", ns: "test", cfg: obj{"data": data, "delims": []string{"[[", "]]"}, "target": "podinfo",
			"query": `success_ratio{namespace="[[ namespace ]]", app="[[ target ]]"}`, "thresholdRange": obj{"min": 0.99}}},
		{name: "template with variables and sprig", cfg: obj{"data": data, "namespace": "test", "delims": []string{"[[", "]]"},
			"variables":      obj{"app": "podinfo"},
			"template":       obj{"provider": obj{"type": "prometheus"}, "query": `avg(success_ratio{namespace="[[ namespace ]]", app="[[ variables.app | lower ]]"}) * 100`},
			"thresholdRange": obj{"min": 99, "max": 100}}},
		{name: "builtin request-success-rate", cfg: obj{"data": data, "builtin": "request-success-rate", "target": "podinfo",
			"namespace": "test", "thresholdRange": obj{"min": 99}}},
		{name: "builtin request-duration", ns: "test", cfg: obj{"data": data, "builtin": "request-duration", "target": "podinfo",
			"interval": "2m", "thresholdRange": obj{"max": 500}}},
		{name: "builtin linkerd has no data", cfg: obj{"data": data, "builtin": "request-success-rate", "target": "podinfo",
			"meshProvider": "linkerd", "thresholdRange": obj{"min": 99}}},
		{name: "NaN fails a comparison", cfg: obj{"data": data, "query": "nan_gauge"}, success: "result[0] >= 8"},
		{name: "NaN guarded", cfg: obj{"data": data, "query": "nan_gauge"}, success: "isNaN(result[0]) || result[0] >= 8"},
		{name: "NaN against a range", cfg: obj{"data": data, "query": "nan_gauge", "thresholdRange": obj{"min": 0}}},
		{name: "empty result indexed", cfg: obj{"data": data, "query": "absent_metric"}, success: "result[0] > 0"},
		{name: "empty result guarded", cfg: obj{"data": data, "query": "absent_metric"}, success: "len(result) == 0 || result[0] > 0"},
		{name: "empty result against a range", cfg: obj{"data": data, "query": "absent_metric", "thresholdRange": obj{"max": 1}}},
		{name: "infinite value", cfg: obj{"data": data, "query": "inf_gauge", "thresholdRange": obj{"min": 0}}, failure: "isInf(result[0])"},
		{name: "several series", cfg: obj{"data": data, "query": "multi"}},
		{name: "PromQL syntax error", cfg: obj{"data": data, "query": "sum(rate(x[1m])"}},
		{name: "template render error", cfg: obj{"data": data, "query": `up{a="{{ variables.missing }}"}`}},
		{name: "unknown provider type", cfg: obj{"address": "http://127.0.0.1:1", "template": obj{"provider": obj{"type": "influxdb"}, "query": "x"}}},
		{name: "wrong plugin key", rawKey: "argoproj-labs/augur", cfg: obj{"data": data, "query": "x"}},
		{name: "unknown field", cfg: obj{"data": data, "qurey": "x"}},
		{name: "two modes", cfg: obj{"data": data, "query": "x", "builtin": "request-duration"}},
		{name: "bad builtin", cfg: obj{"data": data, "builtin": "latency", "target": "x"}},
		{name: "builtin with credentials", cfg: obj{"address": "http://prometheus:9090", "builtin": "request-duration", "target": "x",
			"credentials": obj{"token": "t0k3n-value"}}},
		{name: "no address", cfg: obj{"query": "x"}},
		{name: "bad timeout", cfg: obj{"data": data, "query": "x", "timeout": "forever"}},
		{name: "half credentials", cfg: obj{"address": "http://prometheus:9090", "query": "x", "credentials": obj{"username": "bob"}}},
		{name: "inverted range", cfg: obj{"data": data, "query": "x", "thresholdRange": obj{"min": 2, "max": 1}}},
		{name: "literal braces with delims", cfg: obj{"data": data, "query": "{{ target }}", "delims": []string{"[[", "]]"}}},
		{name: "missing data file", cfg: obj{"data": "/nonexistent/augur-test.om", "query": "up"}},
	}
}

func (s scenario) metric(t testing.TB) v1alpha1.Metric {
	m := metric(t, strings.ReplaceAll(s.name, " ", "-"), s.cfg, s.success, s.failure)
	if s.rawKey != "" {
		m.Provider.Plugin = map[string]json.RawMessage{s.rawKey: m.Provider.Plugin[PluginName]}
	}
	return m
}

// TestRunGolden runs every scenario through Run and GetMetadata and pins the
// measurements (phase, value, message, metadata) in a golden file.
func TestRunGolden(t *testing.T) {
	data := writeData(t)
	p := newProvider(t)
	type result struct {
		Name        string               `json:"name"`
		Measurement v1alpha1.Measurement `json:"measurement"`
		Metadata    map[string]string    `json:"getMetadata"`
	}
	var got []result
	for _, s := range scenarios(data) {
		m := s.metric(t)
		meas := p.Run(analysisRun(s.ns), m)
		if !meas.Phase.Completed() || meas.StartedAt == nil || meas.FinishedAt == nil {
			t.Errorf("%s: measurement not completed: %+v", s.name, meas)
		}
		got = append(got, result{Name: s.name, Measurement: meas, Metadata: p.GetMetadata(m)})
	}
	b, err := json.MarshalIndent(got, "", "  ")
	if err != nil {
		t.Fatal(err)
	}
	b = bytes.ReplaceAll(b, []byte(data), []byte("$DATA"))
	b = append(b, '\n')
	golden := filepath.Join("testdata", "measurements.golden.json")
	if *update {
		if err := os.WriteFile(golden, b, 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), string(b)); diff != "" {
		t.Errorf("measurements changed (-golden +got); run go test -update if intended:\n%s", diff)
	}
}

// TestRunPhases pins the phase of each scenario independently of the golden
// file, so that -update cannot silently accept a wrong phase.
func TestRunPhases(t *testing.T) {
	data := writeData(t)
	p := newProvider(t)
	want := map[string]v1alpha1.AnalysisPhase{
		"query within range":                successful,
		"query below range":                 failed,
		"query success condition":           successful,
		"query failure condition":           failed,
		"both conditions, neither true":     inconclusive,
		"condition and range disagree":      failed,
		"flagger variables with delims":     successful,
		"template with variables and sprig": successful,
		"builtin request-success-rate":      successful,
		"builtin request-duration":          successful,
		"builtin linkerd has no data":       failed,
		"NaN fails a comparison":            failed,
		"NaN guarded":                       successful,
		"NaN against a range":               failed,
		"empty result indexed":              errored,
		"empty result guarded":              successful,
		"empty result against a range":      failed,
		"infinite value":                    failed,
	}
	for _, s := range scenarios(data) {
		t.Run(s.name, func(t *testing.T) {
			w, ok := want[s.name]
			if !ok {
				w = errored
			}
			m := p.Run(analysisRun(s.ns), s.metric(t))
			if m.Phase != w {
				t.Errorf("phase %s (%s), want %s", m.Phase, m.Message, w)
			}
			if w != errored && m.Value == "" {
				t.Errorf("no value in %+v", m)
			}
		})
	}
}

func TestConfigErrorNamesTheKey(t *testing.T) {
	p := newProvider(t)
	m := metric(t, "m", obj{"query": "x"}, "", "")
	m.Provider.Plugin = map[string]json.RawMessage{"augurproj/augur": m.Provider.Plugin[PluginName]}
	for _, msg := range []string{p.Run(nil, m).Message, p.GetMetadata(m)["error"]} {
		if !strings.Contains(msg, `provider.plugin["augur/augur"]`) || !strings.Contains(msg, `augurproj/augur`) {
			t.Errorf("message %q does not name the expected and the found keys", msg)
		}
	}
	m.Provider.Plugin = nil
	if got := p.Run(nil, m); got.Phase != errored || !strings.Contains(got.Message, PluginName) {
		t.Errorf("nil plugin config: %+v", got)
	}
}

func TestResumeTerminate(t *testing.T) {
	p := newProvider(t)
	done := p.Run(nil, metric(t, "m", obj{"data": writeData(t), "query": "inf_gauge"}, "", ""))
	if got := p.Resume(nil, v1alpha1.Metric{}, done); !cmp.Equal(got, done) {
		t.Errorf("Resume changed a measurement: %+v", got)
	}
	if got := p.Terminate(nil, v1alpha1.Metric{}, done); !cmp.Equal(got, done) {
		t.Errorf("Terminate changed a completed measurement: %+v", got)
	}
	running := v1alpha1.Measurement{Phase: v1alpha1.AnalysisPhaseRunning, StartedAt: done.StartedAt}
	got := p.Terminate(nil, v1alpha1.Metric{}, running)
	if got.Phase != successful || got.FinishedAt == nil || !got.FinishedAt.Time.Equal(clock) {
		t.Errorf("Terminate of a running measurement: %+v", got)
	}
	if e := p.GarbageCollect(nil, v1alpha1.Metric{}, 3); e.HasError() {
		t.Errorf("GarbageCollect: %v", e)
	}
	if e := p.InitPlugin(); e.HasError() {
		t.Errorf("InitPlugin: %v", e)
	}
	if p.Type() != PluginName {
		t.Errorf("Type %q", p.Type())
	}
}

// TestConcurrentRuns runs every scenario many times at once (-race) and
// checks each answer equals the sequential one.
func TestConcurrentRuns(t *testing.T) {
	data := writeData(t)
	p := newProvider(t)
	ss := scenarios(data)
	want := make([]v1alpha1.Measurement, len(ss))
	for i, s := range ss {
		want[i] = p.Run(analysisRun(s.ns), s.metric(t))
	}
	var wg sync.WaitGroup
	var mu sync.Mutex
	for range 4 {
		for i, s := range ss {
			wg.Go(func() {
				got := p.Run(analysisRun(s.ns), s.metric(t))
				if diff := cmp.Diff(want[i], got); diff != "" {
					mu.Lock()
					t.Errorf("%s: concurrent run differs:\n%s", s.name, diff)
					mu.Unlock()
				}
			})
		}
	}
	wg.Wait()
}

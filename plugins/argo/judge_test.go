package argo

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/argoproj/argo-rollouts/pkg/apis/rollouts/v1alpha1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
)

// podinfoData is a recorded podinfo dataset with a canary and a primary.
func podinfoData(name string) string { return "../../testdata/podinfo/" + name }

// TestJudgedMeasurements judges metrics against the primary through the
// plugin configuration's judge keys, over the recorded podinfo datasets.
func TestJudgedMeasurements(t *testing.T) {
	// The end of every podinfo dataset.
	end := time.Date(2026, 11, 1, 10, 29, 52, 500_000_000, time.UTC)
	builtin := func(data, metric string, judge obj, extra obj) obj {
		c := obj{"data": podinfoData(data), "builtin": metric, "target": "podinfo", "namespace": "test", "judge": judge}
		for k, v := range extra {
			c[k] = v
		}
		return c
	}
	tests := []struct {
		name       string
		cfg        obj
		success    string
		started    time.Time
		phase      v1alpha1.AnalysisPhase
		value      string
		message    []string
		meta       map[string]string
		metaPrefix map[string]string
	}{
		{name: "histogram catches the latency regression inside the threshold",
			cfg: builtin("latency-regression.om", "request-duration", obj{"judge": "histogram", "window": "10m"},
				obj{"interval": "30s", "thresholdRange": obj{"max": 500}}),
			phase: v1alpha1.AnalysisPhaseFailed,
			message: []string{"request-duration = ", "is within [-Inf, 500ms]",
				"judged against the primary by histogram: fail (High): High: the canary's buckets are significantly higher"},
			meta: map[string]string{"judge": "histogram", "verdict": "fail", "classification": "High", "data": "histogram buckets",
				"window": "2026-11-01T10:19:00Z/2026-11-01T10:29:00Z"},
			metaPrefix: map[string]string{"pValue": "", "canary": "n ", "shift": "median difference "}},
		{name: "histogram passes identical sides",
			cfg:   builtin("identical.om", "request-duration", obj{"judge": "histogram", "window": "10m"}, obj{"interval": "30s"}),
			phase: v1alpha1.AnalysisPhaseSuccessful, message: []string{"judged against the primary by histogram: pass (Pass)"},
			meta: map[string]string{"verdict": "pass"}},
		{name: "error-rate with numbers and booleans",
			cfg: builtin("noisy-equal.om", "request-success-rate", obj{"judge": "error-rate", "alpha": 0.01, "critical": true, "window": "10m"},
				obj{"thresholdRange": obj{"min": 99}}),
			phase: v1alpha1.AnalysisPhaseSuccessful, message: []string{"judged against the primary by error-rate: pass (Pass)"},
			meta: map[string]string{"judge": "error-rate", "data": "counts"}, metaPrefix: map[string]string{"canary": "errors "}},
		{name: "too few samples is Inconclusive",
			cfg: obj{"data": podinfoData("identical.om"), "judge": obj{"judge": "mann-whitney", "window": "2m", "step": "1m"},
				"delims": []string{"[[", "]]"},
				"query":  `sum(rate(istio_request_duration_milliseconds_sum{destination_workload="[[ target ]]"}[1m])) / sum(rate(istio_request_duration_milliseconds_count{destination_workload="[[ target ]]"}[1m]))`,
				"target": "podinfo"},
			phase: v1alpha1.AnalysisPhaseInconclusive, value: "[]",
			message: []string{"judged against the primary by mann-whitney: inconclusive (Nodata): Nodata: the canary has 2 and the baseline 2 samples"}},
		{name: "sequential reads from the AnalysisRun's start",
			cfg:     builtin("latency-regression.om", "request-success-rate", obj{"judge": "sequential", "margin": "0.01"}, nil),
			started: end.Add(-20 * time.Minute),
			phase:   v1alpha1.AnalysisPhaseSuccessful,
			meta:    map[string]string{"judge": "sequential", "window": "2026-11-01T10:09:52Z/2026-11-01T10:29:00Z"}},
		{name: "a judge window starting before the data is an Error",
			cfg:   builtin("identical.om", "request-duration", obj{"judge": "histogram", "window": "1h"}, obj{"interval": "30s"}),
			phase: v1alpha1.AnalysisPhaseError,
			message: []string{"metric request-duration: its judge reads the 1h window from 2026-11-01T09:29:00Z to 2026-11-01T10:29:00Z (evaluation time), " +
				"which starts before the recorded data ../../testdata/podinfo/identical.om, whose first sample is at 2026-11-01T09:58:07.5Z (use a judge window of 30m52s or shorter)"}},
		{name: "a bad judge key is a configuration error",
			cfg:   builtin("identical.om", "request-duration", obj{"judge": "histogram", "windw": "5m"}, nil),
			phase: v1alpha1.AnalysisPhaseError, message: []string{`judge: invalid judge configuration: key "windw": unknown key`}},
		{name: "a judge value of the wrong type",
			cfg:   builtin("identical.om", "request-duration", obj{"alpha": obj{"x": 1}}, nil),
			phase: v1alpha1.AnalysisPhaseError, message: []string{"judge.alpha: want a string, number or boolean"}},
		{name: "conditions need a value",
			cfg:     builtin("identical.om", "request-duration", obj{"judge": "histogram"}, nil),
			success: "result[0] < 500",
			phase:   v1alpha1.AnalysisPhaseError, message: []string{"a judged metric without thresholdRange does not query"}},
	}
	p := newProvider(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			run := analysisRun("test")
			if !tt.started.IsZero() {
				run.Status.StartedAt = &metav1.Time{Time: tt.started}
			}
			m := p.RunContext(context.Background(), run, metric(t, "latency", tt.cfg, tt.success, ""))
			if m.Phase != tt.phase {
				t.Fatalf("phase %s, want %s; message %q, metadata %v", m.Phase, tt.phase, m.Message, m.Metadata)
			}
			if tt.value != "" && m.Value != tt.value {
				t.Errorf("value %q, want %q", m.Value, tt.value)
			}
			for _, w := range tt.message {
				if !strings.Contains(m.Message, w) {
					t.Errorf("message %q does not contain %q", m.Message, w)
				}
			}
			for k, v := range tt.meta {
				if m.Metadata[k] != v {
					t.Errorf("metadata %s = %q, want %q (all: %v)", k, m.Metadata[k], v, m.Metadata)
				}
			}
			for k, v := range tt.metaPrefix {
				if got, ok := m.Metadata[k]; !ok || !strings.HasPrefix(got, v) {
					t.Errorf("metadata %s = %q, want a value starting %q", k, got, v)
				}
			}
		})
	}
}

func TestJudgedMetadata(t *testing.T) {
	p := newProvider(t)
	md := p.GetMetadata(metric(t, "latency", obj{"data": podinfoData("identical.om"), "builtin": "request-duration", "target": "podinfo",
		"namespace": "test", "judge": obj{"judge": "histogram"}}, "", ""))
	if md["judge"] != "histogram" || md["data"] != "histogram buckets" || md["query"] == "" {
		t.Errorf("metadata %v", md)
	}
}

// TestMetadataNeverShowsAQueryThatDidNotRun pins that GetMetadata (which
// gets no AnalysisRun) leaves out a query that depends on the run's
// namespace when the configuration names none, and shows it otherwise.
func TestMetadataNeverShowsAQueryThatDidNotRun(t *testing.T) {
	p := newProvider(t)
	md := p.GetMetadata(metric(t, "sr", obj{"data": podinfoData("identical.om"), "builtin": "request-success-rate", "target": "podinfo"}, "", ""))
	if _, ok := md["query"]; ok || md["queryNamespace"] == "" {
		t.Errorf("without a namespace, metadata %v shows a query rendered for a namespace that never ran", md)
	}
	md = p.GetMetadata(metric(t, "q", obj{"data": podinfoData("identical.om"), "query": "vector(1)"}, "", ""))
	if md["query"] != "vector(1)" {
		t.Errorf("a query that does not depend on the namespace is known: metadata %v", md)
	}
}

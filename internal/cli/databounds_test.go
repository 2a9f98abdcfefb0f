package cli

import (
	"context"
	"encoding/json"
	"net/http"
	"os"
	"strings"
	"testing"
	"time"

	"github.com/argoproj/argo-rollouts/pkg/apis/rollouts/v1alpha1"
	"sigs.k8s.io/yaml"

	"github.com/augurproj/augur/plugins/argo"
)

// judgedRequest is a /v1/decide or /v1/query body over testdata/judged's
// Canary and MetricTemplate, with extra fields.
func judgedRequest(t *testing.T, extra map[string]any) string {
	t.Helper()
	var docs []json.RawMessage
	for _, f := range []string{"/canary.yaml", "/metrictemplate.yaml"} {
		b, err := os.ReadFile(judged + f)
		if err != nil {
			t.Fatal(err)
		}
		j, err := yaml.YAMLToJSON(b)
		if err != nil {
			t.Fatal(err)
		}
		docs = append(docs, j)
	}
	body := map[string]any{"canary": docs[0], "metricTemplates": []json.RawMessage{docs[1]}}
	for k, v := range extra {
		body[k] = v
	}
	out, err := json.Marshal(body)
	if err != nil {
		t.Fatal(err)
	}
	return string(out)
}

// TestServeDataJudgeWindows: `augur serve --data` refuses, as the CLI
// commands do, a decide or query whose judge window starts before the
// recorded data (400 naming the data's first sample), whether the request
// gives its time or takes the default (the data's end), and an evaluation
// time after the data.
func TestServeDataJudgeWindows(t *testing.T) {
	url, _, stop := startServe(t, "--data", podinfo+"/latency-regression.om")
	defer stop()
	client := &http.Client{Timeout: 30 * time.Second}
	status := map[string]any{"phase": "Progressing", "canaryWeight": 20}
	tests := []struct {
		name, path string
		extra      map[string]any
		code       int
		want       string
	}{
		{"decide at a time whose window starts before the data", "/v1/decide",
			map[string]any{"status": status, "webhooks": "pass", "at": "2026-11-01T10:02:00Z"}, 400,
			"metric request-success-rate: its judge reads the 10m window from 2026-11-01T09:52:00Z to 2026-11-01T10:02:00Z (at), which starts before the recorded data ../../testdata/podinfo/latency-regression.om, whose first sample is at 2026-11-01T09:58:07.5Z (use at 2026-11-01T10:08:07.5Z or later, or a shorter judge window)"},
		{"query at a time whose window starts before the data", "/v1/query",
			map[string]any{"at": "2026-11-01T10:02:00Z"}, 400,
			"its judge reads the 10m window from 2026-11-01T09:52:00Z to 2026-11-01T10:02:00Z (at), which starts before the recorded data"},
		{"decide at the data's end with a window longer than the data", "/v1/decide",
			map[string]any{"status": status, "webhooks": "pass", "judges": map[string]any{"request-duration": map[string]string{"window": "1h"}}}, 400,
			"metric request-duration: its judge reads the 1h window from 2026-11-01T09:29:00Z to 2026-11-01T10:29:00Z (evaluation time), which starts before the recorded data ../../testdata/podinfo/latency-regression.om, whose first sample is at 2026-11-01T09:58:07.5Z (use a judge window of 30m52s or shorter)"},
		{"decide after the data", "/v1/decide",
			map[string]any{"status": status, "webhooks": "pass", "at": "2026-11-01T12:00:00Z"}, 400,
			"at 2026-11-01T12:00:00Z is outside the recorded data ../../testdata/podinfo/latency-regression.om, whose first sample is at 2026-11-01T09:58:07.5Z and last at 2026-11-01T10:29:52.5Z (scraped every 15s)"},
		{"decide inside the data", "/v1/decide",
			map[string]any{"status": status, "webhooks": "pass", "at": "2026-11-01T10:20:00Z"}, 200, `"action":`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			code, body := post(t, client, url+tc.path, judgedRequest(t, tc.extra), nil)
			if code != tc.code || !strings.Contains(body, tc.want) {
				t.Errorf("%s: %d %s\nwant %d with %q", tc.path, code, body, tc.code, tc.want)
			}
		})
	}
}

// TestArgoPluginDataJudgeWindows: `augur argo-plugin --data` measures a
// judged metric whose window starts before its recorded data as an Error
// naming the data's first sample, never as a verdict.
func TestArgoPluginDataJudgeWindows(t *testing.T) {
	p, err := argoProvider(&ArgoPluginOptions{Data: podinfo + "/identical.om", Timeout: 30 * time.Second}, nil)
	if err != nil {
		t.Fatal(err)
	}
	measure := func(window string) v1alpha1.Measurement {
		raw, err := json.Marshal(map[string]any{"builtin": "request-duration", "target": "podinfo", "namespace": "test",
			"interval": "30s", "judge": map[string]any{"judge": "histogram", "window": window}})
		if err != nil {
			t.Fatal(err)
		}
		m := v1alpha1.Metric{Name: "latency", Provider: v1alpha1.MetricProvider{Plugin: map[string]json.RawMessage{argo.PluginName: raw}}}
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		return p.RunContext(ctx, &v1alpha1.AnalysisRun{}, m)
	}
	m := measure("1h")
	want := "metric request-duration: its judge reads the 1h window from 2026-11-01T09:29:00Z to 2026-11-01T10:29:00Z (evaluation time), which starts before the recorded data ../../testdata/podinfo/identical.om, whose first sample is at 2026-11-01T09:58:07.5Z (use a judge window of 30m52s or shorter)"
	if m.Phase != v1alpha1.AnalysisPhaseError || !strings.Contains(m.Message, want) {
		t.Errorf("1h window: %s %q\nwant Error with %q", m.Phase, m.Message, want)
	}
	if m := measure("10m"); m.Phase != v1alpha1.AnalysisPhaseSuccessful {
		t.Errorf("10m window inside the data: %s %q", m.Phase, m.Message)
	}
}

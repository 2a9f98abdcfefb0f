package server

import (
	"encoding/json"
	"maps"
	"net/http"
	"reflect"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/engine"
	"github.com/augurproj/augur/service"
)

// withCanary returns a decide or query body around a copy of canary.
func body(t *testing.T, canary map[string]any, fields map[string]any) string {
	t.Helper()
	m := map[string]any{}
	if canary != nil {
		m["canary"] = canary
	}
	maps.Copy(m, fields)
	return mustJSON(t, m)
}

// edit returns a deep copy of v changed by f.
func edit(t *testing.T, v map[string]any, f func(map[string]any)) map[string]any {
	t.Helper()
	var c map[string]any
	if err := json.Unmarshal([]byte(mustJSON(t, v)), &c); err != nil {
		t.Fatal(err)
	}
	f(c)
	return c
}

func spec(c map[string]any) map[string]any { return c["spec"].(map[string]any) }

func analysisOf(c map[string]any) map[string]any { return spec(c)["analysis"].(map[string]any) }

func TestDecide(t *testing.T) {
	h := podinfoHarness(t, "healthy.om", nil)
	canary := podinfoCanaryJSON(t)
	progressing := map[string]any{"phase": "Progressing", "canaryWeight": 10}
	customTemplate := map[string]any{
		"apiVersion": "flagger.app/v1beta1", "kind": "MetricTemplate",
		"metadata": map[string]any{"name": "canary-rps", "namespace": "test"},
		"spec": map[string]any{
			"provider": map[string]any{"type": "prometheus", "address": "http://prometheus:9090"},
			"query":    `sum(rate(istio_requests_total{destination_workload="{{ target }}"}[{{ interval }}]))`,
		},
	}
	tests := []struct {
		name string
		body string
		code int
		// action is checked for 200 answers.
		action analysis.Action
	}{
		{"advance", body(t, canary, map[string]any{"status": progressing, "webhooks": "pass"}), 200, analysis.ActionAdvance},
		{"status-from-canary", body(t, edit(t, canary, func(c map[string]any) {
			c["status"] = map[string]any{"phase": "Progressing", "canaryWeight": 30, "failedChecks": 1,
				"conditions": []any{map[string]any{"type": "Promoted", "status": "Unknown"}}}
		}), map[string]any{"webhooks": "pass"}), 200, analysis.ActionAdvance},
		{"bare-canary", body(t, edit(t, canary, func(c map[string]any) {
			delete(c, "apiVersion")
			delete(c, "kind")
		}), map[string]any{"status": progressing, "webhooks": "pass"}), 200, analysis.ActionAdvance},
		{"what-if-value", body(t, canary, map[string]any{"status": progressing, "webhooks": "pass",
			"values": map[string]any{"request-success-rate": map[string]any{"value": 90}}}), 200, analysis.ActionHold},
		{"template-in-body", body(t, edit(t, canary, func(c map[string]any) {
			a := analysisOf(c)
			a["metrics"] = []any{map[string]any{"name": "rps", "templateRef": map[string]any{"name": "canary-rps"},
				"thresholdRange": map[string]any{"min": 1}, "interval": "1m"}}
		}), map[string]any{"status": progressing, "webhooks": "pass", "metricTemplates": []any{customTemplate}}), 200, analysis.ActionAdvance},
		{"webhook-fails", body(t, canary, map[string]any{"status": progressing, "webhooks": "fail"}), 200, analysis.ActionHold},
		{"unknown-field", body(t, canary, map[string]any{"stauts": progressing}), 400, ""},
		{"unknown-canary-field", body(t, edit(t, canary, func(c map[string]any) {
			a := analysisOf(c)
			m := a["metrics"].([]any)[0].(map[string]any)
			m["thresholdRange"] = map[string]any{"mni": 99}
		}), nil), 400, ""},
		{"wrong-type", body(t, canary, map[string]any{"status": map[string]any{"canaryWeight": "10"}}), 400, ""},
		{"invalid-canary", body(t, edit(t, canary, func(c map[string]any) {
			analysisOf(c)["interval"] = "fast"
			spec(c)["targetRef"].(map[string]any)["kind"] = "Pod"
		}), nil), 400, ""},
		{"wrong-kind", body(t, edit(t, canary, func(c map[string]any) { c["kind"] = "Deployment" }), nil), 400, ""},
		{"missing-canary", `{"status":{"phase":"Progressing"}}`, 400, ""},
		{"duplicate-field", `{"canary":{},"canary":{}}`, 400, ""},
		{"not-an-object", `[1,2]`, 400, ""},
		{"empty", ``, 400, ""},
		{"syntax", `{"canary": {"metadata": }`, 400, ""},
		{"trailing-data", body(t, canary, nil) + `{}`, 400, ""},
		{"bad-webhooks-mode", body(t, canary, map[string]any{"webhooks": "maybe"}), 400, ""},
		{"bad-value", body(t, canary, map[string]any{"values": map[string]any{"request-duration": map[string]any{"value": 1, "error": "no-values"}}}), 400, ""},
		{"bad-time", body(t, canary, map[string]any{"at": "yesterday"}), 400, ""},
		{"service-rule", body(t, edit(t, canary, func(c map[string]any) {
			delete(spec(c)["targetRef"].(map[string]any), "name")
		}), nil), 400, ""},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := do(t, http.MethodPost, h.url+"/v1/decide", tc.body, nil)
			if a.code != tc.code {
				t.Fatalf("status %d, want %d: %s", a.code, tc.code, a.body)
			}
			if ct := a.header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type %q", ct)
			}
			if tc.code == http.StatusOK {
				if d := decision(t, a); d.Action != tc.action {
					t.Errorf("action %s, want %s: %q", d.Action, tc.action, d.Reasons)
				}
			} else {
				var e errorJSON
				if err := json.Unmarshal([]byte(a.body), &e); err != nil || e.Error == "" {
					t.Errorf("error answer is not {\"error\": \"...\"}: %s", a.body)
				}
			}
			golden(t, "decide/"+tc.name+".json", pretty(t, a.body))
		})
	}
}

// TestDecideMatchesAnalyze checks that the answer is the same JSON as the
// core's Decision (what `augur analyze -o json` prints): decoding with
// unknown fields refused and re-encoding gives the same bytes.
func TestDecideMatchesAnalyze(t *testing.T) {
	h := podinfoHarness(t, "healthy.om", nil)
	a := do(t, http.MethodPost, h.url+"/v1/decide", body(t, podinfoCanaryJSON(t),
		map[string]any{"status": map[string]any{"phase": "Progressing", "canaryWeight": 40}, "webhooks": "pass"}), nil)
	if a.code != http.StatusOK {
		t.Fatalf("status %d: %s", a.code, a.body)
	}
	d := decision(t, a)
	again, err := json.Marshal(d)
	if err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(a.body) != string(again) {
		t.Errorf("answer is not a Decision's JSON:\n got %s\nwant %s", a.body, again)
	}
	if d.Status.CanaryWeight != 50 || len(d.Checks) != 3 {
		t.Errorf("want weight 50 and 3 checks, got %+v", d)
	}
}

func TestQuery(t *testing.T) {
	h := podinfoHarness(t, "healthy.om", nil)
	canary := podinfoCanaryJSON(t)
	minimal := map[string]any{
		"metadata": map[string]any{"name": "podinfo", "namespace": "test"},
		"spec":     map[string]any{"targetRef": map[string]any{"apiVersion": "apps/v1", "kind": "Deployment", "name": "podinfo"}},
	}
	tests := []struct {
		name   string
		body   string
		code   int
		passed []bool
	}{
		{"all-metrics", body(t, canary, nil), 200, []bool{true, true, true}},
		{"inline-metric", body(t, minimal, map[string]any{"metric": map[string]any{
			"name": "rps", "query": `sum(rate(istio_requests_total{destination_workload="{{ target }}"}[{{ interval }}]))`,
			"thresholdRange": map[string]any{"max": 1}}}), 200, []bool{false}},
		{"builtin-at", body(t, minimal, map[string]any{"at": "2026-11-01T10:10:00Z", "metric": map[string]any{
			"name": "request-success-rate", "thresholdRange": map[string]any{"min": 99}}}), 200, []bool{true}},
		{"missing-template", body(t, minimal, map[string]any{"metric": map[string]any{
			"name": "x", "templateRef": map[string]any{"name": "nope"}, "thresholdRange": map[string]any{"max": 1}}}), 400, nil},
		{"metric-unknown-field", body(t, minimal, map[string]any{"metric": map[string]any{"name": "rps", "qurey": "up"}}), 400, nil},
		{"metric-invalid", body(t, minimal, map[string]any{"metric": map[string]any{"name": "rps", "query": "up",
			"thresholdRange": map[string]any{"min": 2, "max": 1}}}), 400, nil},
		{"no-metrics", body(t, minimal, nil), 400, nil},
		{"unknown-field", body(t, minimal, map[string]any{"metrics": []any{}}), 400, nil},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := do(t, http.MethodPost, h.url+"/v1/query", tc.body, nil)
			if a.code != tc.code {
				t.Fatalf("status %d, want %d: %s", a.code, tc.code, a.body)
			}
			if tc.code == http.StatusOK {
				var resp struct {
					Checks []analysis.Check `json:"checks"`
				}
				if err := json.Unmarshal([]byte(a.body), &resp); err != nil {
					t.Fatal(err)
				}
				var passed []bool
				for _, c := range resp.Checks {
					passed = append(passed, c.Passed)
					if c.Query == "" && c.Error == "" {
						t.Errorf("check %s has neither query nor error", c.Metric)
					}
				}
				if mustJSON(t, passed) != mustJSON(t, tc.passed) {
					t.Errorf("passed %v, want %v", passed, tc.passed)
				}
			}
			golden(t, "query/"+tc.name+".json", pretty(t, a.body))
		})
	}
}

func TestRouting(t *testing.T) {
	h := podinfoHarness(t, "healthy.om", nil)
	tests := []struct {
		method, path string
		code         int
		allow        string
	}{
		{http.MethodGet, "/v1/decide", 405, "POST"},
		{http.MethodPut, "/flagger/v1/check", 405, "POST"},
		{http.MethodPost, "/healthz", 405, "GET, HEAD"},
		{http.MethodGet, "/v2/decide", 404, ""},
		{http.MethodGet, "/", 404, ""},
		{http.MethodGet, "/healthz", 200, ""},
		{http.MethodHead, "/healthz", 200, ""},
	}
	for _, tc := range tests {
		t.Run(tc.method+tc.path, func(t *testing.T) {
			a := do(t, tc.method, h.url+tc.path, "", nil)
			if a.code != tc.code {
				t.Fatalf("status %d, want %d: %s", a.code, tc.code, a.body)
			}
			if got := a.header.Get("Allow"); got != tc.allow {
				t.Errorf("Allow %q, want %q", got, tc.allow)
			}
			if tc.code >= 400 {
				var e errorJSON
				if err := json.Unmarshal([]byte(a.body), &e); err != nil || e.Error == "" {
					t.Errorf("error answer is not {\"error\": \"...\"}: %q", a.body)
				}
			}
		})
	}
}

// TestDecodeEveryRequestField: every member of the service's request types
// (their JSON fields, found by reflection) survives an HTTP round trip, so
// a field added to service.DecideRequest or QueryRequest is not refused.
func TestDecodeEveryRequestField(t *testing.T) {
	set := podinfoFiles(t)
	at := time.Date(2026, 11, 1, 10, 5, 0, 0, time.UTC)
	v := 95.5
	want := service.DecideRequest{
		Canary: set.Canaries[0], MetricTemplates: set.Templates,
		Status:      analysis.CanaryStatus{Phase: analysis.PhaseProgressing, CanaryWeight: 20, FailedChecks: 1, Iterations: 2},
		NewRevision: true, Readiness: analysis.Readiness{CanaryNotReady: true, Message: "rolling"},
		Checksum: "abc", At: &at, Webhooks: service.WebhooksPass,
		Values: map[string]engine.Value{"request-success-rate": {Value: &v}, "request-duration": {Error: "no-values"}},
		Judges: map[string]map[string]string{"request-duration": {"judge": "histogram", "window": "5m"}},
		Score:  map[string]string{"pass": "90"},
	}
	rv := reflect.ValueOf(want)
	for i := range rv.NumField() {
		if rv.Field(i).IsZero() {
			t.Fatalf("the test leaves DecideRequest.%s unset: set it", rv.Type().Field(i).Name)
		}
	}
	b, err := requestJSON(want)
	if err != nil {
		t.Fatal(err)
	}
	got, err := decodeDecide(b)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("decide request round trip (-want +got):\n%s", diff)
	}

	metric := set.Canaries[0].Spec.Analysis.Metrics[2]
	start := at.Add(-10 * time.Minute)
	wantQ := service.QueryRequest{Canary: set.Canaries[0], Metric: &metric, MetricTemplates: set.Templates, At: &at,
		Judges: map[string]map[string]string{metric.Name: {"judge": "mann-whitney"}}, AnalysisStart: &start}
	rq := reflect.ValueOf(wantQ)
	for i := range rq.NumField() {
		if rq.Type().Field(i).Tag.Get("json") == "-" {
			continue // set by transports, never decoded
		}
		if rq.Field(i).IsZero() {
			t.Fatalf("the test leaves QueryRequest.%s unset: set it", rq.Type().Field(i).Name)
		}
	}
	qb, err := json.Marshal(map[string]any{"canary": json.RawMessage(mustCanaryJSON(t, wantQ.Canary)),
		"metric": metric, "metricTemplates": set.Templates, "at": at, "judges": wantQ.Judges, "analysisStart": start})
	if err != nil {
		t.Fatal(err)
	}
	gotQ, err := decodeQuery(qb)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(wantQ, gotQ, cmpopts.EquateEmpty()); diff != "" {
		t.Errorf("query request round trip (-want +got):\n%s", diff)
	}
}

// mustCanaryJSON encodes a Canary as Flagger's JSON (spec.service whole).
func mustCanaryJSON(t *testing.T, c analysis.Canary) []byte {
	t.Helper()
	b, err := requestJSON(service.DecideRequest{Canary: c})
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]json.RawMessage
	if err := json.Unmarshal(b, &m); err != nil {
		t.Fatal(err)
	}
	return m["canary"]
}

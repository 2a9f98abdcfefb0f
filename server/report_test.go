package server

import (
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/augurproj/augur/analysis"
)

func TestAcceptsHTML(t *testing.T) {
	tests := []struct {
		accept string
		want   bool
	}{
		{"", false},
		{"*/*", false},
		{"application/json", false},
		{"text/html", true},
		{"text/html,application/xhtml+xml,application/xml;q=0.9,*/*;q=0.8", true},
		{"application/json, text/html;q=0.5", false},
		{"text/html;q=0.9, application/json;q=0.9", true},
		{"text/html;q=0", false},
		{"garbage;;;", false},
	}
	for _, tt := range tests {
		if got := acceptsHTML(tt.accept); got != tt.want {
			t.Errorf("acceptsHTML(%q) = %v, want %v", tt.accept, got, tt.want)
		}
	}
}

// TestReport: POST /v1/report takes the decide body; a browser gets the
// HTML page of the tick, a JSON client the same decision /v1/decide gives,
// and a bad body the decide path's error.
func TestReport(t *testing.T) {
	h := podinfoHarness(t, "slow.om", nil)
	req := body(t, podinfoCanaryJSON(t), map[string]any{
		"status": map[string]any{"phase": "Progressing", "canaryWeight": 10, "failedChecks": 2}, "webhooks": "pass"})

	js := do(t, http.MethodPost, h.url+"/v1/report", req, map[string]string{"Accept": "application/json"})
	if js.code != http.StatusOK || js.header.Get("Content-Type") != "application/json" {
		t.Fatalf("JSON: status %d, %s: %s", js.code, js.header.Get("Content-Type"), js.body)
	}
	dec := do(t, http.MethodPost, h.url+"/v1/decide", req, nil)
	if js.body != dec.body {
		t.Errorf("/v1/report as JSON differs from /v1/decide:\n%s\n%s", js.body, dec.body)
	}
	d := decision(t, js)
	if d.Action != analysis.ActionHold {
		t.Fatalf("action %s: %q", d.Action, d.Reasons)
	}

	page := do(t, http.MethodPost, h.url+"/v1/report", req, map[string]string{"Accept": "text/html,*/*;q=0.8"})
	if page.code != http.StatusOK || !strings.HasPrefix(page.header.Get("Content-Type"), "text/html") {
		t.Fatalf("HTML: status %d, %s: %s", page.code, page.header.Get("Content-Type"), page.body)
	}
	if !strings.Contains(page.header.Get("Content-Security-Policy"), "default-src 'none'") {
		t.Errorf("no CSP: %v", page.header)
	}
	for _, want := range []string{`<!DOCTYPE html>`, `id="verdict"`, `data-action="hold"`, `<svg class="chart" id="chart-request-duration"`,
		`data-metric="request-duration"`, `data-result="fail"`} {
		if !strings.Contains(page.body, want) {
			t.Errorf("the page lacks %s", want)
		}
	}
	for _, c := range d.Checks {
		b, _ := json.Marshal(c.Value)
		if !strings.Contains(page.body, `data-metric="`+c.Metric+`" data-value="`+string(b)+`"`) {
			t.Errorf("the page lacks check %s = %s", c.Metric, b)
		}
	}

	bad := do(t, http.MethodPost, h.url+"/v1/report", `{"stauts":{}}`, map[string]string{"Accept": "text/html"})
	if bad.code != http.StatusBadRequest || bad.header.Get("Content-Type") != "application/json" {
		t.Errorf("bad body: status %d, %s: %s", bad.code, bad.header.Get("Content-Type"), bad.body)
	}
}

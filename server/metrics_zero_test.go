package server

import (
	"io"
	"net/http/httptest"
	"strings"
	"testing"
)

// TestMetricsSeriesFromStart: before any request, /metrics already shows
// every labelled counter series with a known label set, at zero.
func TestMetricsSeriesFromStart(t *testing.T) {
	m := NewMetrics(0, nil)
	rec := httptest.NewRecorder()
	m.Handler().ServeHTTP(rec, httptest.NewRequest("GET", "/metrics", nil))
	b, _ := io.ReadAll(rec.Body)
	for _, want := range []string{
		`augur_decisions_total{action="rollback"} 0`,
		`augur_query_errors_total{kind="no-values"} 0`,
		`augur_webhook_checks_total{endpoint="gate",result="fail"} 0`,
		`augur_webhook_checks_total{endpoint="rollback",result="pass"} 0`,
	} {
		if !strings.Contains(string(b), want) {
			t.Errorf("/metrics lacks %s", want)
		}
	}
}

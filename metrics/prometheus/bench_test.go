package prometheus_test

import (
	"testing"
	"time"

	"github.com/augurproj/augur/metrics"
	"github.com/augurproj/augur/metrics/prometheus"
)

// BenchmarkQuery measures one instant query end to end against a loopback
// httptest server serving a one-series vector.
func BenchmarkQuery(b *testing.B) {
	srv := newServer(b, 200, readTestdata(b, "vector-1.json"))
	p, err := prometheus.New(metrics.Config{Address: srv.URL, Headers: map[string][]string{"X-Scope-OrgID": {"t"}}})
	if err != nil {
		b.Fatal(err)
	}
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Query(ctx, "sum(rate(http_requests_total{namespace=\"test\"}[2m]))", time.Time{}); err != nil {
			b.Fatal(err)
		}
	}
}

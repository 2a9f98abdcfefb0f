package prometheus

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

// BenchmarkDecodeVector measures one query's decode path (client_golang's
// JSON decoding, wireClient, reduce) over an in-memory transport.
func BenchmarkDecodeVector(b *testing.B) {
	body, err := os.ReadFile(filepath.Join("testdata", "vector-1.json"))
	if err != nil {
		b.Fatal(err)
	}
	p := newCanned(b, 200, body)
	ctx := b.Context()
	b.ReportAllocs()
	for b.Loop() {
		if _, err := p.Query(ctx, "sum(rate(http_requests_total[2m]))", time.Time{}); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkCollapseSpace(b *testing.B) {
	multi := strings.Repeat("sum(\n    rate(http_requests_total{namespace=\"test\"}[2m])\n)\n", 4)
	single := `sum(rate(http_requests_total{namespace="test"}[2m]))`
	for _, bc := range []struct{ name, q string }{{"multiline", multi}, {"already-collapsed", single}} {
		b.Run(bc.name, func(b *testing.B) {
			b.ReportAllocs()
			for b.Loop() {
				_ = collapseSpace(bc.q)
			}
		})
	}
}

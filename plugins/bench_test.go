package plugins

import (
	"context"
	"testing"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/service"
)

// BenchmarkCall measures one Decide and one Query of the podinfo canary
// (three metrics over recorded data) in-process, over the plugin protocol
// inside this process (gRPC over a local socket), and over a real `augur
// plugin` process: the difference is the plugin's call overhead.
func BenchmarkCall(b *testing.B) {
	data := writeData(b, b.TempDir(), podinfoSeries(1))
	svc := newService(b, data)
	targets := []struct {
		name string
		an   func(b *testing.B) Analyzer
	}{
		{"in-process", func(*testing.B) Analyzer { return svc }},
		{"plugin-same-process", func(b *testing.B) Analyzer { return reattachedTB(b, svc) }},
		{"plugin-subprocess", func(b *testing.B) Analyzer { return startPlugin(b, ClientOptions{Args: []string{"--data", data}}) }},
	}
	query := service.QueryRequest{Canary: podinfoCanary(), MetricTemplates: []analysis.MetricTemplate{errorRateTemplate()}}
	for _, tg := range targets {
		b.Run("Decide/"+tg.name, func(b *testing.B) {
			an := tg.an(b)
			req := decideRequest()
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := an.Decide(ctx, req); err != nil {
					b.Fatal(err)
				}
			}
		})
		b.Run("Query/"+tg.name, func(b *testing.B) {
			an := tg.an(b)
			ctx := context.Background()
			b.ReportAllocs()
			for b.Loop() {
				if _, err := an.Query(ctx, query); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}

// BenchmarkStart measures launching `augur plugin --data FILE` through Start
// (fork/exec, handshake, gRPC dial) and stopping it with Close.
func BenchmarkStart(b *testing.B) {
	bin := augurBinary(b)
	data := writeData(b, b.TempDir(), podinfoSeries(1))
	ctx := context.Background()
	b.ReportAllocs()
	for b.Loop() {
		c, err := Start(ctx, ClientOptions{Path: bin, Args: []string{"--data", data}})
		if err != nil {
			b.Fatal(err)
		}
		c.Close()
	}
}

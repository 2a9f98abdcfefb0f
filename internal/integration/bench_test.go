package integration

import (
	"path/filepath"
	"testing"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/engine"
	"github.com/augurproj/augur/metrics"
	"github.com/augurproj/augur/metrics/prometheus"
)

// BenchmarkIntegrationReplay replays the podinfo canary over healthy.om from
// 09:59 (8 ticks, 15 metric queries) in one process, once with every query
// evaluated by the embedded engine over the loaded file and once against a
// real Prometheus server holding the same file, over loopback HTTP. It needs
// AUGUR_INTEGRATION=1 and skips otherwise:
//
//	AUGUR_INTEGRATION=1 go test ./internal/integration -run '^$' -bench BenchmarkIntegrationReplay -benchtime=50x -count=6
func BenchmarkIntegrationReplay(b *testing.B) {
	requireIntegration(b)
	root := repoRoot(b)
	file := filepath.Join(root, podinfoDir, "healthy.om")
	set := podinfoSet(b, root)
	srv := startServer(b, root, file)
	reg := &metrics.Registry{}
	prometheus.Register(reg)
	server, err := engine.New(engine.Options{Registry: reg, MetricsServer: srv.URL, Hooks: engine.StaticHooks{Pass: true},
		Templates: engine.StaticTemplates(withAddress(set.Templates, srv.URL))})
	if err != nil {
		b.Fatal(err)
	}
	engines := []struct {
		name string
		eng  *engine.Engine
	}{
		{"embedded", embeddedEngine(b, set, loadStore(b, file))},
		{"server", server},
	}
	req := replayRequest(set.Canaries[0])
	for _, e := range engines {
		b.Run(e.name, func(b *testing.B) {
			ticks := 0
			b.ReportAllocs()
			for b.Loop() {
				res, err := e.eng.Replay(b.Context(), req)
				if err != nil {
					b.Fatal(err)
				}
				if res.Result != analysis.PhaseSucceeded {
					b.Fatalf("healthy replay ended %s", res.Result)
				}
				ticks += len(res.Ticks)
			}
			b.ReportMetric(float64(ticks)/b.Elapsed().Seconds(), "ticks/s")
		})
	}
}

// withAddress points copies of the templates' providers at address.
func withAddress(ts []analysis.MetricTemplate, address string) []analysis.MetricTemplate {
	out := make([]analysis.MetricTemplate, len(ts))
	for i, t := range ts {
		t.Spec.Provider.Address = address
		out[i] = t
	}
	return out
}

package integration

import (
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/augurproj/augur/engine"
	"github.com/augurproj/augur/manifest"
	"github.com/augurproj/augur/metrics"
	"github.com/augurproj/augur/metrics/prometheus"
)

// countingProxy is a reverse proxy on loopback in front of the real server
// that counts the API requests by path.
type countingProxy struct {
	*httptest.Server
	mu     sync.Mutex
	counts map[string]int
}

func startCountingProxy(tb testing.TB, target string) *countingProxy {
	tb.Helper()
	u, err := url.Parse(target)
	if err != nil {
		tb.Fatal(err)
	}
	p := &countingProxy{counts: map[string]int{}}
	rp := httputil.NewSingleHostReverseProxy(u)
	p.Server = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.counts[r.URL.Path]++
		p.mu.Unlock()
		rp.ServeHTTP(w, r)
	}))
	tb.Cleanup(p.Close)
	return p
}

// take returns the counts so far and resets them.
func (p *countingProxy) take() map[string]int {
	p.mu.Lock()
	defer p.mu.Unlock()
	c := p.counts
	p.counts = map[string]int{}
	return c
}

func liveEngine(tb testing.TB, set *manifest.Set, address string) *engine.Engine {
	tb.Helper()
	reg := &metrics.Registry{}
	prometheus.Register(reg)
	eng, err := engine.New(engine.Options{Registry: reg, MetricsServer: address, Hooks: engine.StaticHooks{Pass: true},
		Templates: engine.StaticTemplates(withAddress(set.Templates, address))})
	if err != nil {
		tb.Fatal(err)
	}
	return eng
}

// TestIntegrationRangeReplay replays every podinfo dataset against the real
// server twice — one instant query per metric per tick, and with each
// metric's values prefetched by query_range (ReplayRequest.RangeQueries) —
// and requires identical timelines: phases, events, errors and every value
// bit for bit. Ticks without a value (no-traffic's empty vectors) go
// through the instant-query fallback, which the request counts check. It
// logs the HTTP requests each way.
func TestIntegrationRangeReplay(t *testing.T) {
	requireIntegration(t)
	root := repoRoot(t)
	set := podinfoSet(t, root)
	for _, file := range datasets(t, root) {
		name := datasetName(file)
		t.Run(name, func(t *testing.T) {
			srv := startServer(t, root, file)
			proxy := startCountingProxy(t, srv.URL)
			eng := liveEngine(t, set, proxy.URL)
			req := replayRequest(set.Canaries[0])
			inst, err := eng.Replay(t.Context(), req)
			if err != nil {
				t.Fatal(err)
			}
			instCounts := proxy.take()
			req.RangeQueries = true
			rng, err := eng.Replay(t.Context(), req)
			if err != nil {
				t.Fatal(err)
			}
			rngCounts := proxy.take()
			if diff := cmp.Diff(timelineOf(inst), timelineOf(rng)); diff != "" {
				t.Fatalf("range-query replay differs from the instant-query replay (-instant +range):\n%s", diff)
			}
			if rngCounts["/api/v1/query_range"] == 0 {
				t.Fatalf("the range-query replay sent no query_range request: %v", rngCounts)
			}
			// Every tick whose point is missing falls back to its instant
			// query, and only those: here, the checks that failed to query.
			failed := 0
			for _, tk := range timelineOf(inst).Ticks {
				for _, c := range tk.Checks {
					if c.Error != "" {
						failed++
					}
				}
			}
			if got := rngCounts["/api/v1/query"]; got != failed {
				t.Errorf("range-query replay sent %d instant queries, want %d (one per check without a value)", got, failed)
			}
			ri, rr := total(instCounts), total(rngCounts)
			t.Logf("%s: %d ticks, %s; instant queries: %v; range queries: %v; %.1f× fewer requests",
				name, len(inst.Ticks), inst.Result, instCounts, rngCounts, float64(ri)/float64(rr))
		})
	}
}

func total(m map[string]int) int {
	n := 0
	for _, v := range m {
		n += v
	}
	return n
}

// BenchmarkIntegrationRangeReplay replays testdata/scale/canary-24h.yaml over
// a generated long recording (AUGUR_SCALE_DATA=FILE, e.g. from
// `go run ./internal/gendata -out DIR -duration 24h -only healthy.om`) held
// by the real server, with instant queries per tick and with range queries,
// checks both timelines are identical, and reports requests per replay:
//
//	AUGUR_INTEGRATION=1 AUGUR_SCALE_DATA=DIR/healthy.om go test ./internal/integration -run '^$' -bench IntegrationRangeReplay -benchtime 3x
func BenchmarkIntegrationRangeReplay(b *testing.B) {
	requireIntegration(b)
	file := os.Getenv("AUGUR_SCALE_DATA")
	if file == "" {
		b.Skip("set AUGUR_SCALE_DATA to a generated long recording")
	}
	root := repoRoot(b)
	set, err := manifest.DecodePaths([]string{filepath.Join(root, "testdata", "scale")})
	if err != nil {
		b.Fatal(err)
	}
	srv := startServer(b, root, file)
	proxy := startCountingProxy(b, srv.URL)
	eng := liveEngine(b, set, proxy.URL)
	req := engine.ReplayRequest{Canary: set.Canaries[0], Start: windowStart, MaxTicks: 2000}
	var timelines [2]timeline
	for i, mode := range []string{"instant", "range"} {
		req.RangeQueries = mode == "range"
		b.Run(mode, func(b *testing.B) {
			proxy.take()
			n := 0
			for b.Loop() {
				res, err := eng.Replay(b.Context(), req)
				if err != nil {
					b.Fatal(err)
				}
				if res.Result == "" || len(res.Ticks) == 0 {
					b.Fatal("empty replay")
				}
				timelines[i] = timelineOf(res)
				n++
			}
			b.ReportMetric(float64(total(proxy.take()))/float64(n), "requests/replay")
			b.ReportMetric(float64(len(timelines[i].Ticks)), "ticks")
		})
	}
	if diff := cmp.Diff(timelines[0], timelines[1]); diff != "" {
		b.Fatalf("range-query replay differs (-instant +range):\n%s", diff)
	}
}

// TestIntegrationJudgedRangeReplay replays the judged podinfo canary
// (testdata/judged) against the real server with per-tick queries and with
// the replay's range-query prefetch, whose judged metrics' range queries are
// shared by the ticks (each tick reads its window's points from one
// query_range): the timelines must be identical, judgements included.
func TestIntegrationJudgedRangeReplay(t *testing.T) {
	requireIntegration(t)
	root := repoRoot(t)
	set, err := manifest.DecodePaths([]string{filepath.Join(root, "testdata", "judged")})
	if err != nil || len(set.Canaries) != 1 {
		t.Fatal(set, err)
	}
	for _, name := range []string{"latency-regression", "identical"} {
		t.Run(name, func(t *testing.T) {
			srv := startServer(t, root, filepath.Join(root, podinfoDir, name+".om"))
			proxy := startCountingProxy(t, srv.URL)
			eng := liveEngine(t, set, proxy.URL)
			req := replayRequest(set.Canaries[0])
			req.Start = req.Start.Add(5 * time.Minute)
			perTick, err := eng.Replay(t.Context(), req)
			if err != nil {
				t.Fatal(err)
			}
			perTickCounts := proxy.take()
			req.RangeQueries = true
			shared, err := eng.Replay(t.Context(), req)
			if err != nil {
				t.Fatal(err)
			}
			sharedCounts := proxy.take()
			if diff := cmp.Diff(timelineOf(perTick), timelineOf(shared)); diff != "" {
				t.Fatalf("shared range queries change the judged replay (-per tick +shared):\n%s", diff)
			}
			if !reflect.DeepEqual(perTick, shared) {
				t.Fatalf("shared range queries change the judged replay's decisions:\nper tick %+v\nshared   %+v", perTick, shared)
			}
			judged := 0
			for _, tk := range perTick.Ticks {
				for _, c := range tk.Decision.Checks {
					if c.Judgement != nil {
						judged++
					}
				}
			}
			if judged == 0 {
				t.Fatal("no judged check in the replay")
			}
			t.Logf("%s: %d ticks, %s, %d judged checks; per tick: %v; shared: %v", name, len(perTick.Ticks), perTick.Result, judged, perTickCounts, sharedCounts)
		})
	}
}

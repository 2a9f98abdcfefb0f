package server

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/augurproj/augur/engine"
	"github.com/augurproj/augur/manifest"
	"github.com/augurproj/augur/metrics"
	"github.com/augurproj/augur/metrics/prometheus"
	"github.com/augurproj/augur/service"
	"github.com/augurproj/augur/webhooks"
)

// slowPrometheus is a real loopback Prometheus stand-in that answers each
// query after delay (or when the query is abandoned), and records when each
// query arrived and whether its sender gave it up.
type slowPrometheus struct {
	ts        *httptest.Server
	mu        sync.Mutex
	arrivals  []time.Time
	abandoned atomic.Int64
	first     chan struct{}
	once      sync.Once
}

func newSlowPrometheus(t *testing.T, delay time.Duration) *slowPrometheus {
	t.Helper()
	p := &slowPrometheus{first: make(chan struct{})}
	p.ts = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p.mu.Lock()
		p.arrivals = append(p.arrivals, time.Now())
		p.mu.Unlock()
		p.once.Do(func() { close(p.first) })
		select {
		case <-r.Context().Done():
			p.abandoned.Add(1)
			return
		case <-time.After(delay):
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprint(w, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1700000000,"1"]}]}}`)
	}))
	t.Cleanup(p.ts.Close)
	return p
}

func (p *slowPrometheus) arrivedAfter(t0 time.Time) (after, total int) {
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, a := range p.arrivals {
		if a.After(t0) {
			after++
		}
	}
	return after, len(p.arrivals)
}

// TestServerStopsWhenTheClientIsGone sends an expensive request (a Canary
// with 200 metrics against a Prometheus that takes 1 s per query: about
// 13 s of work at the engine's default concurrency of 16), cancels the
// client as soon as the first query reaches Prometheus, and requires that
// the server stops: the queries in flight are abandoned and no new query
// reaches Prometheus after the disconnect (500 ms of grace for the server
// to notice), for each endpoint that evaluates metrics (/flagger/v1/check
// reads the Canary from the loaded files, as `augur serve -f` does).
func TestServerStopsWhenTheClientIsGone(t *testing.T) {
	const nMetrics = 200
	for _, path := range []string{"/v1/decide", "/v1/query", "/flagger/v1/check"} {
		t.Run(strings.TrimPrefix(path, "/"), func(t *testing.T) {
			prom := newSlowPrometheus(t, time.Second)
			var b strings.Builder
			fmt.Fprintf(&b, `apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata: {name: slow, namespace: test}
spec:
  provider: {type: prometheus, address: %s}
  query: up
---
apiVersion: flagger.app/v1beta1
kind: Canary
metadata: {name: podinfo, namespace: test}
spec:
  targetRef: {apiVersion: apps/v1, kind: Deployment, name: podinfo}
  analysis:
    interval: 1m
    threshold: 5
    maxWeight: 50
    stepWeight: 10
    metrics:
`, prom.ts.URL)
			for i := range nMetrics {
				fmt.Fprintf(&b, "    - {name: m%03d, templateRef: {name: slow}, thresholdRange: {min: 0}}\n", i)
			}
			set, err := manifest.DecodeBytes([]byte(b.String()), "files.yaml")
			if err != nil {
				t.Fatal(err)
			}
			logs := &syncBuffer{}
			logger := slog.New(slog.NewJSONHandler(logs, &slog.HandlerOptions{Level: slog.LevelDebug}))
			reg := &metrics.Registry{}
			prometheus.Register(reg, prometheus.WithLogger(logger))
			m := NewMetrics(0, logger)
			hooks := webhooks.New(webhooks.Options{Logger: logger})
			eng, err := engine.New(engine.Options{Registry: m.InstrumentRegistry(reg), Hooks: hooks, Logger: logger,
				Templates: engine.StaticTemplates(set.Templates), QueryTimeout: 30 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			svc, err := service.New(service.Options{Engine: eng, Hooks: hooks})
			if err != nil {
				t.Fatal(err)
			}
			srv, err := New(Options{Service: svc, Logger: logger, Metrics: m, RequestTimeout: 2 * time.Minute,
				Canaries: []CanarySource{StaticCanaries(set.Canaries)}})
			if err != nil {
				t.Fatal(err)
			}
			ts := httptest.NewServer(srv.Handler())
			t.Cleanup(ts.Close)

			body := `{"canary":` + mustJSON(t, set.Canaries[0]) + `}`
			switch path {
			case "/v1/decide":
				body = `{"canary":` + mustJSON(t, set.Canaries[0]) + `,"status":{"phase":"Progressing","canaryWeight":10}}`
			case "/flagger/v1/check":
				body = flaggerBody(t, "podinfo", "test", nil)
			}
			ctx, cancel := context.WithCancel(context.Background())
			defer cancel()
			req, err := http.NewRequestWithContext(ctx, http.MethodPost, ts.URL+path, strings.NewReader(body))
			if err != nil {
				t.Fatal(err)
			}
			req.Header.Set("Content-Type", "application/json")
			errc := make(chan error, 1)
			go func() {
				resp, err := http.DefaultClient.Do(req)
				if err == nil {
					b, _ := io.ReadAll(resp.Body)
					resp.Body.Close()
					err = fmt.Errorf("answered %d before the client left: %s", resp.StatusCode, b)
				}
				errc <- err
			}()
			select {
			case <-prom.first:
			case err := <-errc:
				t.Fatalf("no query reached Prometheus: %v", err)
			case <-time.After(30 * time.Second):
				t.Fatal("no query reached Prometheus in 30 s")
			}
			cancel()
			gone := time.Now()
			if err := <-errc; ctx.Err() == nil {
				t.Fatalf("the client was not cancelled: %v", err)
			}

			// Long enough for several more rounds of 1 s queries, had the
			// server gone on working.
			time.Sleep(3 * time.Second)
			late, total := prom.arrivedAfter(gone.Add(500 * time.Millisecond))
			if late > 0 {
				t.Errorf("%d of %d queries reached Prometheus more than 500 ms after the client left", late, total)
			}
			if total >= nMetrics {
				t.Errorf("all %d queries ran for a client that had left", total)
			}
			if got := prom.abandoned.Load(); got == 0 {
				t.Errorf("no query in flight was abandoned (%d arrived): the engine's context was not cancelled", total)
			}
			t.Logf("%d of %d queries reached Prometheus in all, %d abandoned in flight", total, nMetrics, prom.abandoned.Load())
		})
	}
}

package server

import (
	"bytes"
	"io"
	"net/http"
	"sync"
	"testing"
	"time"
)

// benchDecide posts the podinfo decide request (three metrics over the
// recorded data, static webhooks) to a loopback server, clients requests
// at a time per iteration, and reports decisions per second.
func benchDecide(b *testing.B, clients int) {
	reg, end := recordedRegistry(b, "healthy.om")
	canary := podinfoCanaryJSON(b)
	req := mustJSON(b, map[string]any{"canary": canary,
		"status": map[string]any{"phase": "Progressing", "canaryWeight": 10}, "webhooks": "pass"})
	h := benchHarness(b, harnessConfig{registry: reg, end: end, set: podinfoFiles(b)})
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}, Timeout: 30 * time.Second}
	defer client.CloseIdleConnections()
	post := func() {
		resp, err := client.Post(h+"/v1/decide", "application/json", bytes.NewReader([]byte(req)))
		if err != nil {
			b.Error(err)
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Errorf("status %d", resp.StatusCode)
		}
	}
	post() // warm the provider and template caches
	b.ReportAllocs()
	b.ResetTimer()
	for b.Loop() {
		var wg sync.WaitGroup
		for range clients {
			wg.Go(post)
		}
		wg.Wait()
	}
	b.ReportMetric(float64(b.N*clients)/b.Elapsed().Seconds(), "decisions/s")
}

// BenchmarkDecideLoopback is one client deciding after another.
func BenchmarkDecideLoopback(b *testing.B) { benchDecide(b, 1) }

// BenchmarkDecideLoopbackParallel is eight clients deciding at once.
func BenchmarkDecideLoopbackParallel(b *testing.B) { benchDecide(b, 8) }

// BenchmarkFlaggerCheck is Flagger calling POST /flagger/v1/check for the
// podinfo canary's own three metrics.
func BenchmarkFlaggerCheck(b *testing.B) {
	reg, end := recordedRegistry(b, "healthy.om")
	url := benchHarness(b, harnessConfig{registry: reg, end: end, set: podinfoFiles(b)}) + "/flagger/v1/check"
	payload := []byte(`{"name":"podinfo","namespace":"test","phase":"Progressing","checksum":"abc"}`)
	client := &http.Client{Timeout: 30 * time.Second}
	defer client.CloseIdleConnections()
	b.ReportAllocs()
	for b.Loop() {
		resp, err := client.Post(url, "application/json", bytes.NewReader(payload))
		if err != nil {
			b.Fatal(err)
		}
		msg, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Fatalf("status %d: %s", resp.StatusCode, msg)
		}
	}
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "checks/s")
}

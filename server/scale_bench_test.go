package server

import (
	"bytes"
	"fmt"
	"io"
	"net/http"
	"os"
	"runtime"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"
)

// BenchmarkDecideClients measures decisions per second against one
// loopback `augur serve` handler as the number of concurrent keep-alive
// clients grows (each client posts its next decision as soon as the last one
// is answered).
func BenchmarkDecideClients(b *testing.B) {
	for _, clients := range []int{1, 2, 4, 8, 16, 32} {
		b.Run(fmt.Sprintf("clients=%d", clients), func(b *testing.B) {
			post := decidePoster(b, clients)
			post(0)
			b.ReportAllocs()
			var next atomic.Int64
			var wg sync.WaitGroup
			b.ResetTimer()
			for range clients {
				wg.Go(func() {
					for i := next.Add(1); i <= int64(b.N); i = next.Add(1) {
						post(int(i))
					}
				})
			}
			wg.Wait()
			b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "decisions/s")
		})
	}
}

// BenchmarkDecideDistinctCanaries sends 100,000 decisions ($AUGUR_BENCH_DECISIONS
// overrides the count), each for a Canary
// of its own name, from 8 clients, and reports the live heap (after a GC)
// after the first 10,000 and after all of them: a server that kept anything
// per Canary (a cache, a map of names) would grow between the two.
func BenchmarkDecideDistinctCanaries(b *testing.B) {
	const clients, early = 8, 10_000
	total := int64(100_000)
	if v, err := strconv.ParseInt(os.Getenv("AUGUR_BENCH_DECISIONS"), 10, 64); err == nil && v > early {
		total = v // a shorter run on a busy machine
	}
	post := decidePoster(b, clients)
	heap := func() float64 {
		runtime.GC()
		runtime.GC()
		var m runtime.MemStats
		runtime.ReadMemStats(&m)
		return float64(m.HeapAlloc) / (1 << 20)
	}
	for b.Loop() {
		var next atomic.Int64
		run := func(upto int64) {
			var wg sync.WaitGroup
			for range clients {
				wg.Go(func() {
					for i := next.Add(1); i <= upto; i = next.Add(1) {
						post(int(i))
					}
				})
			}
			wg.Wait()
			next.Store(upto)
		}
		run(early)
		at10k := heap()
		run(total)
		atEnd := heap()
		b.ReportMetric(at10k, "heap-MiB@10k")
		b.ReportMetric(atEnd, "heap-MiB@end")
		b.ReportMetric(float64(total), "decisions")
	}
	b.ReportMetric(float64(int64(b.N)*total)/b.Elapsed().Seconds(), "decisions/s")
}

// decidePoster returns a function posting the podinfo decide request (three
// metrics over recorded data, static webhooks) for the Canary named
// podinfo-<i> to a fresh loopback server, for up to clients at once.
func decidePoster(b *testing.B, clients int) func(i int) {
	reg, end := recordedRegistry(b, "healthy.om")
	h := benchHarness(b, harnessConfig{registry: reg, end: end, set: podinfoFiles(b)})
	canary := podinfoCanaryJSON(b)
	client := &http.Client{Transport: &http.Transport{MaxIdleConnsPerHost: clients}, Timeout: 30 * time.Second}
	b.Cleanup(client.CloseIdleConnections)
	// The request with a placeholder name, split around it once.
	canary["metadata"].(map[string]any)["name"] = "NAME-PLACEHOLDER"
	req := mustJSON(b, map[string]any{"canary": canary,
		"status": map[string]any{"phase": "Progressing", "canaryWeight": 10}, "webhooks": "pass"})
	before, after, ok := bytes.Cut([]byte(req), []byte("NAME-PLACEHOLDER"))
	if !ok {
		b.Fatal("no name placeholder in the request")
	}
	return func(i int) {
		body := fmt.Appendf(append([]byte(nil), before...), "podinfo-%d", i)
		body = append(body, after...)
		resp, err := client.Post(h+"/v1/decide", "application/json", bytes.NewReader(body))
		if err != nil {
			b.Error(err)
			return
		}
		msg, _ := io.ReadAll(resp.Body)
		resp.Body.Close()
		if resp.StatusCode != http.StatusOK {
			b.Errorf("status %d: %s", resp.StatusCode, msg)
		}
	}
}

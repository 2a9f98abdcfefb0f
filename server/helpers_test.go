package server

import (
	"bytes"
	"context"
	"encoding/json"
	"flag"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"sigs.k8s.io/yaml"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/engine"
	"github.com/augurproj/augur/internal/scenario"
	"github.com/augurproj/augur/manifest"
	"github.com/augurproj/augur/metrics"
	"github.com/augurproj/augur/metrics/metricstest"
	"github.com/augurproj/augur/metrics/recorded"
	"github.com/augurproj/augur/service"
	"github.com/augurproj/augur/webhooks"
)

var update = flag.Bool("update", false, "rewrite golden files")

// golden compares got with testdata/<name>, or rewrites it with -update.
func golden(t *testing.T, name, got string) {
	t.Helper()
	path := filepath.Join("testdata", filepath.FromSlash(name))
	if *update {
		if err := os.MkdirAll(filepath.Dir(path), 0o755); err != nil {
			t.Fatal(err)
		}
		if err := os.WriteFile(path, []byte(got), 0o644); err != nil {
			t.Fatal(err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("%v (run with -update to create it)", err)
	}
	if diff := cmp.Diff(string(want), got); diff != "" {
		t.Errorf("%s differs (-want +got; run with -update after checking):\n%s", path, diff)
	}
}

// syncBuffer is a bytes.Buffer safe for concurrent writes (log records).
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

// testdataDir is the repository's testdata directory.
func testdataDir(t testing.TB) string {
	t.Helper()
	td, err := scenario.TestdataDir()
	if err != nil {
		t.Fatal(err)
	}
	return td
}

// podinfoFiles loads testdata/podinfo's Canary and MetricTemplate.
func podinfoFiles(t testing.TB) *manifest.Set {
	t.Helper()
	set, err := manifest.DecodePaths([]string{filepath.Join(testdataDir(t), "podinfo")})
	if err != nil {
		t.Fatal(err)
	}
	return set
}

// podinfoCanaryJSON is testdata/podinfo/canary.yaml as the JSON Flagger's
// API would hand out (service.port and all).
func podinfoCanaryJSON(t testing.TB) map[string]any {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(testdataDir(t), "podinfo", "canary.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	j, err := yaml.YAMLToJSON(b)
	if err != nil {
		t.Fatal(err)
	}
	var m map[string]any
	if err := json.Unmarshal(j, &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// recordedRegistry serves testdata/podinfo/<file> for the prometheus type.
func recordedRegistry(t testing.TB, file string) (*metrics.Registry, time.Time) {
	t.Helper()
	store, err := recorded.LoadOpenMetricsFile(filepath.Join(testdataDir(t), "podinfo", file))
	if err != nil {
		t.Fatal(err)
	}
	p := recorded.New(store, recorded.Options{})
	reg := &metrics.Registry{}
	reg.Register("prometheus", func(metrics.Config) (metrics.Provider, error) { return p, nil })
	return reg, store.End()
}

// fakeRegistry serves p for the prometheus type.
func fakeRegistry(p metrics.Provider) *metrics.Registry {
	reg := &metrics.Registry{}
	reg.Register("prometheus", func(metrics.Config) (metrics.Provider, error) { return p, nil })
	return reg
}

// harness is a Server on a real loopback listener.
type harness struct {
	srv     *Server
	ts      *httptest.Server
	url     string
	logs    *syncBuffer
	metrics *Metrics
}

type harnessConfig struct {
	registry   *metrics.Registry
	end        time.Time
	set        *manifest.Set
	opts       func(*Options)
	hooks      engine.HookCaller
	queryLimit time.Duration
	// logTo, when set, receives the info-level logs instead of harness.logs.
	logTo io.Writer
}

// newHarness starts a server over cfg's registry with cfg.set's templates
// and canaries preloaded, as `augur serve -f` does.
func newHarness(t testing.TB, cfg harnessConfig) *harness {
	t.Helper()
	logs := &syncBuffer{}
	var w io.Writer = logs
	level := slog.LevelDebug
	if cfg.logTo != nil {
		w, level = cfg.logTo, slog.LevelInfo
	}
	logger := slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: level}))
	m := NewMetrics(0, logger)
	hooks := cfg.hooks
	if hooks == nil {
		hooks = webhooks.New(webhooks.Options{Backoff: func(int) time.Duration { return time.Millisecond }})
	}
	eo := engine.Options{Registry: m.InstrumentRegistry(cfg.registry), Hooks: hooks, Logger: logger, QueryTimeout: cfg.queryLimit}
	if cfg.set != nil {
		eo.Templates = engine.StaticTemplates(cfg.set.Templates)
	}
	eng, err := engine.New(eo)
	if err != nil {
		t.Fatal(err)
	}
	so := service.Options{Engine: eng, Hooks: hooks}
	if end := cfg.end; !end.IsZero() {
		so.DefaultAt = func() time.Time { return end }
	}
	svc, err := service.New(so)
	if err != nil {
		t.Fatal(err)
	}
	opts := Options{Service: svc, Logger: logger, Metrics: m}
	if cfg.set != nil {
		opts.Canaries = []CanarySource{StaticCanaries(cfg.set.Canaries)}
	}
	if cfg.opts != nil {
		cfg.opts(&opts)
	}
	srv, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	ts := httptest.NewServer(srv.Handler())
	t.Cleanup(ts.Close)
	return &harness{srv: srv, ts: ts, url: ts.URL, logs: logs, metrics: m}
}

// benchHarness is newHarness for benchmarks, logging as `augur serve` does
// (JSON, info level) to nowhere; it returns the server's URL.
func benchHarness(b *testing.B, cfg harnessConfig) string {
	b.Helper()
	cfg.logTo = io.Discard
	return newHarness(b, cfg).url
}

// podinfoHarness serves healthy.om (or file) with testdata/podinfo preloaded.
func podinfoHarness(t *testing.T, file string, opts func(*Options)) *harness {
	t.Helper()
	reg, end := recordedRegistry(t, file)
	return newHarness(t, harnessConfig{registry: reg, end: end, set: podinfoFiles(t), opts: opts})
}

// fakeHarness serves p with testdata/podinfo preloaded.
func fakeHarness(t *testing.T, p *metricstest.Provider, opts func(*Options)) *harness {
	t.Helper()
	return newHarness(t, harnessConfig{registry: fakeRegistry(p), set: podinfoFiles(t), opts: opts})
}

// answer is an HTTP answer.
type answer struct {
	code   int
	header http.Header
	body   string
}

// do sends one request with a JSON content type and reads the answer.
func do(t testing.TB, method, url, body string, header map[string]string) answer {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, method, url, strings.NewReader(body))
	if err != nil {
		t.Fatal(err)
	}
	if body != "" {
		req.Header.Set("Content-Type", "application/json")
	}
	for k, v := range header {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{code: resp.StatusCode, header: resp.Header, body: string(b)}
}

// mustJSON encodes v.
func mustJSON(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// decision decodes a decide answer.
func decision(t testing.TB, a answer) analysis.Decision {
	t.Helper()
	var d analysis.Decision
	dec := json.NewDecoder(strings.NewReader(a.body))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&d); err != nil {
		t.Fatalf("decoding decision: %v\n%s", err, a.body)
	}
	return d
}

// pretty indents a JSON answer for golden files.
func pretty(t testing.TB, body string) string {
	t.Helper()
	var buf bytes.Buffer
	if err := json.Indent(&buf, []byte(body), "", "  "); err != nil {
		return body
	}
	return buf.String()
}

package server

import (
	"bufio"
	"context"
	"crypto/ecdsa"
	"crypto/elliptic"
	"crypto/rand"
	"crypto/tls"
	"crypto/x509"
	"crypto/x509/pkix"
	"encoding/pem"
	"errors"
	"fmt"
	"math"
	"math/big"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/augurproj/augur/metrics"
	"github.com/augurproj/augur/metrics/metricstest"
)

func TestNewOptions(t *testing.T) {
	if _, err := New(Options{}); err == nil {
		t.Error("New without a Service: no error")
	}
	h := podinfoHarness(t, "healthy.om", nil)
	if _, err := New(Options{Service: h.srv.svc, TLSCertFile: "cert.pem"}); err == nil || !strings.Contains(err.Error(), "both") {
		t.Errorf("TLS without a key: %v", err)
	}
	if _, err := New(Options{Service: h.srv.svc, TLSCertFile: "missing.pem", TLSKeyFile: "missing.key"}); err == nil || !strings.Contains(err.Error(), "TLS certificate") {
		t.Errorf("TLS with missing files: %v", err)
	}
	s, err := New(Options{Service: h.srv.svc})
	if err != nil {
		t.Fatal(err)
	}
	if s.opts.MaxBody != DefaultMaxBody || s.opts.RequestTimeout != DefaultRequestTimeout || s.opts.ShutdownGrace != DefaultShutdownGrace {
		t.Errorf("defaults not applied: %+v", s.opts)
	}
}

func TestAuth(t *testing.T) {
	const token = "s3cret-token"
	h := podinfoHarness(t, "healthy.om", func(o *Options) { o.Token = token })
	decide := body(t, podinfoCanaryJSON(t), map[string]any{"status": map[string]any{"phase": "Progressing", "canaryWeight": 10}, "webhooks": "pass"})
	check := flaggerBody(t, "podinfo", "test", nil)
	withToken := flaggerBody(t, "podinfo", "test", map[string]string{"token": token})
	wrongToken := flaggerBody(t, "podinfo", "test", map[string]string{"token": "guess"})
	bearer := map[string]string{"Authorization": "Bearer " + token}
	tests := []struct {
		name, method, path, body string
		header                   map[string]string
		code                     int
	}{
		{"decide-none", "POST", "/v1/decide", decide, nil, 401},
		{"decide-wrong", "POST", "/v1/decide", decide, map[string]string{"Authorization": "Bearer guess"}, 401},
		{"decide-basic", "POST", "/v1/decide", decide, map[string]string{"Authorization": "Basic " + token}, 401},
		{"decide-prefix", "POST", "/v1/decide", decide, map[string]string{"Authorization": "Bearer " + token[:5]}, 401},
		{"decide-bearer", "POST", "/v1/decide", decide, bearer, 200},
		{"decide-bearer-lowercase", "POST", "/v1/decide", decide, map[string]string{"Authorization": "bearer " + token}, 200},
		{"query-none", "POST", "/v1/query", `{}`, nil, 401},
		{"check-none", "POST", "/flagger/v1/check", check, nil, 401},
		{"check-metadata-token", "POST", "/flagger/v1/check", withToken, nil, 200},
		{"check-wrong-metadata-token", "POST", "/flagger/v1/check", wrongToken, nil, 401},
		{"check-bearer", "POST", "/flagger/v1/check", check, bearer, 200},
		{"check-wrong-bearer-beats-metadata", "POST", "/flagger/v1/check", withToken, map[string]string{"Authorization": "Bearer guess"}, 401},
		{"gate-open-none", "POST", "/flagger/v1/gate/open", check, nil, 401},
		{"gate-open-bearer", "POST", "/flagger/v1/gate/open", check, bearer, 202},
		{"gate-get-none", "GET", "/flagger/v1/gate/test/podinfo", "", nil, 401},
		{"gate-get-bearer", "GET", "/flagger/v1/gate/test/podinfo", "", bearer, 200},
		{"healthz", "GET", "/healthz", "", nil, 200},
		{"readyz", "GET", "/readyz", "", nil, 200},
		{"metrics", "GET", "/metrics", "", nil, 200},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			a := do(t, tc.method, h.url+tc.path, tc.body, tc.header)
			if a.code != tc.code {
				t.Fatalf("status %d, want %d: %s", a.code, tc.code, a.body)
			}
			if tc.code == 401 {
				if got := a.header.Get("WWW-Authenticate"); got != `Bearer realm="augur"` {
					t.Errorf("WWW-Authenticate %q", got)
				}
				if strings.Contains(a.body, token) {
					t.Errorf("answer shows the token: %s", a.body)
				}
			}
		})
	}
	if strings.Contains(h.logs.String(), token) {
		t.Errorf("logs show the token:\n%s", h.logs)
	}
}

func TestBodyLimit(t *testing.T) {
	h := podinfoHarness(t, "healthy.om", func(o *Options) { o.MaxBody = 1 << 10 })
	big := body(t, podinfoCanaryJSON(t), map[string]any{"checksum": strings.Repeat("x", 2<<10)})
	bigCheck := flaggerBody(t, "podinfo", "test", map[string]string{"query": strings.Repeat("x", 2<<10), "max": "1"})
	tests := []struct {
		path, body string
		code       int
		want       string
	}{
		{"/v1/decide", big, 413, `{"error":"request body too large: the limit is 1024 bytes"}` + "\n"},
		{"/v1/query", big, 413, `{"error":"request body too large: the limit is 1024 bytes"}` + "\n"},
		{"/flagger/v1/check", bigCheck, 413, "augur: request body too large: the limit is 1024 bytes\n"},
		{"/flagger/v1/check", flaggerBody(t, "podinfo", "test", nil), 200, ""},
	}
	for _, tc := range tests {
		a := do(t, http.MethodPost, h.url+tc.path, tc.body, nil)
		if a.code != tc.code || (tc.want != "" && a.body != tc.want) {
			t.Errorf("%s (%d bytes): %d %q, want %d %q", tc.path, len(tc.body), a.code, a.body, tc.code, tc.want)
		}
	}
}

func TestRequestTimeout(t *testing.T) {
	p := &metricstest.Provider{Latency: 5 * time.Second}
	p.SetDefault(metricstest.Result{Value: 1})
	h := fakeHarness(t, p, func(o *Options) { o.RequestTimeout = 100 * time.Millisecond })
	canary := podinfoCanaryJSON(t)
	tests := []struct {
		path, body string
		code       int
		want       string
	}{
		{"/v1/decide", body(t, canary, map[string]any{"status": map[string]any{"phase": "Progressing", "canaryWeight": 10}, "webhooks": "pass"}),
			503, "request timed out after 100ms"},
		{"/v1/query", body(t, canary, nil), 503, "request timed out after 100ms"},
		{"/flagger/v1/check", flaggerBody(t, "podinfo", "test", nil), 403, "augur: the check did not finish within 100ms (--request-timeout)"},
	}
	for _, tc := range tests {
		start := time.Now()
		a := do(t, http.MethodPost, h.url+tc.path, tc.body, nil)
		if a.code != tc.code || !strings.Contains(a.body, tc.want) {
			t.Errorf("%s: %d %q, want %d containing %q", tc.path, a.code, a.body, tc.code, tc.want)
		}
		if took := time.Since(start); took >= p.Latency {
			t.Errorf("%s: answered after %s, not cut short by the request timeout", tc.path, took)
		}
	}
}

// serve runs s on a fresh loopback listener until the returned cancel;
// done is closed when Serve returns, with its error in *err.
func serve(t *testing.T, s *Server) (addr string, cancel context.CancelFunc, done <-chan struct{}, err *error) {
	t.Helper()
	ln, lerr := net.Listen("tcp", "127.0.0.1:0")
	if lerr != nil {
		t.Fatal(lerr)
	}
	ctx, cancel := context.WithCancel(context.Background())
	ch := make(chan struct{})
	var serveErr error
	go func() {
		serveErr = s.Serve(ctx, ln)
		close(ch)
	}()
	t.Cleanup(func() {
		cancel()
		select {
		case <-ch:
		case <-time.After(10 * time.Second):
			t.Error("Serve did not return")
		}
	})
	return ln.Addr().String(), cancel, ch, &serveErr
}

func TestGracefulShutdown(t *testing.T) {
	p := &metricstest.Provider{Latency: 700 * time.Millisecond}
	p.SetDefault(metricstest.Result{Value: 1})
	h := fakeHarness(t, p, nil)
	addr, cancel, done, serveErr := serve(t, h.srv)
	url := "http://" + addr
	minimal := `{"canary":{"metadata":{"name":"podinfo","namespace":"test"},"spec":{"targetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"podinfo"}}},` +
		`"metric":{"name":"slow","query":"slow","thresholdRange":{"min":1}}}`
	inflight := make(chan answer, 1)
	go func() { inflight <- do(t, http.MethodPost, url+"/v1/query", minimal, nil) }()
	deadline := time.Now().Add(5 * time.Second)
	for p.InFlight() == 0 {
		if time.Now().After(deadline) {
			t.Fatal("the request never reached the provider")
		}
		time.Sleep(5 * time.Millisecond)
	}
	cancel()
	a := <-inflight
	if a.code != http.StatusOK || !strings.Contains(a.body, `"passed":true`) {
		t.Errorf("in-flight request after shutdown began: %d %s", a.code, a.body)
	}
	select {
	case <-done:
		if *serveErr != nil {
			t.Errorf("Serve: %v", *serveErr)
		}
	case <-time.After(5 * time.Second):
		t.Fatal("Serve did not return after the in-flight request finished")
	}
	if _, err := net.DialTimeout("tcp", addr, time.Second); err == nil {
		t.Error("still accepting connections after shutdown")
	}
	if !strings.Contains(h.logs.String(), "shutting down") {
		t.Errorf("shutdown not logged:\n%s", h.logs)
	}
}

func TestShutdownGraceExceeded(t *testing.T) {
	p := &metricstest.Provider{Latency: 10 * time.Second}
	p.SetDefault(metricstest.Result{Value: 1})
	h := fakeHarness(t, p, func(o *Options) { o.ShutdownGrace = 100 * time.Millisecond })
	addr, cancel, done, serveErr := serve(t, h.srv)
	// Every in-flight request is answered (503), none is dropped.
	const clients = 20
	codes := make(chan int, clients)
	for range clients {
		go func() {
			req, _ := http.NewRequest(http.MethodPost, "http://"+addr+"/v1/query", strings.NewReader(body(t, podinfoCanaryJSON(t), nil)))
			resp, err := http.DefaultClient.Do(req)
			if err != nil {
				t.Log(err)
				codes <- 0
				return
			}
			resp.Body.Close()
			codes <- resp.StatusCode
		}()
	}
	// The podinfo canary has three metrics: every request is in a handler.
	for wait := time.Now().Add(10 * time.Second); p.InFlight() < 3*clients && time.Now().Before(wait); {
		time.Sleep(5 * time.Millisecond)
	}
	start := time.Now()
	cancel()
	select {
	case <-done:
		if err := *serveErr; err != nil {
			t.Errorf("Serve: %v, want nil (a shutdown is not an error)", err)
		}
	case <-time.After(10 * time.Second):
		t.Fatal("Serve did not give up after the grace period")
	}
	if took := time.Since(start); took > 8*time.Second {
		t.Errorf("shutdown took %s", took)
	}
	for range clients {
		if c := <-codes; c != http.StatusServiceUnavailable {
			t.Errorf("in-flight request answered %d, want 503", c)
		}
	}
	if t.Failed() {
		t.Log(h.logs.String())
	}
	deadline := time.Now().Add(5 * time.Second)
	for p.InFlight() != 0 && time.Now().Before(deadline) {
		time.Sleep(5 * time.Millisecond)
	}
	if p.InFlight() != 0 {
		t.Error("the in-flight query was not cancelled after the grace period")
	}
}

// writeCert writes a self-signed certificate for 127.0.0.1 and returns its pool.
func writeCert(t *testing.T, certFile, keyFile, cn string) *x509.CertPool {
	t.Helper()
	key, err := ecdsa.GenerateKey(elliptic.P256(), rand.Reader)
	if err != nil {
		t.Fatal(err)
	}
	serial, err := rand.Int(rand.Reader, big.NewInt(math.MaxInt64))
	if err != nil {
		t.Fatal(err)
	}
	tmpl := &x509.Certificate{
		SerialNumber: serial, Subject: pkix.Name{CommonName: cn},
		NotBefore: time.Now().Add(-time.Hour), NotAfter: time.Now().Add(time.Hour),
		IPAddresses: []net.IP{net.ParseIP("127.0.0.1")}, KeyUsage: x509.KeyUsageDigitalSignature | x509.KeyUsageCertSign,
		ExtKeyUsage: []x509.ExtKeyUsage{x509.ExtKeyUsageServerAuth}, BasicConstraintsValid: true, IsCA: true,
	}
	der, err := x509.CreateCertificate(rand.Reader, tmpl, tmpl, &key.PublicKey, key)
	if err != nil {
		t.Fatal(err)
	}
	kb, err := x509.MarshalECPrivateKey(key)
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(certFile, pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: der}), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(keyFile, pem.EncodeToMemory(&pem.Block{Type: "EC PRIVATE KEY", Bytes: kb}), 0o600); err != nil {
		t.Fatal(err)
	}
	cert, err := x509.ParseCertificate(der)
	if err != nil {
		t.Fatal(err)
	}
	pool := x509.NewCertPool()
	pool.AddCert(cert)
	return pool
}

func TestTLS(t *testing.T) {
	dir := t.TempDir()
	certFile, keyFile := filepath.Join(dir, "tls.crt"), filepath.Join(dir, "tls.key")
	pool := writeCert(t, certFile, keyFile, "first")
	h := podinfoHarness(t, "healthy.om", func(o *Options) { o.TLSCertFile, o.TLSKeyFile = certFile, keyFile })
	addr, _, _, _ := serve(t, h.srv)

	get := func(pool *x509.CertPool) (*http.Response, error) {
		c := &http.Client{Transport: &http.Transport{TLSClientConfig: &tls.Config{RootCAs: pool}}, Timeout: 5 * time.Second}
		defer c.CloseIdleConnections()
		return c.Get("https://" + addr + "/healthz")
	}
	resp, err := get(pool)
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != 200 || resp.TLS == nil || resp.TLS.PeerCertificates[0].Subject.CommonName != "first" {
		t.Fatalf("HTTPS: %d, TLS %v", resp.StatusCode, resp.TLS != nil)
	}
	if resp.TLS.Version < tls.VersionTLS12 {
		t.Errorf("TLS version %x", resp.TLS.Version)
	}
	old := &tls.Config{RootCAs: pool, MaxVersion: tls.VersionTLS11}
	if conn, err := tls.Dial("tcp", addr, old); err == nil {
		conn.Close()
		t.Error("TLS 1.1 accepted")
	}
	if resp, err := http.Get("http://" + addr + "/healthz"); err == nil {
		resp.Body.Close()
		if resp.StatusCode != http.StatusBadRequest {
			t.Errorf("plain HTTP to the TLS port: %d", resp.StatusCode)
		}
	}

	// Rotation: new files, new modification time.
	pool2 := writeCert(t, certFile, keyFile, "second")
	later := time.Now().Add(time.Minute)
	for _, f := range []string{certFile, keyFile} {
		if err := os.Chtimes(f, later, later); err != nil {
			t.Fatal(err)
		}
	}
	resp, err = get(pool2)
	if err != nil {
		t.Fatalf("after rotation: %v", err)
	}
	resp.Body.Close()
	if cn := resp.TLS.PeerCertificates[0].Subject.CommonName; cn != "second" {
		t.Errorf("after rotation the server presents %q", cn)
	}
	// A broken rotation keeps the last good certificate.
	if err := os.WriteFile(certFile, []byte("garbage"), 0o600); err != nil {
		t.Fatal(err)
	}
	if err := os.Chtimes(certFile, later.Add(time.Minute), later.Add(time.Minute)); err != nil {
		t.Fatal(err)
	}
	resp, err = get(pool2)
	if err != nil {
		t.Fatalf("after a broken rotation: %v", err)
	}
	resp.Body.Close()
	if !strings.Contains(h.logs.String(), "cannot be loaded; keeping the previous one") {
		t.Errorf("broken rotation not logged:\n%s", h.logs)
	}
}

// probeProvider answers vector(1) with a value or an error.
type probeProvider struct {
	v   float64
	err error
}

func (p probeProvider) Query(_ context.Context, q string, _ time.Time) (float64, error) {
	if q != ProbeQuery {
		return 0, fmt.Errorf("unexpected query %q", q)
	}
	return p.v, p.err
}

func TestReadyz(t *testing.T) {
	tests := []struct {
		name   string
		probes []Probe
		code   int
		want   string
	}{
		{"none", nil, 200, `{"ready":true,"probes":[]` + memoryGatesJSON + `}`},
		{"online", []Probe{{Name: "prometheus http://a", Provider: probeProvider{v: 1}}}, 200,
			`{"ready":true,"probes":[{"name":"prometheus http://a","ok":true}]` + memoryGatesJSON + `}`},
		{"wrong-value", []Probe{{Name: "a", Provider: probeProvider{v: 0}}}, 503,
			`{"ready":false,"error":"metrics provider a unreachable: value is not 1 for query: vector(1)","probes":[{"name":"a","ok":false,"error":"value is not 1 for query: vector(1)"}]` + memoryGatesJSON + `}`},
		{"one-down", []Probe{{Name: "a", Provider: probeProvider{v: 1}}, {Name: "b", Provider: probeProvider{err: errors.New("connection refused")}}}, 503,
			`{"ready":false,"error":"metrics provider b unreachable: running query failed: connection refused","probes":[{"name":"a","ok":true},{"name":"b","ok":false,"error":"running query failed: connection refused"}]` + memoryGatesJSON + `}`},
		{"slow", []Probe{{Name: "slow", Provider: &metricstest.Provider{Latency: 5 * time.Second}}}, 503, "context deadline exceeded"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := podinfoHarness(t, "healthy.om", func(o *Options) { o.Probes = tc.probes; o.ProbeTimeout = 50 * time.Millisecond })
			a := do(t, http.MethodGet, h.url+"/readyz", "", nil)
			if a.code != tc.code || !strings.Contains(a.body, tc.want) {
				t.Errorf("%d %s, want %d %s", a.code, a.body, tc.code, tc.want)
			}
		})
	}
	t.Run("recorded", func(t *testing.T) {
		reg, end := recordedRegistry(t, "healthy.om")
		p, err := reg.New(metrics.Config{Type: "prometheus"})
		if err != nil {
			t.Fatal(err)
		}
		h := podinfoHarness(t, "healthy.om", func(o *Options) { o.Probes = []Probe{{Name: "recorded", Provider: p, At: end}} })
		if a := do(t, http.MethodGet, h.url+"/readyz", "", nil); a.code != 200 {
			t.Errorf("%d %s", a.code, a.body)
		}
	})
}

// scrape returns the /metrics lines that start with one of the prefixes.
func scrape(t *testing.T, url string) map[string]string {
	t.Helper()
	a := do(t, http.MethodGet, url+"/metrics", "", nil)
	if a.code != 200 {
		t.Fatalf("/metrics: %d", a.code)
	}
	out := map[string]string{}
	sc := bufio.NewScanner(strings.NewReader(a.body))
	for sc.Scan() {
		line := sc.Text()
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		i := strings.LastIndexByte(line, ' ')
		out[line[:i]] = line[i+1:]
	}
	return out
}

func TestMetricsEndpoint(t *testing.T) {
	h := podinfoHarness(t, "healthy.om", nil)
	canary := podinfoCanaryJSON(t)
	do(t, http.MethodPost, h.url+"/v1/decide", body(t, canary, map[string]any{"status": map[string]any{"phase": "Progressing", "canaryWeight": 10}, "webhooks": "pass"}), nil)
	do(t, http.MethodPost, h.url+"/v1/decide", body(t, canary, map[string]any{"status": map[string]any{"phase": "Progressing", "canaryWeight": 20}, "webhooks": "pass"}), nil)
	do(t, http.MethodPost, h.url+"/v1/decide", body(t, canary, map[string]any{"status": map[string]any{"phase": "Progressing", "canaryWeight": 30, "failedChecks": 5}, "webhooks": "fail"}), nil)
	do(t, http.MethodPost, h.url+"/flagger/v1/check", flaggerBody(t, "podinfo", "test", map[string]string{"query": "sum(nothing)", "max": "1", "name": "empty"}), nil)
	do(t, http.MethodPost, h.url+"/flagger/v1/check", flaggerBody(t, "podinfo", "test", map[string]string{"query": "up", "max": "x"}), nil)
	do(t, http.MethodPost, h.url+"/flagger/v1/check", flaggerBody(t, "podinfo", "test", map[string]string{"query": rpsQuery, "max": "100", "name": "rps"}), nil)
	do(t, http.MethodGet, h.url+"/nope", "", nil)

	got := scrape(t, h.url)
	want := map[string]string{
		`augur_http_requests_total{code="200",method="POST",route="POST /v1/decide"}`:                   "3",
		`augur_http_requests_total{code="403",method="POST",route="POST /flagger/v1/check"}`:            "1",
		`augur_http_requests_total{code="400",method="POST",route="POST /flagger/v1/check"}`:            "1",
		`augur_http_requests_total{code="200",method="POST",route="POST /flagger/v1/check"}`:            "1",
		`augur_http_requests_total{code="404",method="GET",route="unmatched"}`:                          "1",
		`augur_http_request_duration_seconds_count{method="POST",route="POST /v1/decide"}`:              "3",
		`augur_decisions_total{action="advance"}`:                                                       "2",
		`augur_decisions_total{action="rollback"}`:                                                      "1",
		`augur_query_errors_total{kind="no-values"}`:                                                    "1",
		`augur_webhook_checks_total{endpoint="check",result="fail"}`:                                    "1",
		`augur_webhook_checks_total{endpoint="check",result="malformed"}`:                               "1",
		`augur_webhook_checks_total{endpoint="check",result="pass"}`:                                    "1",
		`flagger_canary_metric_analysis{metric="request-success-rate",name="podinfo",namespace="test"}`: "100",
		`flagger_canary_metric_analysis{metric="request-duration",name="podinfo",namespace="test"}`:     "0.24212499999999987",
		`flagger_canary_metric_analysis{metric="rps",name="podinfo",namespace="test"}`:                  "7.9111111111111105",
		`flagger_canary_status{name="podinfo",namespace="test"}`:                                        "2",
		`flagger_canary_weight{namespace="test",workload="podinfo"}`:                                    "0",
		`flagger_canary_weight{namespace="test",workload="podinfo-primary"}`:                            "100",
		`flagger_canary_duration_seconds_count{name="podinfo",namespace="test"}`:                        "3",
	}
	for k, v := range want {
		if got[k] != v {
			t.Errorf("%s = %q, want %q", k, got[k], v)
		}
	}
	if _, ok := got["go_goroutines"]; !ok {
		t.Error("no Go runtime metrics")
	}
}

func TestMetricsCanaryLimit(t *testing.T) {
	m := NewMetrics(2, nil)
	for i := range 3 {
		name := fmt.Sprintf("app%d", i)
		m.observeChecks(name, "ns", nil)
		if got, want := m.track("ns", name), i < 2; got != want {
			t.Errorf("canary %d tracked %v, want %v", i, got, want)
		}
	}
	if !m.track("ns", "app0") {
		t.Error("a tracked canary is refused once the limit is reached")
	}
}

func TestInstrumentRegistry(t *testing.T) {
	fake := &metricstest.Provider{}
	fake.Set("empty", metricstest.Result{Err: fmt.Errorf("wrapped: %w", metrics.ErrNoValues)})
	fake.Set("many", metricstest.Result{Err: metrics.ErrMultipleValues})
	fake.Set("broken", metricstest.Result{Err: errors.New("bad_data: parse error")})
	fake.Set("nan", metricstest.Result{Value: math.NaN()})
	fake.Set("ok", metricstest.Result{Value: 2})
	reg := &metrics.Registry{}
	reg.Register("prometheus", func(cfg metrics.Config) (metrics.Provider, error) {
		if cfg.Address == "" {
			return nil, errors.New("address is required")
		}
		return fake, nil
	})
	m := NewMetrics(0, nil)
	inst := m.InstrumentRegistry(reg)

	_, origErr := reg.New(metrics.Config{Type: "prometheus"})
	_, instErr := inst.New(metrics.Config{Type: "prometheus"})
	if origErr == nil || instErr == nil || origErr.Error() != instErr.Error() {
		t.Errorf("constructor error text changed: %v vs %v", origErr, instErr)
	}
	_, origErr = reg.New(metrics.Config{Type: "datadog"})
	_, instErr = inst.New(metrics.Config{Type: "datadog"})
	if origErr == nil || instErr == nil || origErr.Error() != instErr.Error() || !errors.Is(instErr, metrics.ErrUnknownProvider) {
		t.Errorf("unknown type error changed: %v vs %v", origErr, instErr)
	}

	p, err := inst.New(metrics.Config{Type: "prometheus", Address: "http://x"})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	for _, q := range []string{"empty", "many", "broken", "nan", "ok", "unset"} {
		v, err := p.Query(ctx, q, time.Time{})
		wv, werr := fake.Query(ctx, q, time.Time{})
		if fmt.Sprint(err) != fmt.Sprint(werr) || !(v == wv || math.IsNaN(v) && math.IsNaN(wv)) {
			t.Errorf("%s: %v %v, want %v %v", q, v, err, wv, werr)
		}
	}
	tctx, cancel := context.WithTimeout(ctx, time.Nanosecond)
	defer cancel()
	<-tctx.Done()
	if _, err := p.Query(tctx, "ok", time.Time{}); !errors.Is(err, context.DeadlineExceeded) {
		t.Errorf("expired context: %v", err)
	}
	got := scrape(t, httpURL(t, m))
	want := map[string]string{"no-values": "2", "multiple-values": "1", "query": "2", "timeout": "1", "provider": "1"}
	for kind, n := range want {
		if k := `augur_query_errors_total{kind="` + kind + `"}`; got[k] != n {
			t.Errorf("%s = %q, want %s", k, got[k], n)
		}
	}
	if _, ok := p.(metrics.RangeQuerier); ok {
		t.Error("a provider without range queries gained QueryRange")
	}
}

// httpURL serves m's handler on loopback.
func httpURL(t *testing.T, m *Metrics) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	mux.Handle("/metrics", m.Handler())
	srv := &http.Server{Handler: mux, ReadHeaderTimeout: time.Second}
	go func() { _ = srv.Serve(ln) }()
	t.Cleanup(func() { _ = srv.Close() })
	return "http://" + ln.Addr().String()
}

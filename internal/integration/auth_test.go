package integration

import (
	"context"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	gocmp "github.com/google/go-cmp/cmp"

	"github.com/augurproj/augur/engine"
	"github.com/augurproj/augur/manifest"
	"github.com/augurproj/augur/metrics"
	"github.com/augurproj/augur/metrics/prometheus"
)

const (
	proxyToken    = "integration-t0ken"
	proxyUser     = "augur"
	proxyPassword = "s3cret:with-colon"
	proxyPrefix   = "/prom/"
)

// proxyFor starts an auth proxy in front of the server for the test.
func proxyFor(t *testing.T, srv *Server, opts ProxyOptions) *AuthProxy {
	t.Helper()
	opts.Target, opts.Prefix = srv.URL, proxyPrefix
	p, err := StartAuthProxy(t.Context(), opts)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		ctx, cancel := cleanupContext(t)
		defer cancel()
		if err := p.Close(ctx); err != nil {
			t.Error(err)
		}
	})
	return p
}

// TestIntegrationProviderAuth drives metrics/prometheus through a reverse
// proxy that requires credentials and serves the server under /prom/: the
// provider must send exactly one Authorization header per request, keep the
// path prefix, send the configured headers, and report refusals clearly.
func TestIntegrationProviderAuth(t *testing.T) {
	requireIntegration(t)
	root := repoRoot(t)
	srv := startServer(t, root, filepath.Join(root, podinfoDir, "healthy.om"))
	bearer := proxyFor(t, srv, ProxyOptions{BearerToken: proxyToken})
	basic := proxyFor(t, srv, ProxyOptions{Username: proxyUser, Password: proxyPassword})
	basicValue := "Basic " + base64.StdEncoding.EncodeToString([]byte(proxyUser+":"+proxyPassword))
	direct, err := prometheus.New(metrics.Config{Address: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	const q = `sum(rate(istio_requests_total{destination_workload="podinfo"}[1m]))`
	times := []time.Time{windowStart.Add(5 * time.Minute), windowStart.Add(10 * time.Minute), windowStart.Add(20 * time.Minute)}
	want := make([]float64, len(times))
	for i, at := range times {
		if want[i], err = direct.Query(t.Context(), q, at); err != nil {
			t.Fatal(err)
		}
	}

	tests := []struct {
		name     string
		proxy    *AuthProxy
		cfg      metrics.Config
		wantAuth string // the one Authorization value every request must carry
		wantErr  []string
		wantPath string
	}{
		{
			name:  "bearer token from the secret replaces a header",
			proxy: bearer,
			cfg: metrics.Config{HasSecret: true, Credentials: map[string]string{"token": proxyToken},
				Headers: map[string][]string{"X-Scope-OrgID": {"tenant-a"}, "authorization": {"Bearer stale"}}},
			wantAuth: "Bearer " + proxyToken,
		},
		{
			name:     "basic auth from the secret",
			proxy:    basic,
			cfg:      metrics.Config{HasSecret: true, Credentials: map[string]string{"username": proxyUser, "password": proxyPassword}},
			wantAuth: basicValue,
		},
		{
			name:     "Authorization in the headers, no secret",
			proxy:    bearer,
			cfg:      metrics.Config{Headers: map[string][]string{"Authorization": {"Bearer " + proxyToken}}},
			wantAuth: "Bearer " + proxyToken,
		},
		{
			name:     "address with a trailing slash",
			proxy:    bearer,
			cfg:      metrics.Config{Address: "/", HasSecret: true, Credentials: map[string]string{"token": proxyToken}},
			wantAuth: "Bearer " + proxyToken,
		},
		{
			name:    "wrong token",
			proxy:   bearer,
			cfg:     metrics.Config{HasSecret: true, Credentials: map[string]string{"token": "nope"}},
			wantErr: []string{"server returned HTTP status 401 Unauthorized", "wrong bearer token"},
		},
		{
			name:    "no credentials",
			proxy:   bearer,
			cfg:     metrics.Config{},
			wantErr: []string{"HTTP status 401", "missing Authorization header"},
		},
		{
			name:    "basic credentials at the bearer proxy",
			proxy:   bearer,
			cfg:     metrics.Config{HasSecret: true, Credentials: map[string]string{"username": proxyUser, "password": proxyPassword}},
			wantErr: []string{"HTTP status 401", "wrong bearer token"},
		},
		{
			name:     "address without the path prefix",
			proxy:    bearer,
			cfg:      metrics.Config{Address: "-", HasSecret: true, Credentials: map[string]string{"token": proxyToken}},
			wantErr:  []string{"HTTP status 404 Not Found", "not under /prom/"},
			wantPath: "/api/v1/query",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			cfg := tt.cfg
			switch cfg.Address {
			case "":
				cfg.Address = tt.proxy.URL()
			case "/":
				cfg.Address = tt.proxy.URL() + "/"
			case "-":
				cfg.Address = strings.TrimSuffix(tt.proxy.URL(), strings.TrimSuffix(proxyPrefix, "/"))
			}
			p, err := prometheus.New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			tt.proxy.Reset()
			// Concurrent queries on one provider: headers must not
			// accumulate or leak between requests.
			got := make([]float64, len(times))
			errs := make([]error, len(times))
			var wg sync.WaitGroup
			for i, at := range times {
				wg.Go(func() { got[i], errs[i] = p.Query(t.Context(), q, at) })
			}
			wg.Wait()
			for i := range times {
				if tt.wantErr != nil {
					if errs[i] == nil {
						t.Fatalf("query %d succeeded, want an error containing %q", i, tt.wantErr)
					}
					for _, w := range tt.wantErr {
						if !strings.Contains(errs[i].Error(), w) {
							t.Errorf("error %q does not contain %q", errs[i], w)
						}
					}
					var apiErr *prometheus.APIError
					if !errors.As(errs[i], &apiErr) {
						t.Errorf("error %v is not an *prometheus.APIError", errs[i])
					}
					continue
				}
				if errs[i] != nil {
					t.Fatalf("query at %s: %v", times[i].Format(time.RFC3339), errs[i])
				}
				if formatValue(got[i]) != formatValue(want[i]) {
					t.Errorf("through the proxy at %s: %s, directly: %s", times[i].Format(time.RFC3339), formatValue(got[i]), formatValue(want[i]))
				}
			}
			reqs := tt.proxy.Requests()
			if len(reqs) != len(times) {
				t.Fatalf("the proxy saw %d requests for %d queries, want one each", len(reqs), len(times))
			}
			wantPath := tt.wantPath
			if wantPath == "" {
				wantPath = proxyPrefix + "api/v1/query"
			}
			for _, r := range reqs {
				if r.Method != http.MethodGet || r.Path != wantPath {
					t.Errorf("request %s %s, want GET %s", r.Method, r.Path, wantPath)
				}
				if r.Query.Get("query") != q || r.Query.Get("time") == "" {
					t.Errorf("request query parameters %v, want query=%s and a time", r.Query, q)
				}
				if tt.wantAuth != "" {
					if diff := gocmp.Diff([]string{tt.wantAuth}, r.Authorization); diff != "" {
						t.Errorf("Authorization headers (-want +got):\n%s", diff)
					}
				}
				if len(r.Authorization) > 1 {
					t.Errorf("%d Authorization headers in one request", len(r.Authorization))
				}
				for k, vs := range cfg.Headers {
					if strings.EqualFold(k, "Authorization") {
						continue
					}
					if diff := gocmp.Diff(vs, r.Header.Values(k)); diff != "" {
						t.Errorf("header %s (-want +got):\n%s", k, diff)
					}
				}
			}
		})
	}
}

// staticSecrets is an engine.SecretSource over fixed Secrets.
type staticSecrets map[string]map[string]string

func (s staticSecrets) Secret(_ context.Context, namespace, name string) (map[string]string, error) {
	data, ok := s[namespace+"/"+name]
	if !ok {
		return nil, fmt.Errorf("secret %s/%s %w", namespace, name, engine.ErrNotFound)
	}
	return data, nil
}

// TestIntegrationEngineSecretRef replays the not-found-climb rollout with
// its MetricTemplate's provider behind the bearer proxy: the template names
// the proxy (with its path prefix) as address and a secretRef whose token the
// engine reads from a Secret source. The timeline must equal the golden one,
// and every request to the proxy must carry exactly the token.
func TestIntegrationEngineSecretRef(t *testing.T) {
	requireIntegration(t)
	root := repoRoot(t)
	file := filepath.Join(root, podinfoDir, "not-found-climb.om")
	srv := startServer(t, root, file)
	proxy := proxyFor(t, srv, ProxyOptions{BearerToken: proxyToken})
	set := podinfoSet(t, root)
	tmpl, err := manifest.DecodeBytes([]byte(fmt.Sprintf(`
apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata:
  name: not-found-percentage
  namespace: istio-system
spec:
  provider:
    type: prometheus
    address: %s
    secretRef:
      name: prometheus-auth
    headers:
      X-Scope-OrgID: [tenant-a]
  query: %q
`, proxy.URL(), set.Templates[0].Spec.Query)), "secret-template.yaml")
	if err != nil {
		t.Fatal(err)
	}
	reg := &metrics.Registry{}
	prometheus.Register(reg)
	eng, err := engine.New(engine.Options{
		Registry:      reg,
		Templates:     engine.StaticTemplates(tmpl.Templates),
		Secrets:       staticSecrets{"istio-system/prometheus-auth": {"token": proxyToken}},
		MetricsServer: srv.URL, // the builtin metrics go to the server directly
		Hooks:         engine.StaticHooks{Pass: true},
	})
	if err != nil {
		t.Fatal(err)
	}
	res, err := eng.Replay(t.Context(), replayRequest(set.Canaries[0]))
	if err != nil {
		t.Fatal(err)
	}
	checkGolden(t, "not-found-climb.timeline", timelineOf(res).golden())

	checked := 0
	for _, tk := range res.Ticks {
		checked += min(len(tk.Decision.Checks), 1)
	}
	reqs := proxy.Requests()
	if len(reqs) != checked {
		t.Errorf("the proxy saw %d requests; the replay checked the template metric on %d ticks", len(reqs), checked)
	}
	for _, r := range reqs {
		if diff := gocmp.Diff([]string{"Bearer " + proxyToken}, r.Authorization); diff != "" {
			t.Errorf("Authorization headers (-want +got):\n%s", diff)
		}
		if r.Status != http.StatusOK || r.Path != proxyPrefix+"api/v1/query" || r.Header.Get("X-Scope-OrgID") != "tenant-a" {
			t.Errorf("request %s → %d with X-Scope-OrgID %q, want %sapi/v1/query → 200 with tenant-a", r.Path, r.Status, r.Header.Get("X-Scope-OrgID"), proxyPrefix)
		}
	}

	// Without the Secret the metric cannot run: a failed check naming the
	// secret, and no request reaches the proxy.
	proxy.Reset()
	noSecret, err := engine.New(engine.Options{Registry: reg, Templates: engine.StaticTemplates(tmpl.Templates),
		Secrets: staticSecrets{}, MetricsServer: srv.URL, Hooks: engine.StaticHooks{Pass: true}})
	if err != nil {
		t.Fatal(err)
	}
	plans, err := noSecret.Plan(t.Context(), &set.Canaries[0])
	if err != nil {
		t.Fatal(err)
	}
	obs := noSecret.Evaluate(t.Context(), plans, windowStart.Add(5*time.Minute))
	var tmplErr string
	for _, o := range obs {
		if o.Metric == "not-found-percentage" && o.Err != nil {
			tmplErr = o.Err.Message
		}
	}
	if !strings.Contains(tmplErr, "prometheus-auth") || !strings.Contains(tmplErr, "not found") {
		t.Errorf("not-found-percentage without its Secret: error %q, want one naming secret prometheus-auth", tmplErr)
	}
	if n := len(proxy.Requests()); n != 0 {
		t.Errorf("the proxy saw %d requests without credentials configured", n)
	}
}

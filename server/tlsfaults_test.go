package server

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/augurproj/augur/engine"
	"github.com/augurproj/augur/manifest"
	"github.com/augurproj/augur/metrics"
	"github.com/augurproj/augur/metrics/metricstest"
	"github.com/augurproj/augur/metrics/prometheus"
	"github.com/augurproj/augur/service"
	"github.com/augurproj/augur/webhooks"
)

// TestTLSFaultsNeverAdvance: a Prometheus behind a certificate that fails
// verification (self-signed; expired) × /v1/decide, /v1/query and
// /flagger/v1/check: no advance, no promotion, no passing check; each answer
// names the TLS problem; no request gets past the handshake; no planted
// credential (URL password, header, secretRef token, serve token) in any
// answer or log record. The control skips verification on the same server
// and must advance and pass.
func TestTLSFaultsNeverAdvance(t *testing.T) {
	problem := map[string]string{
		metricstest.TLSSelfSigned: "certificate signed by unknown authority",
		metricstest.TLSExpired:    "certificate has expired",
	}
	for _, mode := range metricstest.TLSFaultModes {
		for _, skipVerify := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/insecureSkipVerify=%t", mode, skipVerify), func(t *testing.T) {
				prom, reached := metricstest.TLSFaultServer(t, mode, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
					w.Header().Set("Content-Type", "application/json")
					fmt.Fprint(w, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1700000000,"50"]}]}}`)
				}))
				addr := strings.Replace(prom.URL, "https://", "https://"+plantedUser+":"+plantedURLPass+"@", 1)
				files := fmt.Sprintf(`apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata: {name: faulty, namespace: test}
spec:
  provider:
    type: prometheus
    address: %s
    secretRef: {name: prom-auth}
    headers: {X-Api-Key: [%s]}
    insecureSkipVerify: %t
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
    - name: faulty
      templateRef: {name: faulty}
      thresholdRange: {min: 0, max: 100}
`, addr, plantedAPIKey, skipVerify)
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
					Templates: engine.StaticTemplates(set.Templates), QueryTimeout: 5 * time.Second,
					Secrets: staticSecrets{"test/prom-auth": {"token": plantedToken}}})
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
				var outputs []string

				a := do(t, http.MethodPost, ts.URL+"/v1/decide", `{"canary":`+canary+`,"status":{"phase":"Progressing","canaryWeight":10}}`, bearer)
				outputs = append(outputs, a.body)
				if a.code != http.StatusOK {
					t.Fatalf("/v1/decide: %d %s", a.code, a.body)
				}
				d := decision(t, a)
				if advanced := d.Action == "advance" || d.Action == "promote"; advanced != skipVerify {
					t.Errorf("/v1/decide: action %s: %s", d.Action, a.body)
				}

				a = do(t, http.MethodPost, ts.URL+"/v1/query", `{"canary":`+canary+`}`, bearer)
				outputs = append(outputs, a.body)
				if a.code != http.StatusOK {
					t.Errorf("/v1/query: %d %s", a.code, a.body)
				}
				if has := strings.Contains(a.body, `"value":50`); has != skipVerify {
					t.Errorf("/v1/query: a value (%t), want %t: %s", has, skipVerify, a.body)
				}

				a = do(t, http.MethodPost, ts.URL+"/flagger/v1/check", flaggerBody(t, "podinfo", "test", map[string]string{"token": plantedServe}), nil)
				outputs = append(outputs, a.body)
				if passed := a.code == http.StatusOK; passed != skipVerify {
					t.Errorf("/flagger/v1/check: %d %s", a.code, a.body)
				}

				if !skipVerify {
					for i, out := range outputs {
						if !strings.Contains(out, problem[mode]) {
							t.Errorf("answer %d does not name the TLS problem %q: %s", i, problem[mode], out)
						}
					}
					if n := reached.Load(); n != 0 {
						t.Errorf("%d requests got past the handshake", n)
					}
				}
				all := strings.Join(outputs, "\n") + "\n" + logs.String() + "\n" + do(t, http.MethodGet, ts.URL+"/metrics", "", nil).body
				for _, s := range plantedSecrets() {
					if strings.Contains(all, s) {
						t.Errorf("%q leaked:\n%.3000s", s, all)
					}
				}
			})
		}
	}
}

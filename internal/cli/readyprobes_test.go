package cli

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/augurproj/augur/kube/kubetest"
	"github.com/augurproj/augur/metrics"
	"github.com/augurproj/augur/metrics/vendors"
)

const (
	readyAPIKey = "ddapi-ready-9f3e21-planted"
	readyAppKey = "ddapp-ready-5c7a02-planted"
)

// readyServers: a Prometheus answering vector(1), a Datadog whose
// /api/v1/validate accepts the planted keys until down is set (then it
// answers 403 quoting the key it got, as a careless server might), and a
// Graphite whose probe query has no values (online, as Flagger reads it).
func readyServers(t *testing.T, down *atomic.Bool) (prom, dd, gr string, validations *atomic.Int32) {
	validations = &atomic.Int32{}
	p := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1761991440,"1"]}]}}`)
	}))
	t.Cleanup(p.Close)
	d := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.URL.Path != "/api/v1/validate" {
			http.NotFound(w, r)
			return
		}
		validations.Add(1)
		if down.Load() || r.Header.Get("DD-API-KEY") != readyAPIKey {
			http.Error(w, "forbidden: key "+r.Header.Get("DD-API-KEY")+" is not valid", http.StatusForbidden)
			return
		}
		fmt.Fprint(w, `{"valid":true}`)
	}))
	t.Cleanup(d.Close)
	g := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		fmt.Fprint(w, `[]`)
	}))
	t.Cleanup(g.Close)
	return p.URL, d.URL, g.URL, validations
}

func readyTemplates(dd, gr string) string {
	return `apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata: {name: datadog-errors, namespace: test}
spec:
  provider: {type: datadog, address: ` + dd + `, secretRef: {name: datadog}}
  query: sum:errors{service:{{ target }}}.as_count()
---
apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata: {name: datadog-errors-again, namespace: test}
spec:
  provider: {type: datadog, address: ` + dd + `, secretRef: {name: datadog}}
  query: sum:other{service:{{ target }}}.as_count()
---
apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata: {name: graphite-latency, namespace: test}
spec:
  provider: {type: graphite, address: ` + gr + `}
  query: target=latency
---
apiVersion: v1
kind: Secret
metadata: {name: datadog, namespace: test}
stringData: {datadog_api_key: ` + readyAPIKey + `, datadog_application_key: ` + readyAppKey + `}
`
}

func getReadyz(t *testing.T, url string) (int, string) {
	t.Helper()
	resp, err := (&http.Client{Timeout: 60 * time.Second}).Get(url + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, string(b)
}

// TestServeReadyzVendorIsOnline: /readyz runs each vendor template's
// IsOnline (Datadog's key validation, Graphite's probe query) once per
// distinct provider; a failing one makes serve unready with the reason,
// and no key appears in the answer even when the server quotes it.
func TestServeReadyzVendorIsOnline(t *testing.T) {
	var down atomic.Bool
	prom, dd, gr, validations := readyServers(t, &down)
	dir := t.TempDir()
	if err := os.WriteFile(filepath.Join(dir, "templates.yaml"), []byte(readyTemplates(dd, gr)), 0o600); err != nil {
		t.Fatal(err)
	}
	url, logs, _ := startServe(t, "--prometheus", prom, "-f", dir)
	code, body := getReadyz(t, url)
	if code != 200 {
		t.Fatalf("readyz: %d %s", code, body)
	}
	var doc struct {
		Probes []struct {
			Name string `json:"name"`
			OK   bool   `json:"ok"`
		} `json:"probes"`
	}
	if err := json.Unmarshal([]byte(body), &doc); err != nil {
		t.Fatal(err)
	}
	names := map[string]bool{}
	for _, p := range doc.Probes {
		names[p.Name] = p.OK
	}
	for _, want := range []string{"datadog " + dd + " (MetricTemplate test/datadog-errors)", "graphite " + gr + " (MetricTemplate test/graphite-latency)"} {
		if ok, found := names[want]; !found || !ok {
			t.Errorf("probe %q: found %v ok %v in %s", want, found, ok, body)
		}
	}
	if len(doc.Probes) != 3 || validations.Load() != 1 {
		t.Errorf("%d probes and %d validations, want 3 (prometheus, datadog once, graphite) and 1: %s", len(doc.Probes), validations.Load(), body)
	}

	down.Store(true)
	code, body = getReadyz(t, url)
	if code != 503 || !strings.Contains(body, "metrics provider datadog "+dd+" (MetricTemplate test/datadog-errors) unreachable") || !strings.Contains(body, "403") {
		t.Errorf("readyz with Datadog refusing: %d %s", code, body)
	}
	for _, k := range []string{readyAPIKey, readyAppKey} {
		if strings.Contains(body, k) || strings.Contains(logs.String(), k) {
			t.Errorf("a key appears in /readyz or the logs: %s", body)
		}
	}
}

// TestClusterOnline checks the cluster's MetricTemplates' providers: every
// distinct one, with its Secret read from the cluster at probe time.
func TestClusterOnline(t *testing.T) {
	var down atomic.Bool
	_, dd, gr, validations := readyServers(t, &down)
	c, err := kubetest.New(readyTemplates(dd, gr))
	if err != nil {
		t.Fatal(err)
	}
	src := c.Source("test")
	reg := &metrics.Registry{}
	vendors.Register(reg)
	ctx := context.Background()
	if err := clusterOnline(ctx, reg, src); err != nil || validations.Load() != 1 {
		t.Fatalf("clusterOnline: %v (%d validations, want 1)", err, validations.Load())
	}
	down.Store(true)
	err = clusterOnline(ctx, reg, src)
	if err == nil || !strings.Contains(err.Error(), "datadog "+dd+" (MetricTemplate test/datadog-errors") || strings.Contains(err.Error(), readyAPIKey) {
		t.Errorf("clusterOnline with Datadog refusing: %v", err)
	}
}

package flagger

import (
	"context"
	"fmt"
	"slices"
	"testing"
	"time"

	flaggerv1 "github.com/fluxcd/flagger/pkg/apis/flagger/v1beta1"
	"github.com/fluxcd/flagger/pkg/metrics/providers"
	corev1 "k8s.io/api/core/v1"

	"github.com/augurproj/augur/metrics"
	augurprom "github.com/augurproj/augur/metrics/prometheus"
)

// TestPrometheusWire sends the same instant query through Flagger's
// Prometheus provider and augur's to one loopback server and compares what
// arrived: method, path (with the address's path prefix), query parameters
// (augur may add the evaluation time), the Authorization header and the
// configured headers.
func TestPrometheusWire(t *testing.T) {
	srv := newCapture(t)
	query := `sum(rate(istio_requests_total{ reporter="destination", destination_workload_namespace="test", destination_workload=~"podinfo", response_code!~"5.*" }[1m])) / sum(rate(istio_requests_total{ reporter="destination" }[1m])) * 100`
	tests := []struct {
		name    string
		prefix  string
		headers map[string][]string
		creds   map[string]string
	}{
		{"plain", "", nil, nil},
		{"path prefix", "/prometheus/", nil, nil},
		{"bearer token", "", nil, map[string]string{"token": "s3cr3t"}},
		{"basic auth", "/api/prom", nil, map[string]string{"username": "u", "password": "p"}},
		{"custom headers", "", map[string][]string{"X-Scope-OrgID": {"tenant-a"}}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			address := srv.srv.URL + tt.prefix
			var creds map[string][]byte
			var secretRef *corev1.LocalObjectReference
			if tt.creds != nil {
				creds = map[string][]byte{}
				for k, v := range tt.creds {
					creds[k] = []byte(v)
				}
				secretRef = &corev1.LocalObjectReference{Name: "s"}
			}
			fp, err := providers.NewPrometheusProvider(flaggerv1.MetricTemplateProvider{Type: "prometheus", Address: address,
				Headers: cloneHeaders(tt.headers), SecretRef: secretRef}, creds)
			if err != nil {
				t.Fatal(err)
			}
			if _, err := fp.RunQuery(query); err != nil {
				t.Fatalf("Flagger: %v", err)
			}
			ap, err := augurprom.New(metrics.Config{Type: "prometheus", Address: address, Headers: cloneHeaders(tt.headers),
				Credentials: tt.creds, HasSecret: tt.creds != nil, Timeout: 5 * time.Second})
			if err != nil {
				t.Fatal(err)
			}
			if _, err := ap.Query(context.Background(), query, time.Time{}); err != nil {
				t.Fatalf("augur: %v", err)
			}
			reqs := srv.take()
			if len(reqs) != 2 {
				t.Fatalf("%d requests", len(reqs))
			}
			f, a := reqs[0], reqs[1]
			if f.Method != a.Method {
				t.Errorf("method: Flagger %s, augur %s", f.Method, a.Method)
			}
			if f.Path != a.Path {
				t.Errorf("path: Flagger %q, augur %q", f.Path, a.Path)
			}
			if !slices.Equal(f.Query["query"], a.Query["query"]) {
				t.Errorf("query: Flagger %q, augur %q", f.Query["query"], a.Query["query"])
			}
			for k := range a.Query {
				if _, ok := f.Query[k]; !ok && k != "time" {
					t.Errorf("augur sends parameter %q that Flagger does not", k)
				}
			}
			for _, h := range []string{"Authorization", "X-Scope-Orgid"} {
				if fmt.Sprint(f.Header.Values(h)) != fmt.Sprint(a.Header.Values(h)) {
					t.Errorf("header %s: Flagger %q, augur %q", h, f.Header.Values(h), a.Header.Values(h))
				}
			}
			t.Logf("Flagger %s %s, augur %s %s", f.Method, f.Path, a.Method, a.Path)
		})
	}
}

func cloneHeaders(h map[string][]string) map[string][]string {
	if h == nil {
		return nil
	}
	out := make(map[string][]string, len(h))
	for k, v := range h {
		out[k] = slices.Clone(v)
	}
	return out
}

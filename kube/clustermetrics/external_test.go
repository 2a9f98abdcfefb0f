package clustermetrics

import (
	"context"
	"encoding/pem"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"k8s.io/client-go/rest"

	"github.com/augurproj/augur/metrics"
)

// externalServer answers the external metrics API from a map of
// "namespace/metric" to items (JSON), recording each request.
type externalServer struct {
	*httptest.Server
	mu   sync.Mutex
	reqs []*http.Request
}

func newExternalServer(t *testing.T, items map[string]string) *externalServer {
	s := &externalServer{}
	s.Server = httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.mu.Lock()
		s.reqs = append(s.reqs, r.Clone(context.Background()))
		s.mu.Unlock()
		ns, metric, ok := strings.Cut(strings.TrimPrefix(r.URL.Path, "/apis/external.metrics.k8s.io/v1beta1/namespaces/"), "/")
		if !ok || !strings.HasPrefix(r.URL.Path, "/apis/external.metrics.k8s.io/v1beta1/") {
			http.NotFound(w, r)
			return
		}
		if metric == "huge" {
			w.Write([]byte(`{"items":[`))
			for i := 0; i < MaxBody/16; i++ {
				w.Write([]byte(`{"value":"1"},  `))
			}
			return
		}
		it, ok := items[ns+"/"+metric]
		if !ok {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(http.StatusNotFound)
			fmt.Fprintf(w, `{"kind":"Status","apiVersion":"v1","status":"Failure","message":"no metric %s in %s","reason":"NotFound","code":404}`, metric, ns)
			return
		}
		w.Header().Set("Content-Type", "application/json")
		fmt.Fprintf(w, `{"kind":"ExternalMetricValueList","apiVersion":"external.metrics.k8s.io/v1beta1","metadata":{},"items":[%s]}`, it)
	}))
	t.Cleanup(s.Close)
	return s
}

func (s *externalServer) last() *http.Request {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reqs[len(s.reqs)-1]
}

func TestParseExternalQuery(t *testing.T) {
	for _, tt := range []struct{ query, ns, metric, sel, err string }{
		{query: "queue", ns: "default", metric: "queue"},
		{query: "/queue", ns: "default", metric: "queue"},
		{query: "apps/queue", ns: "apps", metric: "queue"},
		{query: "apps/queue?labelSelector=" + "queue%3Dorders%2Cenv+in+%28prod%29", ns: "apps", metric: "queue", sel: "env in (prod),queue=orders"},
		{query: "a/b/c", err: "too many slashes"},
		{query: "apps/", err: "metric name cannot be empty"},
		{query: "apps/q?labelSelector=%3D%3D%3D", err: "error parsing label selector"},
		{query: "apps/q%zz", err: "malformed query string"},
	} {
		ns, m, sel, err := parseExternalQuery(tt.query)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: err %v, want %q", tt.query, err, tt.err)
			}
			continue
		}
		if err != nil || ns != tt.ns || m != tt.metric || sel.String() != tt.sel {
			t.Errorf("%q: %q %q %q %v", tt.query, ns, m, sel, err)
		}
	}
}

func TestExternalQuery(t *testing.T) {
	srv := newExternalServer(t, map[string]string{
		"apps/queue":       `{"metricName":"queue","metricLabels":{"q":"orders"},"timestamp":"2026-01-01T00:00:00Z","value":"1500m"},{"metricName":"queue","value":"7"}`,
		"default/empty":    ``,
		"kube-system/none": ``,
	})
	base := &rest.Config{Host: srv.URL, BearerToken: "cluster-token", TLSClientConfig: rest.TLSClientConfig{Insecure: true}}
	// The provider's own address is the test server too: the Secret's token goes there, the cluster's does not.
	p, err := NewExternal(base, metrics.Config{Type: ExternalType, Address: srv.URL + "/", InsecureSkipVerify: true,
		Credentials: map[string]string{TokenKey: "secret-token"}})
	if err != nil {
		t.Fatal(err)
	}
	ctx := context.Background()
	v, err := p.Query(ctx, "apps/queue?labelSelector=q%3Dorders", time.Time{})
	if err != nil || v != 1.5 {
		t.Fatalf("queue: %v %v, want 1.5 (the first item)", v, err)
	}
	r := srv.last()
	if r.URL.Path != "/apis/external.metrics.k8s.io/v1beta1/namespaces/apps/queue" || r.URL.Query().Get("labelSelector") != "q=orders" {
		t.Errorf("request %s", r.URL)
	}
	if got := r.Header.Get("Authorization"); got != "Bearer secret-token" {
		t.Errorf("Authorization %q, want the Secret's token", got)
	}
	_, err = p.Query(ctx, "empty", time.Time{})
	if !errors.Is(err, metrics.ErrNoValues) || !strings.Contains(err.Error(), "no external metrics found") {
		t.Errorf("empty: %v", err)
	}
	_, err = p.Query(ctx, "apps/missing", time.Time{})
	if err == nil || !strings.Contains(err.Error(), "error querying external metrics API: the server could not find the requested resource") {
		t.Errorf("missing: %v", err)
	}
	_, err = p.Query(ctx, "apps/huge", time.Time{})
	if err == nil || !strings.Contains(err.Error(), "exceeds") {
		t.Errorf("huge: %v", err)
	}
	_, err = p.Query(ctx, "apps/queue", time.Now().Add(-time.Hour))
	if err == nil || !strings.Contains(err.Error(), "current values only") {
		t.Errorf("an hour ago: %v", err)
	}
	if err := p.IsOnline(ctx); err == nil || !strings.Contains(err.Error(), "external metrics service unavailable") {
		t.Errorf("IsOnline with kube-system/dummy-metric unknown (404): %v; want offline", err)
	}
}

func TestExternalIsOnline(t *testing.T) {
	srv := newExternalServer(t, map[string]string{"kube-system/dummy-metric": ``})
	// insecureSkipVerify false (the template's default) verifies, as in
	// Flagger, whatever the cluster's configuration said: the CA is needed.
	base := &rest.Config{Host: srv.URL, TLSClientConfig: rest.TLSClientConfig{Insecure: true,
		CAData: pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})}}
	p, err := NewExternal(base, metrics.Config{})
	if err != nil {
		t.Fatal(err)
	}
	if err := p.IsOnline(context.Background()); err != nil {
		t.Errorf("IsOnline: %v", err)
	}
	if r := srv.last(); r.URL.Path != "/apis/external.metrics.k8s.io/v1beta1/namespaces/kube-system/dummy-metric" || r.URL.Query().Has("labelSelector") {
		t.Errorf("IsOnline request %s", r.URL)
	}
	srv.Close()
	if err := p.IsOnline(context.Background()); err == nil || !strings.Contains(err.Error(), "external metrics service unavailable") {
		t.Errorf("IsOnline of a closed server: %v", err)
	}
}

// The cluster's credentials stay with the cluster: a template's address
// gets only the Secret's token, or none.
func TestExternalClusterCredentialsStayHome(t *testing.T) {
	home := newExternalServer(t, map[string]string{"apps/q": `{"value":"1"}`})
	other := newExternalServer(t, map[string]string{"apps/q": `{"value":"2"}`})
	base := &rest.Config{Host: home.URL, BearerToken: "cluster-token", TLSClientConfig: rest.TLSClientConfig{Insecure: true}}
	p, err := NewExternal(base, metrics.Config{InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	if v, err := p.Query(context.Background(), "apps/q", time.Time{}); err != nil || v != 1 {
		t.Fatalf("home: %v %v", v, err)
	}
	if got := home.last().Header.Get("Authorization"); got != "Bearer cluster-token" {
		t.Errorf("home Authorization %q, want the cluster's token", got)
	}
	p, err = NewExternal(base, metrics.Config{Address: other.URL, InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	if v, err := p.Query(context.Background(), "apps/q", time.Time{}); err != nil || v != 2 {
		t.Fatalf("other: %v %v", v, err)
	}
	if got := other.last().Header.Get("Authorization"); got != "" {
		t.Errorf("another address got Authorization %q, want none", got)
	}
	// Without insecureSkipVerify the test server's certificate is not trusted.
	p, err = NewExternal(base, metrics.Config{Address: other.URL})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Query(context.Background(), "apps/q", time.Time{}); err == nil || !strings.Contains(err.Error(), "certificate") {
		t.Errorf("untrusted certificate: %v", err)
	}
}

func TestRegisterOffline(t *testing.T) {
	r := &metrics.Registry{}
	RegisterOffline(r, "no cluster here")
	for _, typ := range Types {
		_, err := r.New(metrics.Config{Type: typ})
		if err == nil || !strings.Contains(err.Error(), typ+" reads the Kubernetes API: no cluster here") {
			t.Errorf("%s: %v", typ, err)
		}
	}
	Register(r, nil, nil)
	if _, err := r.New(metrics.Config{Type: ExternalType}); err == nil {
		t.Error("externalmetrics without a REST config: no error")
	}
}

package clustermetrics

import (
	"context"
	"errors"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	corev1 "k8s.io/api/core/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"
	"k8s.io/client-go/tools/clientcmd"
	"sigs.k8s.io/yaml"

	"github.com/augurproj/augur/metrics"
)

// These tests run against the real kube-apiserver of scripts/kube-testenv.sh
// (make kube-test); they skip without it and never touch another cluster.

var (
	crdResource        = schema.GroupVersionResource{Group: "apiextensions.k8s.io", Version: "v1", Resource: "customresourcedefinitions"}
	apiServiceResource = schema.GroupVersionResource{Group: "apiregistration.k8s.io", Version: "v1", Resource: "apiservices"}
)

type env struct {
	cfg  *rest.Config
	dyn  dynamic.Interface
	core kubernetes.Interface
}

func newEnv(t *testing.T) *env {
	t.Helper()
	server, kc := os.Getenv("KUBE_TESTENV_SERVER"), os.Getenv("KUBECONFIG")
	if server == "" || kc == "" {
		t.Skip("no test API server: run under scripts/kube-testenv.sh (make kube-test)")
	}
	if !strings.HasPrefix(server, "https://127.0.0.1:") {
		t.Fatalf("KUBE_TESTENV_SERVER %q is not on loopback", server)
	}
	cfg, err := clientcmd.BuildConfigFromFlags("", kc)
	if err != nil {
		t.Fatal(err)
	}
	if cfg.Host != server {
		t.Fatalf("KUBECONFIG points at %s, not the test server %s", cfg.Host, server)
	}
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	core, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		t.Fatal(err)
	}
	return &env{cfg: cfg, dyn: dyn, core: core}
}

// poll calls f every 100ms until it is done, or fails the test after 60s.
func poll(ctx context.Context, t *testing.T, what string, f func() (bool, error)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(ctx, 60*time.Second)
	defer cancel()
	var last error
	for {
		done, err := f()
		if done {
			return
		}
		last = err
		select {
		case <-ctx.Done():
			t.Fatalf("waiting for %s: %v (last error: %v)", what, ctx.Err(), last)
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func (e *env) namespace(ctx context.Context, t *testing.T, name string) {
	t.Helper()
	_, err := e.core.CoreV1().Namespaces().Create(ctx, &corev1.Namespace{ObjectMeta: metav1.ObjectMeta{Name: name}}, metav1.CreateOptions{})
	if err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
}

// installKeptnCRDs creates the CRDs of testdata/crds (kept if present) and
// waits until their resources are served.
func (e *env) installKeptnCRDs(ctx context.Context, t *testing.T) {
	files, err := filepath.Glob("testdata/crds/*.yaml")
	if err != nil || len(files) != 2 {
		t.Fatalf("testdata/crds: %v %v", files, err)
	}
	for _, f := range files {
		b, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var obj map[string]any
		if err := yaml.Unmarshal(b, &obj); err != nil {
			t.Fatalf("%s: %v", f, err)
		}
		if _, err := e.dyn.Resource(crdResource).Create(ctx, &unstructured.Unstructured{Object: obj}, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatalf("%s: %v", f, err)
		}
	}
	for _, gvr := range []schema.GroupVersionResource{KeptnMetricResource, AnalysisResource} {
		poll(ctx, t, gvr.Resource+" to be served", func() (bool, error) {
			_, err := e.dyn.Resource(gvr).Namespace("default").List(ctx, metav1.ListOptions{})
			return err == nil, err
		})
	}
}

func TestIntegrationKeptnMetric(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.installKeptnCRDs(ctx, t)
	e.namespace(ctx, t, "augur-keptn")
	r := e.dyn.Resource(KeptnMetricResource).Namespace("augur-keptn")
	for name, value := range map[string]string{"rate": "0.995", "text": "high", "none": ""} {
		_ = r.Delete(ctx, name, metav1.DeleteOptions{})
		m := keptnMetric("augur-keptn", name, nil)
		created, err := r.Create(ctx, m, metav1.CreateOptions{})
		if err != nil {
			t.Fatalf("create KeptnMetric %s: %v", name, err)
		}
		if value != "" {
			// Keptn's metrics operator writes status.value through the status subresource.
			created.Object["status"] = map[string]any{"value": value, "lastUpdated": time.Now().UTC().Format(time.RFC3339)}
			if _, err := r.UpdateStatus(ctx, created, metav1.UpdateOptions{}); err != nil {
				t.Fatalf("status of %s: %v", name, err)
			}
		}
	}
	reg := &metrics.Registry{}
	Register(reg, e.cfg, e.dyn)
	p, err := reg.New(metrics.Config{Type: KeptnType})
	if err != nil {
		t.Fatal(err)
	}
	v, err := p.Query(ctx, "keptnmetric/augur-keptn/rate", time.Time{})
	if err != nil || v != 0.995 {
		t.Fatalf("rate: %v %v, want 0.995", v, err)
	}
	for q, want := range map[string]string{
		"keptnmetric/augur-keptn/text":    "could not parse value of KeptnMetric augur-keptn/text to float",
		"keptnmetric/augur-keptn/none":    "could not retrieve KeptnMetric - no value found in resource augur-keptn/none",
		"keptnmetric/augur-keptn/missing": `could not retrieve KeptnMetric augur-keptn/missing: keptnmetrics.metrics.keptn.sh "missing" not found`,
	} {
		if _, err := p.Query(ctx, q, time.Time{}); err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: %v, want %q", q, err, want)
		}
	}
}

// keptnController stands for Keptn's metrics operator: it completes every
// Analysis of ns whose definition is def, passing it when pass says so,
// and records what it saw.
func (e *env) keptnController(ctx context.Context, ns string, pass func(args map[string]any) bool, seen chan<- *unstructured.Unstructured) {
	r := e.dyn.Resource(AnalysisResource).Namespace(ns)
	for ctx.Err() == nil {
		l, err := r.List(ctx, metav1.ListOptions{})
		if err == nil {
			for i := range l.Items {
				a := &l.Items[i]
				if st, _, _ := unstructured.NestedString(a.Object, "status", "state"); st == "Completed" {
					continue
				}
				args, _, _ := unstructured.NestedMap(a.Object, "spec", "args")
				a.Object["status"] = map[string]any{"state": "Completed", "pass": pass(args), "raw": "{}"}
				if _, err := r.UpdateStatus(ctx, a, metav1.UpdateOptions{}); err == nil {
					select {
					case seen <- a.DeepCopy():
					default:
					}
				}
			}
		}
		select {
		case <-ctx.Done():
		case <-time.After(100 * time.Millisecond):
		}
	}
}

func TestIntegrationKeptnAnalysis(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	e.installKeptnCRDs(ctx, t)
	e.namespace(ctx, t, "augur-keptn-analysis")
	cctx, stop := context.WithCancel(ctx)
	defer stop()
	seen := make(chan *unstructured.Unstructured, 4)
	go e.keptnController(cctx, "augur-keptn-analysis", func(args map[string]any) bool { return args["verdict"] == "good" }, seen)

	k := NewKeptn(e.dyn)
	k.timeout = 60 * time.Second // a loaded CI machine; Flagger's 10s is the default
	for _, tt := range []struct {
		verdict string
		want    float64
	}{{"good", 1}, {"bad", 0}} {
		q := "analysis/augur-keptn-analysis/success-rate/5m/verdict=" + tt.verdict + ";service=podinfo"
		v, err := k.Query(ctx, q, time.Time{})
		if err != nil || v != tt.want {
			t.Fatalf("%s: %v %v, want %v", q, v, err, tt.want)
		}
		a := <-seen
		if !strings.HasPrefix(a.GetName(), "success-rate-") || len(a.GetName()) != len("success-rate-")+6 {
			t.Errorf("Analysis name %q, want success-rate-<6 hex>", a.GetName())
		}
		tf, _, _ := unstructured.NestedString(a.Object, "spec", "timeframe", "recent")
		def, _, _ := unstructured.NestedString(a.Object, "spec", "analysisDefinition", "name")
		args, _, _ := unstructured.NestedStringMap(a.Object, "spec", "args")
		if tf != "5m" || def != "success-rate" || args["verdict"] != tt.verdict || args["service"] != "podinfo" {
			t.Errorf("Analysis spec %v", a.Object["spec"])
		}
		// augur deletes the Analysis it created.
		poll(ctx, t, "Analysis "+a.GetName()+" to be deleted", func() (bool, error) {
			_, err := e.dyn.Resource(AnalysisResource).Namespace("augur-keptn-analysis").Get(ctx, a.GetName(), metav1.GetOptions{})
			return apierrors.IsNotFound(err), err
		})
	}
	// Without a Keptn answering, the Analysis times out and is deleted too.
	stop()
	k.timeout = 3 * time.Second
	_, err := k.Query(ctx, "analysis/augur-keptn-analysis/success-rate", time.Time{})
	if err == nil || !strings.Contains(err.Error(), "encountered timeout while waiting for Keptn Analysis augur-keptn-analysis/success-rate") {
		t.Fatalf("no Keptn: %v", err)
	}
	poll(ctx, t, "the timed-out Analysis to be deleted", func() (bool, error) {
		l, err := e.dyn.Resource(AnalysisResource).Namespace("augur-keptn-analysis").List(ctx, metav1.ListOptions{})
		return err == nil && len(l.Items) == 0, err
	})
}

// externalBackend is a loopback HTTPS server answering the external
// metrics API as an adapter (KEDA's, prometheus-adapter's) does.
func externalBackend(t *testing.T, down *atomic.Bool) (*httptest.Server, chan string) {
	reqs := make(chan string, 64)
	srv := httptest.NewUnstartedServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		select {
		case reqs <- r.URL.RequestURI():
		default:
		}
		w.Header().Set("Content-Type", "application/json")
		const prefix = "/apis/external.metrics.k8s.io/v1beta1"
		switch {
		case r.URL.Path == prefix || r.URL.Path == prefix+"/":
			fmt.Fprint(w, `{"kind":"APIResourceList","apiVersion":"v1","groupVersion":"external.metrics.k8s.io/v1beta1","resources":[]}`)
		case strings.HasPrefix(r.URL.Path, prefix+"/namespaces/"):
			ns, metric, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, prefix+"/namespaces/"), "/")
			switch metric {
			case "queue_depth":
				sel := r.URL.Query().Get("labelSelector")
				fmt.Fprintf(w, `{"kind":"ExternalMetricValueList","apiVersion":"external.metrics.k8s.io/v1beta1","metadata":{},"items":[{"metricName":"queue_depth","metricLabels":{"ns":%q,"sel":%q},"timestamp":"2026-01-01T00:00:00Z","value":"2500m"},{"metricName":"queue_depth","value":"9"}]}`, ns, sel)
			case "dummy-metric":
				if down.Load() {
					w.WriteHeader(http.StatusServiceUnavailable)
					fmt.Fprint(w, `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"adapter down","reason":"ServiceUnavailable","code":503}`)
					return
				}
				fmt.Fprint(w, `{"kind":"ExternalMetricValueList","apiVersion":"external.metrics.k8s.io/v1beta1","metadata":{},"items":[]}`)
			case "empty":
				fmt.Fprint(w, `{"kind":"ExternalMetricValueList","apiVersion":"external.metrics.k8s.io/v1beta1","metadata":{},"items":[]}`)
			default:
				w.WriteHeader(http.StatusNotFound)
				fmt.Fprintf(w, `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":"no metric %s","reason":"NotFound","code":404}`, metric)
			}
		default:
			http.NotFound(w, r)
		}
	}))
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	srv.Listener = ln
	srv.StartTLS()
	t.Cleanup(srv.Close)
	return srv, reqs
}

// TestIntegrationExternalMetrics registers an APIService for
// external.metrics.k8s.io backed by a loopback HTTPS server (through an
// ExternalName Service naming localhost: the aggregator resolves it to
// localhost:<port> without kube-proxy or Endpoints, which may not hold
// loopback addresses) and queries it through the real API server.
func TestIntegrationExternalMetrics(t *testing.T) {
	e := newEnv(t)
	ctx := context.Background()
	var down atomic.Bool
	srv, reqs := externalBackend(t, &down)
	_, portStr, _ := net.SplitHostPort(srv.Listener.Addr().String())
	port, _ := strconv.Atoi(portStr)
	e.namespace(ctx, t, "augur-external")
	svcs := e.core.CoreV1().Services("augur-external")
	_ = svcs.Delete(ctx, "adapter", metav1.DeleteOptions{})
	if _, err := svcs.Create(ctx, &corev1.Service{
		ObjectMeta: metav1.ObjectMeta{Name: "adapter"},
		Spec:       corev1.ServiceSpec{Type: corev1.ServiceTypeExternalName, ExternalName: "localhost"},
	}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	const apiServiceName = "v1beta1.external.metrics.k8s.io"
	as := e.dyn.Resource(apiServiceResource)
	_ = as.Delete(ctx, apiServiceName, metav1.DeleteOptions{})
	t.Cleanup(func() { _ = as.Delete(context.Background(), apiServiceName, metav1.DeleteOptions{}) })
	if _, err := as.Create(ctx, &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "apiregistration.k8s.io/v1", "kind": "APIService",
		"metadata": map[string]any{"name": apiServiceName},
		"spec": map[string]any{
			"group": "external.metrics.k8s.io", "version": "v1beta1",
			"service":               map[string]any{"namespace": "augur-external", "name": "adapter", "port": int64(port)},
			"insecureSkipTLSVerify": true, "groupPriorityMinimum": int64(100), "versionPriority": int64(100),
		},
	}}, metav1.CreateOptions{}); err != nil {
		t.Fatal(err)
	}
	poll(ctx, t, "APIService "+apiServiceName+" to be Available", func() (bool, error) {
		u, err := as.Get(ctx, apiServiceName, metav1.GetOptions{})
		if err != nil {
			return false, err
		}
		conds, _, _ := unstructured.NestedSlice(u.Object, "status", "conditions")
		for _, c := range conds {
			m, _ := c.(map[string]any)
			if m["type"] == "Available" {
				if m["status"] == "True" {
					return true, nil
				}
				return false, fmt.Errorf("%v: %v", m["reason"], m["message"])
			}
		}
		return false, errors.New("no Available condition")
	})

	reg := &metrics.Registry{}
	Register(reg, e.cfg, e.dyn)
	p, err := reg.New(metrics.Config{Type: ExternalType})
	if err != nil {
		t.Fatal(err)
	}
	// The aggregator may still be settling right after Available.
	var v float64
	poll(ctx, t, "the first answer through the aggregator", func() (bool, error) {
		v, err = p.Query(ctx, "apps/queue_depth?labelSelector=queue%3Dorders", time.Time{})
		return err == nil, err
	})
	if v != 2.5 {
		t.Errorf("queue_depth = %v, want 2.5 (the first item)", v)
	}
	found := false
	for len(reqs) > 0 {
		u, err := url.Parse(<-reqs)
		if err == nil && u.Path == "/apis/external.metrics.k8s.io/v1beta1/namespaces/apps/queue_depth" && u.Query().Get("labelSelector") == "queue=orders" {
			found = true
		}
	}
	if !found {
		t.Error("the backend never saw the query through the aggregator")
	}
	if _, err := p.Query(ctx, "empty", time.Time{}); !errors.Is(err, metrics.ErrNoValues) {
		t.Errorf("empty: %v, want no values", err)
	}
	if _, err := p.Query(ctx, "apps/unknown", time.Time{}); err == nil || !strings.Contains(err.Error(), "error querying external metrics API") {
		t.Errorf("unknown: %v", err)
	}
	if err := p.(*External).IsOnline(ctx); err != nil {
		t.Errorf("IsOnline: %v", err)
	}
	// An adapter answering 503 is offline. (The backend stays up until the
	// APIService is deleted, so other tests' discovery never meets an
	// unavailable group: cleanups run last registered, first.)
	down.Store(true)
	poll(ctx, t, "IsOnline to fail with the adapter down", func() (bool, error) {
		err := p.(*External).IsOnline(ctx)
		return err != nil && strings.Contains(err.Error(), "external metrics service unavailable"), err
	})
}

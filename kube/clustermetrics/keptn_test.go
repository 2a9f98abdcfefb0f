package clustermetrics

import (
	"context"
	"errors"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	k8stesting "k8s.io/client-go/testing"

	"github.com/augurproj/augur/metrics"
)

func fakeDynamic(objs ...runtime.Object) *dynamicfake.FakeDynamicClient {
	return dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{
		KeptnMetricResource: "KeptnMetricList",
		AnalysisResource:    "AnalysisList",
	}, objs...)
}

func keptnMetric(ns, name string, status map[string]any) *unstructured.Unstructured {
	o := map[string]any{
		"apiVersion": "metrics.keptn.sh/v1beta1", "kind": "KeptnMetric",
		"metadata": map[string]any{"name": name, "namespace": ns},
		"spec":     map[string]any{"provider": map[string]any{"name": "prom"}, "query": "up", "fetchIntervalSeconds": int64(10)},
	}
	if status != nil {
		o["status"] = status
	}
	return &unstructured.Unstructured{Object: o}
}

func TestParseKeptnQuery(t *testing.T) {
	tests := []struct {
		query string
		want  *keptnQuery
		err   string
	}{
		{query: "keptnmetric/ns/name", want: &keptnQuery{resource: KeptnMetricResource, namespace: "ns", name: "name"}},
		{query: "KeptnMetrics/NS/Name/ignored\n", want: &keptnQuery{resource: KeptnMetricResource, namespace: "ns", name: "name"}},
		{query: "analysis/ns/def", want: &keptnQuery{resource: AnalysisResource, namespace: "ns", name: "def", timeframe: "1m", args: map[string]any{}}},
		{query: "  analyses/ns/def/5m/A=B;c=d;bad;e=f=g  ", want: &keptnQuery{resource: AnalysisResource, namespace: "ns", name: "def", timeframe: "5m",
			args: map[string]any{"a": "b", "c": "d"}}},
		{query: "keptnmetric/ns", err: "unexpected query format"},
		{query: "pod/ns/name", err: `unexpected resource kind "pod"`},
		{query: "keptnmetric//name", err: "empty namespace or resource name"},
		{query: "keptnmetric/ns/" + strings.Repeat("x", maxQuery), err: "at most 4096"},
	}
	for _, tt := range tests {
		got, err := parseKeptnQuery(tt.query)
		if tt.err != "" {
			if err == nil || !strings.Contains(err.Error(), tt.err) {
				t.Errorf("%q: err %v, want %q", tt.query, err, tt.err)
			}
			continue
		}
		if err != nil {
			t.Errorf("%q: %v", tt.query, err)
			continue
		}
		if diff := cmp.Diff(tt.want, got, cmp.AllowUnexported(keptnQuery{})); diff != "" {
			t.Errorf("%q (-want +got):\n%s", tt.query, diff)
		}
	}
}

func TestKeptnMetric(t *testing.T) {
	dyn := fakeDynamic(
		keptnMetric("apps", "rate", map[string]any{"value": "42.5", "rawValue": "NDIuNQ=="}),
		keptnMetric("apps", "novalue", map[string]any{"errMsg": "provider down"}),
		keptnMetric("apps", "nostatus", nil),
		keptnMetric("apps", "text", map[string]any{"value": "high"}),
		keptnMetric("apps", "nan", map[string]any{"value": "NaN"}),
		keptnMetric("apps", "number", map[string]any{"value": int64(3)}),
	)
	k := NewKeptn(dyn)
	ctx := context.Background()
	v, err := k.Query(ctx, "keptnmetric/apps/rate", time.Time{})
	if err != nil || v != 42.5 {
		t.Fatalf("rate: %v %v, want 42.5", v, err)
	}
	// The evaluation time may be "now" (within MaxSkew).
	if v, err := k.Query(ctx, "KeptnMetric/Apps/Rate", time.Now().Add(-time.Minute)); err != nil || v != 42.5 {
		t.Fatalf("rate a minute ago: %v %v", v, err)
	}
	for _, tt := range []struct {
		query string
		err   string
		is    error
	}{
		{"keptnmetric/apps/novalue", "could not retrieve KeptnMetric - no value found in resource apps/novalue", nil},
		{"keptnmetric/apps/nostatus", "no value found in resource apps/nostatus", nil},
		{"keptnmetric/apps/number", "no value found in resource apps/number", nil},
		{"keptnmetric/apps/text", `could not parse value of KeptnMetric apps/text to float: strconv.ParseFloat: parsing "high"`, nil},
		{"keptnmetric/apps/nan", `KeptnMetric apps/nan: value "nan"`, metrics.ErrNoValues},
		{"keptnmetric/apps/missing", `could not retrieve KeptnMetric apps/missing: keptnmetrics.metrics.keptn.sh "missing" not found`, nil},
	} {
		_, err := k.Query(ctx, tt.query, time.Time{})
		if err == nil || !strings.Contains(strings.ToLower(err.Error()), strings.ToLower(tt.err)) {
			t.Errorf("%s: err %v, want %q", tt.query, err, tt.err)
		}
		if tt.is != nil && !errors.Is(err, tt.is) {
			t.Errorf("%s: %v does not wrap %v", tt.query, err, tt.is)
		}
	}
	_, err = k.Query(ctx, "keptnmetric/apps/rate", time.Now().Add(-time.Hour))
	if err == nil || !strings.Contains(err.Error(), "current values only") {
		t.Errorf("an hour ago: %v, want a refusal", err)
	}
}

// analysisCluster is a fake cluster whose "Keptn" completes an Analysis
// on the given get (counting from 1) with pass, or never (done 0).
func analysisCluster(t *testing.T, done int, pass any) (*dynamicfake.FakeDynamicClient, *atomic.Int32) {
	dyn := fakeDynamic()
	var gets atomic.Int32
	dyn.PrependReactor("get", "analyses", func(a k8stesting.Action) (bool, runtime.Object, error) {
		n := int(gets.Add(1))
		name := a.(k8stesting.GetAction).GetName()
		obj, err := dyn.Tracker().Get(AnalysisResource, a.GetNamespace(), name)
		if err != nil {
			return true, nil, err
		}
		u := obj.(*unstructured.Unstructured).DeepCopy()
		state := "Progressing"
		if done > 0 && n >= done {
			state = "Completed"
		}
		st := map[string]any{"state": state}
		if state == "Completed" && pass != nil {
			st["pass"] = pass
		}
		u.Object["status"] = st
		return true, u, nil
	})
	return dyn, &gets
}

func TestKeptnAnalysis(t *testing.T) {
	for _, tt := range []struct {
		name string
		pass any
		want float64
	}{{"pass", true, 1}, {"fail", false, 0}} {
		t.Run(tt.name, func(t *testing.T) {
			dyn, gets := analysisCluster(t, 3, tt.pass)
			k := NewKeptn(dyn)
			k.poll = time.Millisecond
			k.suffix = func() string { return "abc123" }
			v, err := k.Query(context.Background(), "analysis/Apps/Def/10m/Service=Podinfo;x=1", time.Time{})
			if err != nil || v != tt.want {
				t.Fatalf("got %v %v, want %v", v, err, tt.want)
			}
			if gets.Load() != 3 {
				t.Errorf("%d polls, want 3 (completed on the third)", gets.Load())
			}
			var created *unstructured.Unstructured
			deleted := ""
			for _, a := range dyn.Actions() {
				switch a := a.(type) {
				case k8stesting.CreateAction:
					created = a.GetObject().(*unstructured.Unstructured)
				case k8stesting.DeleteAction:
					deleted = a.GetNamespace() + "/" + a.GetName()
				}
			}
			want := map[string]any{
				"apiVersion": "metrics.keptn.sh/v1beta1", "kind": "Analysis",
				"metadata": map[string]any{"name": "def-abc123", "namespace": "apps"},
				"spec": map[string]any{
					"analysisDefinition": map[string]any{"name": "def"},
					"timeframe":          map[string]any{"recent": "10m"},
					"args":               map[string]any{"service": "podinfo", "x": "1"},
				},
			}
			if created == nil {
				t.Fatal("no Analysis created")
			}
			if diff := cmp.Diff(want, created.Object); diff != "" {
				t.Errorf("created Analysis (-want +got):\n%s", diff)
			}
			if deleted != "apps/def-abc123" {
				t.Errorf("deleted %q, want apps/def-abc123", deleted)
			}
			if _, err := dyn.Resource(AnalysisResource).Namespace("apps").Get(context.Background(), "def-abc123", metav1.GetOptions{}); err == nil {
				t.Error("the Analysis is still there")
			}
		})
	}
}

func TestKeptnAnalysisTimeout(t *testing.T) {
	// Completed without status.pass keeps Flagger polling, as does no state.
	for _, done := range []int{0, 1} {
		dyn, gets := analysisCluster(t, done, nil)
		k := NewKeptn(dyn)
		k.poll = time.Millisecond
		k.timeout = 50 * time.Millisecond
		_, err := k.Query(context.Background(), "analysis/apps/def", time.Time{})
		if err == nil || !strings.Contains(err.Error(), "encountered timeout while waiting for Keptn Analysis apps/def to be finished") {
			t.Fatalf("done %d: err %v, want a timeout", done, err)
		}
		if gets.Load() == 0 {
			t.Error("never polled")
		}
		l, err := dyn.Resource(AnalysisResource).Namespace("apps").List(context.Background(), metav1.ListOptions{})
		if err != nil || len(l.Items) != 0 {
			t.Errorf("after a timeout: %v Analyses left (%v), want none", len(l.Items), err)
		}
	}
}

func TestKeptnAnalysisCreateFails(t *testing.T) {
	dyn := fakeDynamic()
	dyn.PrependReactor("create", "analyses", func(k8stesting.Action) (bool, runtime.Object, error) {
		return true, nil, errors.New("admission webhook denied it")
	})
	_, err := NewKeptn(dyn).Query(context.Background(), "analysis/apps/def", time.Time{})
	if err == nil || !strings.Contains(err.Error(), "could not create Keptn Analysis apps/def: admission webhook denied it") {
		t.Fatalf("err %v", err)
	}
}

func TestDescribe(t *testing.T) {
	r, err := DescribeKeptn("keptnmetric/apps/rate")
	if err != nil || r.Method != "GET" || r.URL != "/apis/metrics.keptn.sh/v1beta1/namespaces/apps/keptnmetrics/rate" {
		t.Errorf("keptnmetric: %+v %v", r, err)
	}
	r, err = DescribeKeptn("analysis/apps/def/5m")
	if err != nil || r.Method != "POST" || r.URL != "/apis/metrics.keptn.sh/v1beta1/namespaces/apps/analyses" || !strings.Contains(r.Body, "timeframe.recent 5m") {
		t.Errorf("analysis: %+v %v", r, err)
	}
	r, err = DescribeExternal("apps/queue_depth?labelSelector=queue%3Dorders")
	if err != nil || r.URL != "/apis/external.metrics.k8s.io/v1beta1/namespaces/apps/queue_depth?labelSelector=queue%3Dorders" {
		t.Errorf("external: %+v %v", r, err)
	}
}

package kube_test

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	authzv1 "k8s.io/api/authorization/v1"
	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
)

// deployProvidersYAML is deploy/values.yaml's rendering with
// providers.keptn and providers.externalMetrics on (internal/deploytest
// keeps it equal to the chart's output).
const deployProvidersYAML = "testdata/deploy-providers.yaml"

var (
	keptnMetrics  = schema.GroupVersionResource{Group: "metrics.keptn.sh", Version: "v1beta1", Resource: "keptnmetrics"}
	keptnAnalyses = schema.GroupVersionResource{Group: "metrics.keptn.sh", Version: "v1beta1", Resource: "analyses"}
)

// providerAccess is what the keptn and externalmetrics providers do (and
// some of what they must not), as SubjectAccessReview attributes.
var providerAccess = []struct {
	verb, group, resource, name string
	needed                      bool
}{
	{"get", "metrics.keptn.sh", "keptnmetrics", "podinfo-availability", true},
	{"create", "metrics.keptn.sh", "analyses", "", true},
	{"get", "metrics.keptn.sh", "analyses", "podinfo-a1b2c", true},
	{"delete", "metrics.keptn.sh", "analyses", "podinfo-a1b2c", true},
	{"list", "external.metrics.k8s.io", "http_requests", "", true},
	// Never granted, with the switches on or off.
	{"list", "metrics.keptn.sh", "keptnmetrics", "", false},
	{"watch", "metrics.keptn.sh", "keptnmetrics", "", false},
	{"update", "metrics.keptn.sh", "keptnmetrics", "podinfo-availability", false},
	{"create", "metrics.keptn.sh", "keptnmetrics", "", false},
	{"list", "metrics.keptn.sh", "analyses", "", false},
	{"update", "metrics.keptn.sh", "analyses", "podinfo-a1b2c", false},
	{"patch", "metrics.keptn.sh", "analyses", "podinfo-a1b2c", false},
	{"get", "metrics.keptn.sh", "analysisdefinitions", "def", false},
	{"create", "external.metrics.k8s.io", "http_requests", "", false},
	{"watch", "external.metrics.k8s.io", "http_requests", "", false},
	{"get", "custom.metrics.k8s.io", "pods", "", false},
}

// installKeptnCRDs creates the Keptn CRDs of package clustermetrics'
// testdata (kept if present: its tests use them too) and waits until they
// are served.
func (e *testenv) installKeptnCRDs(ctx context.Context, t *testing.T) {
	t.Helper()
	files, err := filepath.Glob("clustermetrics/testdata/crds/*.yaml")
	if err != nil || len(files) != 2 {
		t.Fatalf("clustermetrics/testdata/crds: %v %v", files, err)
	}
	for _, f := range files {
		if _, err := e.dyn.Resource(crdResource).Create(ctx, readYAML(t, f), metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
			t.Fatalf("%s: %v", f, err)
		}
	}
	for _, gvr := range []schema.GroupVersionResource{keptnMetrics, keptnAnalyses} {
		poll(ctx, t, gvr.Resource+" to be served", func() (bool, error) {
			_, err := e.dyn.Resource(gvr).Namespace("default").List(ctx, metav1.ListOptions{})
			return err == nil, err
		})
	}
}

// clusterRoleFrom returns the ClusterRole augur-read of a rendering.
func clusterRoleFrom(t *testing.T, path string) *unstructured.Unstructured {
	t.Helper()
	for _, u := range readObjects(t, path) {
		if u.GetKind() == "ClusterRole" && u.GetName() == "augur-read" {
			return u
		}
	}
	t.Fatalf("%s has no ClusterRole augur-read", path)
	return nil
}

// replaceClusterRole replaces the ClusterRole augur-read with the one of
// path, as `kubectl apply` of that rendering would.
func (e *testenv) replaceClusterRole(ctx context.Context, t *testing.T, path string) {
	t.Helper()
	r := e.dyn.Resource(schema.GroupVersionResource{Group: "rbac.authorization.k8s.io", Version: "v1", Resource: "clusterroles"})
	cur, err := r.Get(ctx, "augur-read", metav1.GetOptions{})
	if err != nil {
		t.Fatal(err)
	}
	want := clusterRoleFrom(t, path)
	want.SetResourceVersion(cur.GetResourceVersion())
	if _, err := r.Update(ctx, want, metav1.UpdateOptions{FieldValidation: "Strict"}); err != nil {
		t.Fatalf("updating ClusterRole augur-read from %s: %v", path, err)
	}
}

// access asks the API server what the ServiceAccount may do, for each
// providerAccess row, in namespace ns.
func access(ctx context.Context, t *testing.T, sa kubernetes.Interface, ns string) []bool {
	t.Helper()
	out := make([]bool, len(providerAccess))
	for i, tc := range providerAccess {
		ssar := &authzv1.SelfSubjectAccessReview{Spec: authzv1.SelfSubjectAccessReviewSpec{ResourceAttributes: &authzv1.ResourceAttributes{
			Verb: tc.verb, Group: tc.group, Resource: tc.resource, Namespace: ns, Name: tc.name}}}
		got, err := sa.AuthorizationV1().SelfSubjectAccessReviews().Create(ctx, ssar, metav1.CreateOptions{})
		if err != nil {
			t.Fatal(err)
		}
		out[i] = got.Status.Allowed
	}
	return out
}

// providerCalls makes the providers' real requests as the ServiceAccount
// and returns, for each, whether the API server refused it (403).
func providerCalls(ctx context.Context, t *testing.T, sa kubernetes.Interface, saDyn dynamic.Interface, ns string) map[string]bool {
	t.Helper()
	forbidden := map[string]bool{}
	_, err := saDyn.Resource(keptnMetrics).Namespace(ns).Get(ctx, "podinfo-availability", metav1.GetOptions{})
	forbidden["get keptnmetric"] = apierrors.IsForbidden(err)
	if err != nil && !apierrors.IsForbidden(err) {
		t.Errorf("get KeptnMetric as augur: %v", err)
	}
	analysis := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "metrics.keptn.sh/v1beta1", "kind": "Analysis",
		"metadata": map[string]any{"generateName": "podinfo-", "namespace": ns},
		"spec":     map[string]any{"analysisDefinition": map[string]any{"name": "podinfo"}, "timeframe": map[string]any{"recent": "5m"}},
	}}
	created, err := saDyn.Resource(keptnAnalyses).Namespace(ns).Create(ctx, analysis, metav1.CreateOptions{})
	forbidden["create analysis"] = apierrors.IsForbidden(err)
	if err != nil && !apierrors.IsForbidden(err) {
		t.Errorf("create Analysis as augur: %v", err)
	}
	if err == nil {
		_, err = saDyn.Resource(keptnAnalyses).Namespace(ns).Get(ctx, created.GetName(), metav1.GetOptions{})
		forbidden["get analysis"] = apierrors.IsForbidden(err)
		if err != nil && !apierrors.IsForbidden(err) {
			t.Errorf("get Analysis as augur: %v", err)
		}
		err = saDyn.Resource(keptnAnalyses).Namespace(ns).Delete(ctx, created.GetName(), metav1.DeleteOptions{})
		forbidden["delete analysis"] = apierrors.IsForbidden(err)
		if err != nil && !apierrors.IsForbidden(err) {
			t.Errorf("delete Analysis as augur: %v", err)
		}
	}
	// GET of one metric's values, as the externalmetrics provider sends it.
	// Allowed, the answer depends on whether an external metrics APIService
	// is registered (package clustermetrics' test registers one for a
	// while): 404, 503 or 200, never 403.
	err = sa.Discovery().RESTClient().Get().AbsPath("/apis/external.metrics.k8s.io/v1beta1/namespaces", ns, "http_requests").
		Param("labelSelector", "app=podinfo").Do(ctx).Error()
	forbidden["get external metric"] = apierrors.IsForbidden(err)
	_, err = saDyn.Resource(keptnMetrics).Namespace(ns).List(ctx, metav1.ListOptions{})
	forbidden["list keptnmetrics"] = apierrors.IsForbidden(err)
	return forbidden
}

// checkProviderRBAC: with the shipped deploy/augur.yaml the ServiceAccount
// can do none of what keptn and externalmetrics need; with the rendering
// of providers.keptn and providers.externalMetrics on it can do exactly
// that, and nothing more of those APIs. The shipped ClusterRole is put back
// at the end.
func (e *testenv) checkProviderRBAC(ctx context.Context, t *testing.T, saConfig string, sa kubernetes.Interface) {
	e.installKeptnCRDs(ctx, t)
	const ns = "test"
	metric := &unstructured.Unstructured{Object: map[string]any{
		"apiVersion": "metrics.keptn.sh/v1beta1", "kind": "KeptnMetric",
		"metadata": map[string]any{"name": "podinfo-availability", "namespace": ns},
		"spec":     map[string]any{"provider": map[string]any{"name": "prom"}, "query": "up", "fetchIntervalSeconds": int64(10)},
	}}
	if _, err := e.dyn.Resource(keptnMetrics).Namespace(ns).Create(ctx, metric, metav1.CreateOptions{}); err != nil && !apierrors.IsAlreadyExists(err) {
		t.Fatal(err)
	}
	saDyn, err := dynamic.NewForConfig(mustConfig(t, saConfig))
	if err != nil {
		t.Fatal(err)
	}
	if b, err := os.ReadFile(deployYAML); err != nil || strings.Contains(string(b), "metrics.keptn.sh") || strings.Contains(string(b), "external.metrics.k8s.io") {
		t.Fatalf("%s must not grant the cluster metrics providers by default (%v)", deployYAML, err)
	}

	want := func(on bool) string {
		var s []string
		for _, tc := range providerAccess {
			s = append(s, fmt.Sprintf("%s %s/%s=%v", tc.verb, tc.group, tc.resource, on && tc.needed))
		}
		return strings.Join(s, "\n")
	}
	got := func(allowed []bool) string {
		var s []string
		for i, tc := range providerAccess {
			s = append(s, fmt.Sprintf("%s %s/%s=%v", tc.verb, tc.group, tc.resource, allowed[i]))
		}
		return strings.Join(s, "\n")
	}
	calls := func(on bool) {
		t.Helper()
		f := providerCalls(ctx, t, sa, saDyn, ns)
		wantForbidden := map[string]bool{"get keptnmetric": !on, "create analysis": !on, "get external metric": !on, "list keptnmetrics": true}
		if on {
			wantForbidden["get analysis"], wantForbidden["delete analysis"] = false, false
		}
		if fmt.Sprint(f) != fmt.Sprint(wantForbidden) {
			t.Errorf("providers on=%v: requests refused %v, want %v", on, f, wantForbidden)
		}
	}

	// Off: the shipped manifests.
	if g := got(access(ctx, t, sa, ns)); g != want(false) {
		t.Errorf("deploy/augur.yaml:\n%s\nwant\n%s", g, want(false))
	}
	calls(false)

	// On: RBAC is read by the authorizer from an informer, so wait for it.
	e.replaceClusterRole(ctx, t, deployProvidersYAML)
	t.Cleanup(func() { e.replaceClusterRole(context.WithoutCancel(ctx), t, deployYAML) })
	settle(ctx, t, deployProvidersYAML, func() string { return got(access(ctx, t, sa, ns)) }, want(true))
	for _, other := range []string{"istio-system", augurNS} { // a ClusterRole: every namespace
		if g := got(access(ctx, t, sa, other)); g != want(true) {
			t.Errorf("%s in %s:\n%s\nwant\n%s", deployProvidersYAML, other, g, want(true))
		}
	}
	calls(true)

	// Off again: the shipped ClusterRole takes them away.
	e.replaceClusterRole(ctx, t, deployYAML)
	settle(ctx, t, deployYAML+" again", func() string { return got(access(ctx, t, sa, ns)) }, want(false))
	calls(false)
}

// settle waits up to 60 s for the authorizer to see a new ClusterRole (it
// reads RBAC from an informer) and reports what differs if it never
// answers want.
func settle(ctx context.Context, t *testing.T, what string, got func() string, want string) {
	t.Helper()
	deadline := time.Now().Add(60 * time.Second)
	for {
		g := got()
		if g == want {
			return
		}
		if time.Now().After(deadline) {
			t.Errorf("%s: access reviews\n%s\nwant\n%s", what, g, want)
			return
		}
		select {
		case <-ctx.Done():
			t.Fatal(ctx.Err())
		case <-time.After(200 * time.Millisecond):
		}
	}
}

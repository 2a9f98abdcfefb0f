package kube

import (
	"context"
	"fmt"
	"slices"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
)

// LintResources are the resources `augur lint --cluster` and the preflight
// gate read, namespaced ones first.
var LintResources = []schema.GroupVersionResource{
	{Group: "apps", Version: "v1", Resource: "deployments"},
	{Group: "apps", Version: "v1", Resource: "statefulsets"},
	{Group: "apps", Version: "v1", Resource: "daemonsets"},
	{Group: "autoscaling", Version: "v2", Resource: "horizontalpodautoscalers"},
	{Group: "policy", Version: "v1", Resource: "poddisruptionbudgets"},
	CanaryResource,
	MetricTemplateResource,
	{Group: "argoproj.io", Version: "v1alpha1", Resource: "rollouts"},
	{Group: "argoproj.io", Version: "v1alpha1", Resource: "analysistemplates"},
}

// clusterAnalysisTemplates is Argo's cluster-scoped template resource.
var clusterAnalysisTemplates = schema.GroupVersionResource{Group: "argoproj.io", Version: "v1alpha1", Resource: "clusteranalysistemplates"}

// MaxLintObjects bounds the objects one LintObjects call reads per resource.
const MaxLintObjects = 5000

// LintSnapshot is what the lint rules read from a cluster.
type LintSnapshot struct {
	// Objects are the objects as unstructured JSON (apiVersion and kind set).
	Objects []map[string]any
	// APIGroups are the API groups the server serves.
	APIGroups []string
}

// LintObjects reads the objects of LintResources in namespace ("" for every
// namespace), the Namespace object itself, the cluster's Argo
// ClusterAnalysisTemplates, and the MetricTemplates that Canaries reference
// in other namespaces. A resource the server does not serve (Flagger's or
// Argo's CRDs not installed) is skipped; any other error is returned.
func (s *Source) LintObjects(ctx context.Context, namespace string) (*LintSnapshot, error) {
	snap := &LintSnapshot{}
	groups, err := s.core.Discovery().ServerGroups()
	if err != nil {
		return nil, fmt.Errorf("reading the cluster's API groups: %w", err)
	}
	for _, g := range groups.Groups {
		snap.APIGroups = append(snap.APIGroups, g.Name)
	}
	slices.Sort(snap.APIGroups)
	seen := map[string]bool{}
	add := func(u *unstructured.Unstructured) {
		k := u.GetAPIVersion() + "/" + u.GetKind() + "/" + u.GetNamespace() + "/" + u.GetName()
		if seen[k] {
			return
		}
		seen[k] = true
		obj := u.Object
		if md, ok := obj["metadata"].(map[string]any); ok {
			delete(md, "managedFields")
		}
		snap.Objects = append(snap.Objects, obj)
	}
	for _, gvr := range append(slices.Clone(LintResources), clusterAnalysisTemplates) {
		ns := namespace
		if gvr == clusterAnalysisTemplates {
			ns = ""
		}
		items, err := s.list(ctx, gvr, ns)
		if err != nil {
			return nil, err
		}
		for i := range items {
			add(&items[i])
		}
	}
	if namespace != "" {
		n, err := s.dyn.Resource(schema.GroupVersionResource{Version: "v1", Resource: "namespaces"}).Get(ctx, namespace, metav1.GetOptions{})
		switch {
		case err == nil:
			add(n)
		case !apierrors.IsNotFound(err) && !apierrors.IsForbidden(err):
			return nil, fmt.Errorf("reading Namespace %s from the cluster: %w", namespace, err)
		}
		// MetricTemplates referenced across namespaces.
		for _, o := range slices.Clone(snap.Objects) {
			if o["kind"] != "Canary" {
				continue
			}
			metrics, _, _ := unstructured.NestedSlice(o, "spec", "analysis", "metrics")
			for _, m := range metrics {
				ref, _ := m.(map[string]any)["templateRef"].(map[string]any)
				tns, _ := ref["namespace"].(string)
				name, _ := ref["name"].(string)
				if tns == "" || tns == namespace || name == "" {
					continue
				}
				u, err := s.dyn.Resource(MetricTemplateResource).Namespace(tns).Get(ctx, name, metav1.GetOptions{})
				if err != nil {
					if apierrors.IsNotFound(err) {
						continue
					}
					return nil, readError("MetricTemplate", MetricTemplateResource, tns, name, err)
				}
				add(u)
			}
		}
	}
	return snap, nil
}

// list reads up to MaxLintObjects objects of gvr in namespace, page by page.
func (s *Source) list(ctx context.Context, gvr schema.GroupVersionResource, namespace string) ([]unstructured.Unstructured, error) {
	var out []unstructured.Unstructured
	opts := metav1.ListOptions{Limit: 500}
	for {
		var l *unstructured.UnstructuredList
		var err error
		if namespace == "" {
			l, err = s.dyn.Resource(gvr).List(ctx, opts)
		} else {
			l, err = s.dyn.Resource(gvr).Namespace(namespace).List(ctx, opts)
		}
		if err != nil {
			if apierrors.IsNotFound(err) && missingResource(err) {
				return nil, nil // the CRD is not installed
			}
			return nil, fmt.Errorf("listing %s from the cluster: %w", gvrString(gvr), err)
		}
		out = append(out, l.Items...)
		if len(out) > MaxLintObjects {
			return nil, fmt.Errorf("listing %s from the cluster: more than %d objects; lint one namespace at a time", gvrString(gvr), MaxLintObjects)
		}
		if l.GetContinue() == "" {
			return out, nil
		}
		opts.Continue = l.GetContinue()
	}
}

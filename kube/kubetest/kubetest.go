// Package kubetest builds kube.Sources over client-go's fake clients from
// YAML manifests, for tests of packages that must not import client-go
// themselves (internal/cli). Canary and MetricTemplate objects (and any
// kind client-go does not know) go to the fake dynamic client; Secrets,
// Namespaces and other core kinds go to the fake typed clientset.
//
// It imports kube, client-go and apimachinery, and nothing else of augur.
package kubetest

import (
	"context"
	"errors"
	"fmt"
	"io"
	"slices"
	"strings"

	corev1 "k8s.io/api/core/v1"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime"
	"k8s.io/apimachinery/pkg/runtime/schema"
	utilyaml "k8s.io/apimachinery/pkg/util/yaml"
	dynamicfake "k8s.io/client-go/dynamic/fake"
	k8sfake "k8s.io/client-go/kubernetes/fake"
	"k8s.io/client-go/kubernetes/scheme"

	"github.com/augurproj/augur/kube"
)

// Cluster is a fake cluster: client-go's fake dynamic client and fake
// typed clientset, sharing nothing but this struct.
type Cluster struct {
	// Dynamic holds Flagger's objects (and other custom resources).
	Dynamic *dynamicfake.FakeDynamicClient
	// Core holds the core kinds: Secrets, Namespaces, Events, ….
	Core *k8sfake.Clientset
}

// New returns a fake cluster holding the objects of the YAML (or JSON)
// manifests, each of which may hold several documents. A Secret's
// stringData is merged into its data, as the API server does.
func New(manifests ...string) (*Cluster, error) {
	c := &Cluster{
		Dynamic: dynamicfake.NewSimpleDynamicClientWithCustomListKinds(runtime.NewScheme(), map[schema.GroupVersionResource]string{
			kube.CanaryResource:         "CanaryList",
			kube.MetricTemplateResource: "MetricTemplateList",
		}),
		Core: k8sfake.NewClientset(),
	}
	for i, m := range manifests {
		if err := c.Add(m); err != nil {
			return nil, fmt.Errorf("manifest %d: %w", i+1, err)
		}
	}
	return c, nil
}

// Add adds the objects of a YAML (or JSON) manifest to the cluster.
func (c *Cluster) Add(manifest string) error {
	dec := utilyaml.NewYAMLOrJSONDecoder(strings.NewReader(manifest), 4096)
	for doc := 1; ; doc++ {
		var obj map[string]any
		if err := dec.Decode(&obj); err != nil {
			if errors.Is(err, io.EOF) {
				return nil
			}
			return fmt.Errorf("document %d: %w", doc, err)
		}
		if len(obj) == 0 {
			continue
		}
		if err := c.addObject(&unstructured.Unstructured{Object: obj}); err != nil {
			return fmt.Errorf("document %d: %w", doc, err)
		}
	}
}

func (c *Cluster) addObject(u *unstructured.Unstructured) error {
	gvk := u.GroupVersionKind()
	if u.GetName() == "" || gvk.Kind == "" || gvk.Version == "" {
		return fmt.Errorf("object %q of kind %q (apiVersion %q): apiVersion, kind and metadata.name are required",
			u.GetName(), gvk.Kind, u.GetAPIVersion())
	}
	typed, err := scheme.Scheme.New(gvk)
	if err != nil {
		// Not a kind client-go knows: a custom resource.
		if err := c.Dynamic.Tracker().Add(u); err != nil {
			return fmt.Errorf("%s %s/%s: %w", gvk.Kind, u.GetNamespace(), u.GetName(), err)
		}
		return nil
	}
	if err := runtime.DefaultUnstructuredConverter.FromUnstructured(u.Object, typed); err != nil {
		return fmt.Errorf("%s %s/%s: %w", gvk.Kind, u.GetNamespace(), u.GetName(), err)
	}
	if s, ok := typed.(*corev1.Secret); ok {
		for k, v := range s.StringData {
			if s.Data == nil {
				s.Data = map[string][]byte{}
			}
			s.Data[k] = []byte(v)
		}
		s.StringData = nil
	}
	if err := c.Core.Tracker().Add(typed); err != nil {
		return fmt.Errorf("%s %s/%s: %w", gvk.Kind, u.GetNamespace(), u.GetName(), err)
	}
	return nil
}

// Source returns a kube.Source over the fake clients; namespace is the
// namespace of names given without one (empty: "default").
func (c *Cluster) Source(namespace string) *kube.Source {
	return kube.NewForClients(c.Dynamic, c.Core, namespace)
}

// Events returns the Events of a namespace, sorted by name (which is
// creation order for the Events kube.Source records).
func (c *Cluster) Events(ctx context.Context, namespace string) ([]corev1.Event, error) {
	l, err := c.Core.CoreV1().Events(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("listing events in %s: %w", namespace, err)
	}
	evs := l.Items
	slices.SortFunc(evs, func(a, b corev1.Event) int { return strings.Compare(a.Name, b.Name) })
	return evs, nil
}

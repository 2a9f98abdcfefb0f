package kube

import (
	"context"
	"errors"
	"fmt"
	"github.com/augurproj/augur/redact"
	"os"
	"time"

	apierrors "k8s.io/apimachinery/pkg/api/errors"
	metav1 "k8s.io/apimachinery/pkg/apis/meta/v1"
	"k8s.io/apimachinery/pkg/apis/meta/v1/unstructured"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/kubernetes"
	"k8s.io/client-go/rest"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/engine"
	"github.com/augurproj/augur/manifest"
)

// Flagger's resources, as its CRDs name them.
var (
	// CanaryResource is flagger.app/v1beta1 canaries.
	CanaryResource = schema.GroupVersionResource{Group: "flagger.app", Version: "v1beta1", Resource: "canaries"}
	// MetricTemplateResource is flagger.app/v1beta1 metrictemplates.
	MetricTemplateResource = schema.GroupVersionResource{Group: "flagger.app", Version: "v1beta1", Resource: "metrictemplates"}
)

// Source reads Flagger objects and Secrets from one cluster. It implements
// engine.TemplateSource and engine.SecretSource. A Source is safe for
// concurrent use; it holds no cache, so every call reads the API server.
type Source struct {
	dyn       dynamic.Interface
	core      kubernetes.Interface
	namespace string
	origin    string
	now       func() time.Time
	host      string
	rest      *rest.Config
}

// Compile-time checks that Source is what the engine needs.
var (
	_ engine.TemplateSource = (*Source)(nil)
	_ engine.SecretSource   = (*Source)(nil)
)

// New connects to the cluster opts selects. It reads the kubeconfig (or
// the in-cluster configuration) but does not contact the API server, so an
// unreachable server shows up on the first read. It returns an error
// wrapping ErrNoConfig when no configuration is found.
func New(ctx context.Context, opts Options) (*Source, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	cc, err := loadConfig(opts, os.Getenv, rest.InClusterConfig, inClusterNamespaceFile)
	if err != nil {
		return nil, err
	}
	cfg := rest.CopyConfig(cc.rest)
	// The cluster credentials must never be echoed by anything augur prints.
	if rs := redact.FromContext(ctx); rs != nil {
		rs.Add(cfg.BearerToken, cfg.Password)
		rs.AddURL(cfg.Host)
	}
	cfg.UserAgent = UserAgent
	cfg.QPS, cfg.Burst = clientQPS, clientBurst
	dyn, err := dynamic.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: dynamic client: %w", cc.origin, err)
	}
	core, err := kubernetes.NewForConfig(cfg)
	if err != nil {
		return nil, fmt.Errorf("%s: core client: %w", cc.origin, err)
	}
	s := NewForClients(dyn, core, cc.namespace)
	s.origin = cc.origin + " (server " + cfg.Host + ")"
	s.rest = cfg
	return s, nil
}

// NewForClients returns a Source over existing clients (for example
// client-go's fakes). namespace is the namespace of names given without one;
// empty means DefaultNamespace.
func NewForClients(dyn dynamic.Interface, core kubernetes.Interface, namespace string) *Source {
	if namespace == "" {
		namespace = DefaultNamespace
	}
	host, err := os.Hostname()
	if err != nil {
		host = ""
	}
	return &Source{dyn: dyn, core: core, namespace: namespace, origin: "cluster", now: time.Now, host: host}
}

// RESTConfig is a copy of the connection's REST configuration (nil for a
// Source over existing clients): the externalmetrics provider starts from it.
func (s *Source) RESTConfig() *rest.Config {
	if s.rest == nil {
		return nil
	}
	return rest.CopyConfig(s.rest)
}

// Dynamic is the Source's dynamic client (the keptn provider reads with it).
func (s *Source) Dynamic() dynamic.Interface { return s.dyn }

// Namespace is the namespace of names given without one: the kubeconfig
// context's namespace, the pod's namespace in a cluster, else "default".
func (s *Source) Namespace() string { return s.namespace }

// String describes where the Source reads from, for messages.
func (s *Source) String() string { return s.origin }

// Canary reads the Canary namespace/name with its status. The object is
// decoded strictly (manifest.DecodeBytes): unknown fields and values of the
// wrong type are errors naming the object and the field. A missing Canary
// is an error wrapping engine.ErrNotFound.
func (s *Source) Canary(ctx context.Context, namespace, name string) (analysis.Canary, error) {
	u, err := s.dyn.Resource(CanaryResource).Namespace(namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return analysis.Canary{}, readError(analysis.KindCanary, CanaryResource, namespace, name, err)
	}
	return decodeCanary(u)
}

// MetricTemplate reads the MetricTemplate namespace/name. It implements
// engine.TemplateSource; a missing template is an error wrapping
// engine.ErrNotFound.
func (s *Source) MetricTemplate(ctx context.Context, namespace, name string) (*analysis.MetricTemplate, error) {
	u, err := s.dyn.Resource(MetricTemplateResource).Namespace(namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, readError(analysis.KindMetricTemplate, MetricTemplateResource, namespace, name, err)
	}
	mt, err := decodeMetricTemplate(u)
	if err != nil {
		return nil, err
	}
	return &mt, nil
}

// ErrListing wraps the error of a list request that failed as a whole.
var ErrListing = errors.New("listing from the cluster failed")

// MetricTemplates lists the MetricTemplates of a namespace ("" for every
// namespace), decoded strictly; the ones that do not decode are skipped and
// their errors joined into the returned error. A failed list request is an
// error wrapping ErrListing.
func (s *Source) MetricTemplates(ctx context.Context, namespace string) ([]analysis.MetricTemplate, error) {
	l, err := s.dyn.Resource(MetricTemplateResource).Namespace(namespace).List(ctx, metav1.ListOptions{})
	if err != nil {
		return nil, fmt.Errorf("%w: MetricTemplates: %w", ErrListing, err)
	}
	var out []analysis.MetricTemplate
	var errs []error
	for i := range l.Items {
		mt, err := decodeMetricTemplate(&l.Items[i])
		if err != nil {
			errs = append(errs, err)
			continue
		}
		out = append(out, mt)
	}
	return out, errors.Join(errs...)
}

// Secret reads the Secret namespace/name and returns its data, decoded
// (Secret.data values are base64 in the API; these are the bytes as
// strings). It implements engine.SecretSource. It reads the API server on
// every call, so a changed Secret is seen by the next evaluation. A missing
// Secret is an error wrapping engine.ErrNotFound.
func (s *Source) Secret(ctx context.Context, namespace, name string) (map[string]string, error) {
	sec, err := s.core.CoreV1().Secrets(namespace).Get(ctx, name, metav1.GetOptions{})
	if err != nil {
		return nil, readError("Secret", schema.GroupVersionResource{Version: "v1", Resource: "secrets"}, namespace, name, err)
	}
	data := make(map[string]string, len(sec.Data))
	for k, v := range sec.Data {
		data[k] = string(v)
	}
	return data, nil
}

// readError turns an API error into one that names the object; a 404
// wraps engine.ErrNotFound, and a 404 for the resource itself (no such
// resource type on the server) says that Flagger's CRD is missing.
func readError(kind string, gvr schema.GroupVersionResource, namespace, name string, err error) error {
	what := fmt.Sprintf("%s %s/%s", kind, namespace, name)
	if apierrors.IsNotFound(err) {
		if missingResource(err) {
			return fmt.Errorf("%s: the server has no %s resource (is Flagger's CRD installed?): %w", what, gvrString(gvr), engine.ErrNotFound)
		}
		return fmt.Errorf("%s: %w in the cluster", what, engine.ErrNotFound)
	}
	return fmt.Errorf("reading %s from the cluster: %w", what, err)
}

// missingResource reports whether a 404 is about the resource type rather
// than the object: the API server then names no object in the details.
func missingResource(err error) bool {
	var se apierrors.APIStatus
	if !errors.As(err, &se) {
		return false
	}
	d := se.Status().Details
	return d == nil || d.Name == ""
}

func gvrString(gvr schema.GroupVersionResource) string {
	if gvr.Group == "" {
		return gvr.Version + " " + gvr.Resource
	}
	return gvr.Group + "/" + gvr.Version + " " + gvr.Resource
}

// decodeCanary decodes a Canary read from the cluster with the strict
// decoder of package manifest. Errors name the object and the field.
func decodeCanary(u *unstructured.Unstructured) (analysis.Canary, error) {
	set, err := decodeObject(u, analysis.KindCanary)
	if err != nil {
		return analysis.Canary{}, err
	}
	return set.Canaries[0], nil
}

// decodeMetricTemplate decodes a MetricTemplate read from the cluster with
// the strict decoder of package manifest. Errors name the object and the
// field.
func decodeMetricTemplate(u *unstructured.Unstructured) (analysis.MetricTemplate, error) {
	set, err := decodeObject(u, analysis.KindMetricTemplate)
	if err != nil {
		return analysis.MetricTemplate{}, err
	}
	return set.Templates[0], nil
}

// decodeObject checks the object's apiVersion and kind and decodes it; the
// Set it returns holds exactly one object of that kind.
func decodeObject(u *unstructured.Unstructured, kind string) (*manifest.Set, error) {
	source := fmt.Sprintf("cluster %s %s/%s", kind, u.GetNamespace(), u.GetName())
	if u.GetAPIVersion() != analysis.APIVersion || u.GetKind() != kind {
		return nil, fmt.Errorf("%s: apiVersion %q kind %q, want %s %s", source, u.GetAPIVersion(), u.GetKind(), analysis.APIVersion, kind)
	}
	b, err := u.MarshalJSON()
	if err != nil {
		return nil, fmt.Errorf("%s: encoding as JSON: %w", source, err)
	}
	set, err := manifest.DecodeBytes(b, source)
	if err != nil {
		return nil, clusterError(err)
	}
	n := len(set.Canaries)
	if kind == analysis.KindMetricTemplate {
		n = len(set.Templates)
	}
	if n != 1 || len(set.Canaries)+len(set.Templates) != 1 {
		return nil, fmt.Errorf("%s: decoded %d canaries and %d templates, want one %s", source, len(set.Canaries), len(set.Templates), kind)
	}
	return set, nil
}

// clusterError rewrites the decoder's errors for an object read from the
// cluster: the source is "cluster" and the line, column and document number
// (of JSON the server produced, which the user never saw) are dropped. The
// object and field path stay, and so do the sentinels errors.Is matches.
func clusterError(err error) error {
	if joined, ok := err.(interface{ Unwrap() []error }); ok {
		errs := joined.Unwrap()
		out := make([]error, len(errs))
		for i, e := range errs {
			out[i] = clusterError(e)
		}
		return errors.Join(out...)
	}
	var me *manifest.Error
	if !errors.As(err, &me) {
		return err
	}
	c := *me
	c.Source, c.Pos, c.Document = "cluster", manifest.Position{}, 0
	return &c
}

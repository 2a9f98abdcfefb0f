package templates

import (
	_ "embed"
	"encoding/json"
	"fmt"
	"regexp"
	"strings"
	"sync"
)

// Observer families: the query sets of Flagger's metrics observers
// (pkg/metrics/observers). ObserverHTTP is Flagger's HttpObserver, used by
// the kubernetes and gatewayapi providers.
const (
	// ObserverIstio is Flagger's IstioObserver, also the fallback for unmatched providers.
	ObserverIstio = "istio"
	// ObserverLinkerd is Flagger's LinkerdObserver.
	ObserverLinkerd = "linkerd"
	// ObserverAppMesh is Flagger's AppMeshObserver (any provider starting with appmesh).
	ObserverAppMesh = "appmesh"
	// ObserverContour is Flagger's ContourObserver.
	ObserverContour = "contour"
	// ObserverGloo is Flagger's GlooObserver (any provider starting with gloo).
	ObserverGloo = "gloo"
	// ObserverNginx is Flagger's NginxObserver.
	ObserverNginx = "nginx"
	// ObserverHTTP is Flagger's HttpObserver (kubernetes and gatewayapi*); its duration is in seconds.
	ObserverHTTP = "http"
	// ObserverSkipper is Flagger's SkipperObserver.
	ObserverSkipper = "skipper"
	// ObserverTraefik is Flagger's TraefikObserver.
	ObserverTraefik = "traefik"
	// ObserverOSM is Flagger's OsmObserver.
	ObserverOSM = "osm"
	// ObserverKuma is Flagger's KumaObserver.
	ObserverKuma = "kuma"
	// ObserverAPISIX is Flagger's ApisixObserver.
	ObserverAPISIX = "apisix"
	// ObserverKnative is Flagger's KnativeObserver.
	ObserverKnative = "knative"
)

// Builtin metric names: Flagger matches these by name regardless of the
// metric's other fields.
const (
	// MetricRequestSuccessRate is the builtin success-rate metric (a percentage).
	MetricRequestSuccessRate = "request-success-rate"
	// MetricRequestDuration is the builtin request-duration metric (milliseconds after DurationUnit).
	MetricRequestDuration = "request-duration"
)

// observers lists the families in the order of Flagger's Factory.Observer.
var observers = []string{
	ObserverAppMesh, ObserverLinkerd, ObserverIstio, ObserverContour, ObserverGloo, ObserverNginx, ObserverHTTP,
	ObserverSkipper, ObserverTraefik, ObserverOSM, ObserverKuma, ObserverAPISIX, ObserverKnative,
}

// Observers returns every observer family name, in the order Flagger's
// factory tests them. The slice is a copy.
func Observers() []string {
	return append([]string(nil), observers...)
}

// builtinFile is the embedded, verbatim copy of Flagger v1.44.0's builtin
// query templates.
const builtinFile = "builtin/flagger-builtin-queries.json"

//go:embed builtin/flagger-builtin-queries.json
var builtinJSON []byte

var builtinQueries = sync.OnceValues(func() (map[string]map[string]string, error) {
	var doc struct {
		Observers map[string]map[string]string `json:"observers"`
	}
	if err := json.Unmarshal(builtinJSON, &doc); err != nil {
		return nil, fmt.Errorf("%s: %w", builtinFile, err)
	}
	return doc.Observers, nil
})

// BuiltinQuery returns the verbatim template text of Flagger's builtin
// metric (request-success-rate or request-duration) for an observer family.
// Render it with a Model whose Interval defaults to "1m", then Collapse it.
func BuiltinQuery(observer, metric string) (string, error) {
	all, err := builtinQueries()
	if err != nil {
		return "", err
	}
	q, ok := all[observer][metric]
	if !ok {
		return "", fmt.Errorf("builtin metric %q for observer %q: %w", metric, observer, ErrUnknownBuiltin)
	}
	return q, nil
}

// DurationUnit returns the factor that turns an observer's request-duration
// value into milliseconds: 1000 for ObserverHTTP, whose query returns
// seconds, and 1 for every other family, whose queries return milliseconds.
func DurationUnit(observer string) (scaleToMs float64) {
	if observer == ObserverHTTP {
		return 1000
	}
	return 1
}

// Selection is the outcome of Flagger's observer selection.
type Selection struct {
	// Provider is Flagger's metricsProvider string, as it appears in event
	// texts ("no values found for <provider> metric …"), e.g.
	// "kubernetes:service".
	Provider string `json:"provider"`
	// Observer is the query family chosen for Provider (one of Observers()).
	Observer string `json:"observer"`
}

// ObserverFor reproduces Flagger's choice of builtin query family
// (runBuiltinMetricChecks and Factory.Observer). meshProvider is the global
// -mesh-provider flag (Flagger's default is "istio"; an empty value is taken
// as given and falls through to istio), canaryProvider is the Canary's
// spec.provider, targetKind and targetAPIVersion its spec.targetRef.
//
// A global mesh provider containing "crossover" becomes "crossover"; a
// non-empty spec.provider overrides the global one, except that a global
// provider containing "linkerd" then wins as "linkerd"; a Service target
// (other than a serving.knative.dev/v1 Service) appends ":service", which
// sends every exact-match provider to the istio queries.
func ObserverFor(meshProvider, canaryProvider, targetKind, targetAPIVersion string) Selection {
	p := meshProvider
	if strings.Contains(meshProvider, "crossover") {
		p = "crossover"
	}
	if canaryProvider != "" {
		p = canaryProvider
		if strings.Contains(meshProvider, "linkerd") {
			p = "linkerd"
		}
	}
	if targetKind == "Service" && targetAPIVersion != "serving.knative.dev/v1" {
		p += ":service"
	}
	return Selection{Provider: p, Observer: observerFor(p)}
}

// observerFor is Flagger's Factory.Observer switch; the first match wins and
// anything unmatched (smi:*, crossover, linkerd:service, …) is istio.
func observerFor(p string) string {
	switch {
	case strings.HasPrefix(p, "appmesh"):
		return ObserverAppMesh
	case p == "linkerd":
		return ObserverLinkerd
	case p == "istio":
		return ObserverIstio
	case p == "contour":
		return ObserverContour
	case strings.HasPrefix(p, "gloo"):
		return ObserverGloo
	case p == "nginx":
		return ObserverNginx
	case p == "kubernetes" || strings.HasPrefix(p, "gatewayapi"):
		return ObserverHTTP
	case p == "skipper":
		return ObserverSkipper
	case p == "traefik":
		return ObserverTraefik
	case p == "osm":
		return ObserverOSM
	case p == "kuma":
		return ObserverKuma
	case p == "apisix":
		return ObserverAPISIX
	case p == "knative":
		return ObserverKnative
	default:
		return ObserverIstio
	}
}

// nonWord is Go's ASCII \W: every rune that is not [0-9A-Za-z_].
var nonWord = regexp.MustCompile(`\W`)

// BuiltinModel returns the model a builtin query of observer is rendered
// with. For ObserverSkipper it is Flagger's encodeModelForSkipper: every
// non-word rune of Name, Namespace, Ingress, Service and Target becomes "_",
// because skipper's route ids are built that way; Route, Interval and
// Variables are kept. Every other observer gets m unchanged.
func BuiltinModel(observer string, m Model) Model {
	if observer != ObserverSkipper {
		return m
	}
	m.Name = nonWord.ReplaceAllString(m.Name, "_")
	m.Namespace = nonWord.ReplaceAllString(m.Namespace, "_")
	m.Ingress = nonWord.ReplaceAllString(m.Ingress, "_")
	m.Service = nonWord.ReplaceAllString(m.Service, "_")
	m.Target = nonWord.ReplaceAllString(m.Target, "_")
	return m
}

package clustermetrics

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"path"
	"time"

	"github.com/augurproj/augur/metrics"
)

// Describe returns the API request a keptn query makes, without a cluster.
func (k *Keptn) Describe(query string) (metrics.Request, error) { return DescribeKeptn(query) }

// DescribeKeptn describes the API request of a keptn query: a GET of the
// KeptnMetric, or the POST of an Analysis polled until Keptn completes it.
func DescribeKeptn(query string) (metrics.Request, error) {
	q, err := parseKeptnQuery(query)
	if err != nil {
		return metrics.Request{}, err
	}
	p := path.Join("/apis", q.resource.Group, q.resource.Version, "namespaces", q.namespace, q.resource.Resource)
	if q.resource == KeptnMetricResource {
		return metrics.Request{Method: http.MethodGet, URL: p + "/" + url.PathEscape(q.name),
			Window: "none: the KeptnMetric's current status.value (Keptn's own fetch interval and range)"}, nil
	}
	return metrics.Request{Method: http.MethodPost, URL: p,
		Body:   "Analysis " + q.name + "-<6 hex> of AnalysisDefinition " + q.name + ", timeframe.recent " + q.timeframe,
		Window: "timeframe.recent " + q.timeframe + " before Keptn's now; polled every second for at most 10s, then deleted; 1 if status.pass, else 0"}, nil
}

// DescribeExternal describes the external metrics API request of a query.
func DescribeExternal(query string) (metrics.Request, error) {
	ns, metric, sel, err := parseExternalQuery(query)
	if err != nil {
		return metrics.Request{}, err
	}
	u := url.URL{Path: path.Join("/apis", ExternalGroupVersion.Group, ExternalGroupVersion.Version, "namespaces", ns, metric)}
	if s := sel.String(); s != "" {
		u.RawQuery = url.Values{"labelSelector": {s}}.Encode()
	}
	return metrics.Request{Method: http.MethodGet, URL: u.String(),
		Window: "none: the adapter's current value (the first item's)"}, nil
}

// Describe returns the request an externalmetrics query sends.
func (e *External) Describe(query string) (metrics.Request, error) { return DescribeExternal(query) }

// describer stands for a provider of this package in `augur render`, which
// has no cluster: it describes requests and refuses queries.
type describer struct {
	typ string
}

func (d describer) Query(context.Context, string, time.Time) (float64, error) {
	return 0, errors.New(d.typ + " reads the Kubernetes API: render has no cluster")
}

func (d describer) Describe(query string) (metrics.Request, error) {
	if d.typ == KeptnType {
		return DescribeKeptn(query)
	}
	return DescribeExternal(query)
}

// RegisterDescribers adds stand-ins that describe keptn and externalmetrics
// requests (augur render) and refuse to query.
func RegisterDescribers(r *metrics.Registry) {
	for _, t := range Types {
		r.Register(t, func(metrics.Config) (metrics.Provider, error) { return describer{t}, nil })
	}
}

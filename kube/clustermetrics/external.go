package clustermetrics

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strings"
	"time"

	"k8s.io/apimachinery/pkg/api/resource"
	"k8s.io/apimachinery/pkg/labels"
	"k8s.io/apimachinery/pkg/runtime/schema"
	"k8s.io/client-go/kubernetes/scheme"
	"k8s.io/client-go/rest"

	"github.com/augurproj/augur/metrics"
)

// ExternalType is the MetricTemplate provider type.
const ExternalType = "externalmetrics"

// ExternalGroupVersion is the external metrics API.
var ExternalGroupVersion = schema.GroupVersion{Group: "external.metrics.k8s.io", Version: "v1beta1"}

// Flagger's per-request timeout and the Secret key of the bearer token.
const (
	ExternalTimeout = 5 * time.Second
	TokenKey        = "token"
	// MaxBody caps an answer of the external metrics API.
	MaxBody = 16 << 20
)

// External queries the external metrics API, through the cluster's API
// server (its aggregation layer) or the provider's address.
type External struct {
	client rest.Interface
}

var _ metrics.Provider = (*External)(nil)

// NewExternal builds the provider for one MetricTemplate provider block
// over the cluster's REST configuration. As in Flagger, the block's address
// replaces the server, insecureSkipVerify sets TLS verification and the
// Secret's "token" becomes the bearer token. Unlike Flagger, the cluster's
// own credentials (token, client certificate, basic auth, exec plugins) are
// sent only to the cluster's server, never to another address a template
// names; and insecureSkipVerify drops the cluster's CA instead of failing.
func NewExternal(base *rest.Config, c metrics.Config) (*External, error) {
	if base == nil {
		return nil, errors.New("externalmetrics needs a cluster configuration")
	}
	rc := rest.CopyConfig(base)
	if c.Address != "" && strings.TrimRight(c.Address, "/") != strings.TrimRight(base.Host, "/") {
		rc.Host = c.Address
		rc.BearerToken, rc.BearerTokenFile, rc.Username, rc.Password = "", "", "", ""
		rc.CertFile, rc.KeyFile, rc.CertData, rc.KeyData = "", "", nil, nil
		rc.ExecProvider, rc.AuthProvider, rc.AuthConfigPersister = nil, nil, nil
		rc.Impersonate = rest.ImpersonationConfig{}
	}
	rc.Insecure = c.InsecureSkipVerify
	if rc.Insecure {
		rc.CAFile, rc.CAData = "", nil
	}
	if tok, ok := c.Credentials[TokenKey]; ok {
		rc.BearerToken, rc.BearerTokenFile = tok, ""
	}
	rc.Timeout = c.Timeout
	if rc.Timeout <= 0 {
		rc.Timeout = ExternalTimeout
	}
	rc.APIPath = "/apis"
	gv := ExternalGroupVersion
	rc.GroupVersion = &gv
	rc.NegotiatedSerializer = scheme.Codecs.WithoutConversion()
	if rc.UserAgent == "" {
		rc.UserAgent = "augur"
	}
	rc.Wrap(capBody)
	client, err := rest.RESTClientFor(rc)
	if err != nil {
		return nil, fmt.Errorf("error creating external metric client: %w", err)
	}
	return &External{client: client}, nil
}

// parseExternalQuery reads <namespace>/<metricName>?labelSelector=<selector>
// as Flagger does: only the metric name is required, the namespace defaults
// to "default".
func parseExternalQuery(query string) (namespace, metric string, sel labels.Selector, err error) {
	const format = "<namespace>/<metricName>?labelSelector=<urlencoded label selectors>"
	if len(query) > maxQuery {
		return "", "", nil, fmt.Errorf("query of %d bytes: at most %d", len(query), maxQuery)
	}
	u, err := url.Parse("dummy:///" + query)
	if err != nil {
		return "", "", nil, fmt.Errorf("malformed query string, expected %s, got %s", format, query)
	}
	parts := strings.Split(strings.TrimPrefix(u.Path, "/"), "/")
	if len(parts) > 2 {
		return "", "", nil, fmt.Errorf("malformed query string, too many slashes, expected %s, got %s", format, query)
	}
	namespace = "default"
	metric = parts[0]
	if len(parts) == 2 {
		if parts[0] != "" {
			namespace = parts[0]
		}
		metric = parts[1]
	}
	if metric == "" {
		return "", "", nil, errors.New("metric name cannot be empty")
	}
	sel = labels.Everything()
	if raw := u.Query().Get("labelSelector"); raw != "" {
		if sel, err = labels.Parse(raw); err != nil {
			return "", "", nil, fmt.Errorf("error parsing label selector from string %s: %w", raw, err)
		}
	}
	return namespace, metric, sel, nil
}

// externalList is external.metrics.k8s.io/v1beta1 ExternalMetricValueList,
// the fields augur reads.
type externalList struct {
	Items []struct {
		MetricName string            `json:"metricName"`
		Value      resource.Quantity `json:"value"`
	} `json:"items"`
}

// list runs GET /apis/external.metrics.k8s.io/v1beta1/namespaces/NS/METRIC.
func (e *External) list(ctx context.Context, namespace, metric string, sel labels.Selector) (*externalList, error) {
	req := e.client.Get().Namespace(namespace).Resource(metric)
	if s := sel.String(); s != "" {
		req = req.Param("labelSelector", s)
	}
	body, err := req.Do(ctx).Raw()
	if err != nil {
		return nil, err
	}
	var l externalList
	if err := json.Unmarshal(body, &l); err != nil {
		return nil, fmt.Errorf("decoding the ExternalMetricValueList: %w", err)
	}
	return &l, nil
}

// Query returns the first item's value, as Flagger does (the evaluation time
// must be zero or within MaxSkew of now: the API answers current values).
// No item is metrics.ErrNoValues.
func (e *External) Query(ctx context.Context, query string, at time.Time) (float64, error) {
	ns, metric, sel, err := parseExternalQuery(query)
	if err != nil {
		return 0, fmt.Errorf("error parsing metric query: %w", err)
	}
	if !at.IsZero() {
		if d := time.Since(at); d > MaxSkew || d < -MaxSkew {
			return 0, fmt.Errorf("externalmetrics query %q at %s: the external metrics API answers current values only, and this evaluation time is %s from now (at most %s): record the query with augur record to replay it",
				query, at.UTC().Format(time.RFC3339), d.Round(time.Second), MaxSkew)
		}
	}
	l, err := e.list(ctx, ns, metric, sel)
	if err != nil {
		return 0, fmt.Errorf("error querying external metrics API: %w", err)
	}
	if len(l.Items) < 1 {
		return 0, fmt.Errorf("no external metrics found: %w", metrics.ErrNoValues)
	}
	return l.Items[0].Value.AsApproximateFloat64(), nil
}

// IsOnline is Flagger's check: listing "dummy-metric" in kube-system must
// not fail (an empty list is online).
func (e *External) IsOnline(ctx context.Context) error {
	if _, err := e.list(ctx, "kube-system", "dummy-metric", labels.Everything()); err != nil {
		return fmt.Errorf("external metrics service unavailable: %w", err)
	}
	return nil
}

// capBody makes an answer longer than MaxBody an error instead of memory.
func capBody(rt http.RoundTripper) http.RoundTripper { return capped{rt} }

type capped struct{ rt http.RoundTripper }

func (c capped) RoundTrip(r *http.Request) (*http.Response, error) {
	resp, err := c.rt.RoundTrip(r)
	if err != nil || resp.Body == nil {
		return resp, err
	}
	resp.Body = &limitedBody{rc: resp.Body, left: MaxBody}
	return resp, nil
}

type limitedBody struct {
	rc   io.ReadCloser
	left int64
}

var errTooLarge = fmt.Errorf("answer body exceeds %d bytes", MaxBody)

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// One byte more tells a body of exactly MaxBody from a longer one.
		var one [1]byte
		if n, _ := b.rc.Read(one[:]); n > 0 {
			return 0, errTooLarge
		}
		return 0, io.EOF
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.rc.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *limitedBody) Close() error { return b.rc.Close() }

// Package newrelic is the New Relic metrics provider of Flagger's
// MetricTemplate type "newrelic": an NRQL query on the Insights query API
// (GET /v1/accounts/<id>/query) over the metric's interval, reduced to the
// single result's value, as Flagger v1.44.0 reads it.
//
// It speaks New Relic's documented HTTP API with net/http (package httpapi);
// it must not import a New Relic SDK, the engine or the analysis core.
package newrelic

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"time"

	"github.com/augurproj/augur/metrics"
	"github.com/augurproj/augur/metrics/httpapi"
)

// Type is the MetricTemplate provider type.
const Type = "newrelic"

// DefaultAddress is used when the template gives no address.
const DefaultAddress = "https://insights-api.newrelic.com"

// Secret keys (Flagger's).
const (
	AccountID = "newrelic_account_id"
	QueryKey  = "newrelic_query_key"
)

// Provider queries one New Relic account.
type Provider struct {
	endpoint *url.URL
	client   *httpapi.Client
	interval time.Duration
}

var _ metrics.Provider = (*Provider)(nil)

// Register adds the "newrelic" constructor to r.
func Register(r *metrics.Registry) {
	r.Register(Type, func(cfg metrics.Config) (metrics.Provider, error) { return New(cfg) })
}

// New builds a provider; both secret keys are required, as in Flagger.
func New(cfg metrics.Config) (*Provider, error) {
	addr := cfg.Address
	if addr == "" {
		addr = DefaultAddress
	}
	base, err := httpapi.ParseAddress(Type, addr)
	if err != nil {
		return nil, err
	}
	account, ok := cfg.Credentials[AccountID]
	if !ok {
		return nil, fmt.Errorf("newrelic credentials does not contain %s", AccountID)
	}
	key, ok := cfg.Credentials[QueryKey]
	if !ok {
		return nil, fmt.Errorf("newrelic credentials does not contain %s", QueryKey)
	}
	h := httpapi.Header(cfg.Headers)
	h.Set("X-Query-Key", key)
	interval := httpapi.Interval(cfg.Interval)
	return &Provider{
		endpoint: httpapi.Join(base, "/v1/accounts/"+url.PathEscape(account)+"/query"),
		client: httpapi.New(httpapi.Options{Timeout: cfg.Timeout, Insecure: cfg.InsecureSkipVerify,
			Header: h, Secrets: []string{key}, OnlyOK: true}),
		interval: interval,
	}, nil
}

// NRQL returns the NRQL sent for query at `at`: Flagger's
// "<query> SINCE <interval seconds> seconds ago" when at is zero (now), and
// an absolute "SINCE <ms> UNTIL <ms>" window ending at `at` otherwise (a
// replay of a past time).
func (p *Provider) NRQL(query string, at time.Time) string {
	if at.IsZero() {
		return fmt.Sprintf("%s SINCE %d seconds ago", query, int64(p.interval.Seconds()))
	}
	return fmt.Sprintf("%s SINCE %d UNTIL %d", query, at.Add(-p.interval).UnixMilli(), at.UnixMilli())
}

// Request returns the URL a query at `at` is sent to (no credentials in it).
func (p *Provider) Request(query string, at time.Time) *url.URL {
	u := *p.endpoint
	v := url.Values{}
	v.Set("nrql", p.NRQL(query, at))
	u.RawQuery = v.Encode()
	return &u
}

type answer struct {
	Results []struct {
		Result *float64 `json:"result"`
	} `json:"results"`
}

// Query runs the NRQL query. Exactly one result with a numeric "result" is a
// value; no result or a null one is metrics.ErrNoValues; several results are
// metrics.ErrMultipleValues (Flagger reports them as no values).
func (p *Provider) Query(ctx context.Context, query string, at time.Time) (float64, error) {
	body, err := p.client.Get(ctx, p.Request(query, at))
	if err != nil {
		return 0, fmt.Errorf("newrelic query %q: %w", query, err)
	}
	var a answer
	if err := json.Unmarshal(body, &a); err != nil {
		return 0, fmt.Errorf("newrelic query %q: error unmarshaling result: %w, '%s'", query, err, p.client.Snippet(body))
	}
	switch {
	case len(a.Results) > 1:
		return 0, fmt.Errorf("newrelic query %q: %d results: %w", query, len(a.Results), metrics.ErrMultipleValues)
	case len(a.Results) == 0 || a.Results[0].Result == nil:
		return 0, fmt.Errorf("newrelic query %q: %w", query, metrics.ErrNoValues)
	}
	return *a.Results[0].Result, nil
}

// IsOnline runs "SELECT * FROM Metric", as Flagger does.
func (p *Provider) IsOnline(ctx context.Context) error {
	if _, err := p.client.Get(ctx, p.Request("SELECT * FROM Metric", time.Time{})); err != nil {
		return fmt.Errorf("newrelic: %w", err)
	}
	return nil
}

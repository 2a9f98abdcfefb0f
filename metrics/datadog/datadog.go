// Package datadog is the Datadog metrics provider of Flagger's MetricTemplate
// type "datadog": a timeseries query (GET /api/v1/query) over the ten metric
// intervals before the evaluation time, reduced to the first point of the one
// returned series, as Flagger v1.44.0 reads it.
//
// It speaks Datadog's documented HTTP API with net/http (package httpapi);
// it must not import a Datadog SDK, the engine or the analysis core.
package datadog

import (
	"context"
	"encoding/json"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/augurproj/augur/metrics"
	"github.com/augurproj/augur/metrics/httpapi"
)

// Type is the MetricTemplate provider type.
const Type = "datadog"

// DefaultAddress is used when the template gives no address.
const DefaultAddress = "https://api.datadoghq.com"

// Secret keys, header names and the window multiplier are Flagger's.
const (
	APIKey         = "datadog_api_key"
	ApplicationKey = "datadog_application_key"
	windowFactor   = 10
)

// Provider queries one Datadog site.
type Provider struct {
	query, validate *url.URL
	client          *httpapi.Client
	window          time.Duration
}

var _ metrics.Provider = (*Provider)(nil)

// Register adds the "datadog" constructor to r.
func Register(r *metrics.Registry) {
	r.Register(Type, func(cfg metrics.Config) (metrics.Provider, error) { return New(cfg) })
}

// New builds a provider. Both keys of the secret are required, as in Flagger.
func New(cfg metrics.Config) (*Provider, error) {
	addr := cfg.Address
	if addr == "" {
		addr = DefaultAddress
	}
	base, err := httpapi.ParseAddress(Type, addr)
	if err != nil {
		return nil, err
	}
	api, ok := cfg.Credentials[APIKey]
	if !ok {
		return nil, fmt.Errorf("datadog credentials does not contain %s", APIKey)
	}
	app, ok := cfg.Credentials[ApplicationKey]
	if !ok {
		return nil, fmt.Errorf("datadog credentials does not contain %s", ApplicationKey)
	}
	h := httpapi.Header(cfg.Headers)
	h.Set("DD-API-KEY", api)
	h.Set("DD-APPLICATION-KEY", app)
	interval := httpapi.Interval(cfg.Interval)
	return &Provider{
		query:    httpapi.Join(base, "/api/v1/query"),
		validate: httpapi.Join(base, "/api/v1/validate"),
		client: httpapi.New(httpapi.Options{Timeout: cfg.Timeout, Insecure: cfg.InsecureSkipVerify,
			Header: h, Secrets: []string{api, app}, OnlyOK: true}),
		window: time.Duration(windowFactor * int64(interval.Seconds()) * int64(time.Second)),
	}, nil
}

// Request returns the URL a query at `at` is sent to (no credentials in it).
func (p *Provider) Request(query string, at time.Time) *url.URL {
	to := httpapi.Now(at).Unix()
	u := *p.query
	v := url.Values{}
	v.Set("query", query)
	v.Set("from", strconv.FormatInt(to-int64(p.window/time.Second), 10))
	v.Set("to", strconv.FormatInt(to, 10))
	u.RawQuery = v.Encode()
	return &u
}

type answer struct {
	Series []struct {
		Pointlist [][]*float64 `json:"pointlist"`
	} `json:"series"`
}

// Query runs the query over [at-10×interval, at] and returns the first
// (oldest) point of the series: Datadog's newest bucket is usually partial.
// No series or no point is metrics.ErrNoValues, as is a null value; several
// series are metrics.ErrMultipleValues (Flagger takes the first one).
func (p *Provider) Query(ctx context.Context, query string, at time.Time) (float64, error) {
	body, err := p.client.Get(ctx, p.Request(query, at))
	if err != nil {
		return 0, fmt.Errorf("datadog query %q: %w", query, err)
	}
	var a answer
	if err := json.Unmarshal(body, &a); err != nil {
		return 0, fmt.Errorf("datadog query %q: error unmarshaling result: %w, '%s'", query, err, p.client.Snippet(body))
	}
	switch {
	case len(a.Series) == 0:
		return 0, fmt.Errorf("datadog query %q: %w", query, metrics.ErrNoValues)
	case len(a.Series) > 1:
		return 0, fmt.Errorf("datadog query %q: %d series: %w", query, len(a.Series), metrics.ErrMultipleValues)
	}
	pl := a.Series[0].Pointlist
	if len(pl) == 0 || len(pl[0]) < 2 || pl[0][1] == nil {
		return 0, fmt.Errorf("datadog query %q: %w", query, metrics.ErrNoValues)
	}
	return *pl[0][1], nil
}

// IsOnline validates the API key (GET /api/v1/validate), as Flagger does.
func (p *Provider) IsOnline(ctx context.Context) error {
	if _, err := p.client.Get(ctx, p.validate); err != nil {
		return fmt.Errorf("datadog: %w", err)
	}
	return nil
}

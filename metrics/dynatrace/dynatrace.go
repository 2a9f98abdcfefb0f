// Package dynatrace is the Dynatrace metrics provider of Flagger's
// MetricTemplate type "dynatrace": a metric selector on the Metrics API v2
// (GET /api/v2/metrics/query, resolution Inf) over the ten metric intervals
// before the evaluation time, reduced as Flagger v1.44.0 reads it.
//
// It speaks Dynatrace's documented HTTP API with net/http (package httpapi);
// it must not import a Dynatrace SDK, the engine or the analysis core.
package dynatrace

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/augurproj/augur/metrics"
	"github.com/augurproj/augur/metrics/httpapi"
)

// Type is the MetricTemplate provider type.
const Type = "dynatrace"

// Token is the secret key of the API token (Flagger's).
const Token = "dynatrace_token"

const windowFactor = 10

// Provider queries one Dynatrace environment.
type Provider struct {
	query, validate *url.URL
	client          *httpapi.Client
	window          time.Duration
}

var _ metrics.Provider = (*Provider)(nil)

// Register adds the "dynatrace" constructor to r.
func Register(r *metrics.Registry) {
	r.Register(Type, func(cfg metrics.Config) (metrics.Provider, error) { return New(cfg) })
}

// New builds a provider. The address is required (there is no default
// environment) and so is the token, as in Flagger.
func New(cfg metrics.Config) (*Provider, error) {
	if cfg.Address == "" {
		return nil, errors.New("dynatrace endpoint is not set")
	}
	base, err := httpapi.ParseAddress(Type, cfg.Address)
	if err != nil {
		return nil, err
	}
	token, ok := cfg.Credentials[Token]
	if !ok {
		return nil, fmt.Errorf("dynatrace credentials does not contain %s", Token)
	}
	h := httpapi.Header(cfg.Headers)
	h.Set("Authorization", "Api-Token "+token)
	interval := httpapi.Interval(cfg.Interval)
	validate := httpapi.Join(base, "/api/v2/metrics")
	validate.RawQuery = "pageSize=1"
	return &Provider{
		query:    httpapi.Join(base, "/api/v2/metrics/query"),
		validate: validate,
		client: httpapi.New(httpapi.Options{Timeout: cfg.Timeout, Insecure: cfg.InsecureSkipVerify,
			Header: h, Secrets: []string{token}, OnlyOK: true}),
		window: windowFactor * interval,
	}, nil
}

// Request returns the URL a query at `at` is sent to (no credentials in it):
// from and to in milliseconds, `to` on a whole second as Flagger sends it.
func (p *Provider) Request(query string, at time.Time) *url.URL {
	to := httpapi.Now(at).Unix() * 1000
	u := *p.query
	v := url.Values{}
	v.Set("metricSelector", query)
	v.Set("resolution", "Inf")
	v.Set("from", strconv.FormatInt(to-p.window.Milliseconds(), 10))
	v.Set("to", strconv.FormatInt(to, 10))
	u.RawQuery = v.Encode()
	return &u
}

type answer struct {
	Result []struct {
		Data []struct {
			Values []*float64 `json:"values"`
		} `json:"data"`
	} `json:"result"`
}

// Query runs the metric selector. The first value of the one series is the
// result (resolution Inf gives one value per series); no series or a null
// value is metrics.ErrNoValues; several series (a split) or several
// selectors are metrics.ErrMultipleValues (Flagger takes the last series of
// the first selector).
func (p *Provider) Query(ctx context.Context, query string, at time.Time) (float64, error) {
	body, err := p.client.Get(ctx, p.Request(query, at))
	if err != nil {
		return 0, fmt.Errorf("dynatrace query %q: %w", query, err)
	}
	var a answer
	if err := json.Unmarshal(body, &a); err != nil {
		return 0, fmt.Errorf("dynatrace query %q: error unmarshaling result: %w, '%s'", query, err, p.client.Snippet(body))
	}
	switch {
	case len(a.Result) == 0 || len(a.Result[0].Data) == 0:
		return 0, fmt.Errorf("dynatrace query %q: %w", query, metrics.ErrNoValues)
	case len(a.Result) > 1 || len(a.Result[0].Data) > 1:
		return 0, fmt.Errorf("dynatrace query %q: several series: %w", query, metrics.ErrMultipleValues)
	}
	vs := a.Result[0].Data[0].Values
	if len(vs) == 0 || vs[0] == nil {
		return 0, fmt.Errorf("dynatrace query %q: %w", query, metrics.ErrNoValues)
	}
	return *vs[0], nil
}

// IsOnline lists one metric (GET /api/v2/metrics?pageSize=1), as Flagger does.
func (p *Provider) IsOnline(ctx context.Context) error {
	if _, err := p.client.Get(ctx, p.validate); err != nil {
		return fmt.Errorf("dynatrace: %w", err)
	}
	return nil
}

// Package graphite is the Graphite metrics provider of Flagger's
// MetricTemplate type "graphite": the template's query is a render URL API
// query string (`target=…&from=-1min`) sent to GET <address>/render with
// format=json, reduced to the newest non-null datapoint, as Flagger v1.44.0
// reads it.
//
// It speaks graphite-web's documented HTTP API with net/http (package
// httpapi); it must not import the engine or the analysis core.
package graphite

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/augurproj/augur/metrics"
	"github.com/augurproj/augur/metrics/httpapi"
)

// Type is the MetricTemplate provider type.
const Type = "graphite"

// Provider queries one graphite-web server.
type Provider struct {
	render *url.URL
	client *httpapi.Client
}

var _ metrics.Provider = (*Provider)(nil)

// Register adds the "graphite" constructor to r.
func Register(r *metrics.Registry) {
	r.Register(Type, func(cfg metrics.Config) (metrics.Provider, error) { return New(cfg) })
}

// New builds a provider. With a secretRef, both username and password are
// required and sent as basic auth, as in Flagger.
func New(cfg metrics.Config) (*Provider, error) {
	if cfg.Address == "" {
		return nil, errors.New("graphite address is not a valid URL")
	}
	base, err := httpapi.ParseAddress(Type, cfg.Address)
	if err != nil {
		return nil, err
	}
	h := httpapi.Header(cfg.Headers)
	var secrets []string
	if cfg.HasSecret {
		user, ok := cfg.Credentials["username"]
		if !ok {
			return nil, errors.New("graphite credentials does not contain a username")
		}
		pass, ok := cfg.Credentials["password"]
		if !ok {
			return nil, errors.New("graphite credentials does not contain a password")
		}
		if user != "" && pass != "" {
			r := &http.Request{Header: http.Header{}}
			r.SetBasicAuth(user, pass)
			h.Set("Authorization", r.Header.Get("Authorization"))
		}
		secrets = []string{pass}
	}
	return &Provider{
		render: httpapi.Join(base, "/render"),
		client: httpapi.New(httpapi.Options{Timeout: cfg.Timeout, Insecure: cfg.InsecureSkipVerify,
			Header: h, Secrets: secrets}),
	}, nil
}

// Request returns the URL a query at `at` is sent to: the query string with
// its whitespace collapsed, format=json, and — when at is set and the query
// gives no `now` — graphite-web's `now=<unix seconds>`, so that relative
// `from`/`until` count back from `at`.
func (p *Provider) Request(query string, at time.Time) (*url.URL, error) {
	q := strings.Join(strings.Fields(query), " ")
	v, err := url.ParseQuery(q)
	if err != nil {
		return nil, fmt.Errorf("graphite query %q is not a URL query string: %w", q, err)
	}
	if len(v["target"]) == 0 {
		return nil, fmt.Errorf("graphite query %q has no target= parameter", q)
	}
	v.Set("format", "json")
	if !at.IsZero() && v.Get("now") == "" {
		v.Set("now", strconv.FormatInt(at.Unix(), 10))
	}
	u := *p.render
	u.RawQuery = v.Encode()
	return &u, nil
}

type point struct {
	v *float64
}

func (d *point) UnmarshalJSON(b []byte) error {
	var raw []json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	if len(raw) != 2 {
		return fmt.Errorf("datapoint %s: want [value, timestamp]", b)
	}
	var x any
	if err := json.Unmarshal(raw[0], &x); err != nil {
		return err
	}
	switch t := x.(type) {
	case nil:
	case float64:
		d.v = &t
	case string:
		f, err := strconv.ParseFloat(t, 64)
		if err != nil {
			return fmt.Errorf("datapoint value %q: %w", t, err)
		}
		d.v = &f
	default:
		return fmt.Errorf("datapoint value %s is not a number", raw[0])
	}
	return nil
}

type answer []struct {
	Target     string  `json:"target"`
	Datapoints []point `json:"datapoints"`
}

// Query runs the render query. The newest non-null datapoint is the value;
// no non-null datapoint is metrics.ErrNoValues; non-null datapoints in
// several targets are metrics.ErrMultipleValues (Flagger takes the last
// target's).
func (p *Provider) Query(ctx context.Context, query string, at time.Time) (float64, error) {
	u, err := p.Request(query, at)
	if err != nil {
		return 0, err
	}
	body, err := p.client.Get(ctx, u)
	if err != nil {
		return 0, fmt.Errorf("graphite query %q: %w", query, err)
	}
	var a answer
	if err := json.Unmarshal(body, &a); err != nil {
		return 0, fmt.Errorf("graphite query %q: error unmarshaling result: %w, '%s'", query, err, p.client.Snippet(body))
	}
	var value *float64
	targets := 0
	for _, t := range a {
		var last *float64
		for _, d := range t.Datapoints {
			if d.v != nil {
				last = d.v
			}
		}
		if last != nil {
			targets++
			value = last
		}
	}
	switch {
	case targets == 0:
		return 0, fmt.Errorf("graphite query %q: %w", query, metrics.ErrNoValues)
	case targets > 1:
		return 0, fmt.Errorf("graphite query %q: %d targets with values: %w", query, targets, metrics.ErrMultipleValues)
	}
	return *value, nil
}

// IsOnline runs `target=test`; no values counts as online, as in Flagger.
func (p *Provider) IsOnline(ctx context.Context) error {
	_, err := p.Query(ctx, "target=test", time.Time{})
	if err != nil && !errors.Is(err, metrics.ErrNoValues) {
		return fmt.Errorf("running query failed: %w", err)
	}
	return nil
}

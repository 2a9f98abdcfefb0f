// Package influxdb is the InfluxDB v2 metrics provider of Flagger's
// MetricTemplate type "influxdb": the template's query is a Flux script sent
// to POST /api/v2/query?org=<org> (Authorization: Token <token>), and the
// answer, annotated CSV, is reduced to the first record's _value as Flagger
// v1.44.0 reads it, except that an answer with no rows is "no values"
// (Flagger: 0) and an error inside the answer is an error (Flagger: 0).
//
// It speaks InfluxDB's documented HTTP API with net/http (package httpapi);
// it must not import an InfluxDB client, the engine or the analysis core.
package influxdb

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/url"
	"time"

	"github.com/augurproj/augur/metrics"
	"github.com/augurproj/augur/metrics/httpapi"
)

// Type is the MetricTemplate provider type.
const Type = "influxdb"

// Secret keys are Flagger's.
const (
	TokenKey = "token"
	OrgKey   = "org"
)

// DefaultTimeout is Flagger's timeout of one InfluxDB query.
const DefaultTimeout = 15 * time.Second

// Provider queries one InfluxDB v2 server.
type Provider struct {
	endpoint *url.URL
	client   *httpapi.Client
}

var _ metrics.Provider = (*Provider)(nil)

// Register adds the "influxdb" constructor to r.
func Register(r *metrics.Registry) {
	r.Register(Type, func(cfg metrics.Config) (metrics.Provider, error) { return New(cfg) })
}

// New builds a provider. The address is required; with a secretRef both the
// token and the org keys are required, as in Flagger. Without one the
// request carries no Authorization header and an empty org.
func New(cfg metrics.Config) (*Provider, error) {
	if cfg.Address == "" {
		return nil, errors.New("influxdb address is not a valid URL")
	}
	base, err := httpapi.ParseAddress(Type, cfg.Address)
	if err != nil {
		return nil, err
	}
	var token, org string
	if cfg.HasSecret {
		var ok bool
		if token, ok = cfg.Credentials[TokenKey]; !ok {
			return nil, errors.New("influxdb credentials does not contain an authentication token")
		}
		if org, ok = cfg.Credentials[OrgKey]; !ok {
			return nil, errors.New("influxdb credentials does not contain an organisation")
		}
	}
	h := httpapi.Header(cfg.Headers)
	if token != "" {
		h.Set("Authorization", "Token "+token)
	}
	timeout := cfg.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	endpoint := httpapi.Join(base, "/api/v2/query")
	endpoint.RawQuery = url.Values{"org": {org}}.Encode()
	return &Provider{
		endpoint: endpoint,
		client: httpapi.New(httpapi.Options{Timeout: timeout, Insecure: cfg.InsecureSkipVerify,
			Header: h, Secrets: []string{token}}),
	}, nil
}

// URL returns the endpoint queries are posted to (no credentials in it).
func (p *Provider) URL() *url.URL {
	u := *p.endpoint
	return &u
}

// dialect asks for the annotations the answer is read with.
type dialect struct {
	Annotations []string `json:"annotations"`
	Delimiter   string   `json:"delimiter"`
	Header      bool     `json:"header"`
}

// Body returns the JSON request body for a Flux script: for a zero at, the
// same document InfluxDB's Go client (and so Flagger) sends; otherwise it
// also sets the API's "now" field, so that relative ranges such as
// range(start: -5m) count back from at (a replay of a past time).
func Body(flux string, at time.Time) ([]byte, error) {
	var now string
	if !at.IsZero() {
		now = at.UTC().Format(time.RFC3339Nano)
	}
	b, err := json.Marshal(struct {
		Dialect dialect `json:"dialect"`
		Query   string  `json:"query"`
		Type    string  `json:"type"`
		Now     string  `json:"now,omitempty"`
	}{dialect{Annotations: []string{"datatype", "group", "default"}, Delimiter: ",", Header: true}, flux, "flux", now})
	if err != nil {
		return nil, fmt.Errorf("influxdb request body: %w", err)
	}
	return b, nil
}

// Query posts the Flux script and returns the first record's _value, which
// must be a double. The script sets its own time range; a non-zero at is
// sent as the API's "now" (Flagger sends none: the server's now). No record, an empty or NaN value is metrics.ErrNoValues;
// records in several tables (series) are metrics.ErrMultipleValues.
func (p *Provider) Query(ctx context.Context, query string, at time.Time) (float64, error) {
	body, err := Body(query, at)
	if err != nil {
		return 0, err
	}
	answer, err := p.client.Post(ctx, p.endpoint, "application/json", body)
	if err != nil {
		return 0, fmt.Errorf("influxdb query: %w", err)
	}
	rec, err := FirstValue(answer)
	if err != nil {
		return 0, fmt.Errorf("influxdb query: %w", err)
	}
	if err := checkNow(rec, at); err != nil {
		return 0, err
	}
	switch {
	case rec.Tables > 1:
		return 0, fmt.Errorf("influxdb query: records in %d tables: %w", rec.Tables, metrics.ErrMultipleValues)
	case rec.Rows == 0:
		return 0, fmt.Errorf("influxdb query: no rows: %w", metrics.ErrNoValues)
	case rec.Value == "":
		return 0, fmt.Errorf("influxdb query: the first record has no _value: %w", metrics.ErrNoValues)
	case rec.Type != "double":
		return 0, fmt.Errorf("influxdb query: the first record's _value %q is a %s, want a double (use float())", p.client.Snippet([]byte(rec.Value)), rec.Type)
	}
	v, err := parseDouble(rec.Value)
	if err != nil {
		return 0, fmt.Errorf("influxdb query: the first record's _value: %w", err)
	}
	if math.IsNaN(v) {
		return 0, fmt.Errorf("influxdb query: the first record's _value is NaN: %w", metrics.ErrNoValues)
	}
	return v, nil
}

// nowSlack is how far after the evaluation time a range's end may be (the
// server's clock and rounding), before the answer counts as "now ignored".
const nowSlack = time.Second

// checkNow refuses an answer whose range ends after the evaluation time that
// was sent as "now": the server ignored it (InfluxDB 1.8's /api/v2/query
// does) and answered for its own now, which a replay of the past must not
// take as the past's value.
func checkNow(rec First, at time.Time) error {
	if at.IsZero() || rec.Stop == "" {
		return nil
	}
	stop, err := time.Parse(time.RFC3339Nano, rec.Stop)
	if err != nil || !stop.After(at.Add(nowSlack)) {
		return nil
	}
	return fmt.Errorf("influxdb query at %s: the answer's range ends at %s: the server ignored the evaluation time sent as the query API's \"now\" (InfluxDB 1.x does; 2.x honours it), so its values are not those of %s",
		at.UTC().Format(time.RFC3339), stop.UTC().Format(time.RFC3339), at.UTC().Format(time.RFC3339))
}

// IsOnline runs Flagger's probe query.
func (p *Provider) IsOnline(ctx context.Context) error {
	body, err := Body(`from(bucket: "default") |> range(start: -2h)`, time.Time{})
	if err != nil {
		return err
	}
	if _, err := p.client.Post(ctx, p.endpoint, "application/json", body); err != nil {
		return fmt.Errorf("influxdb: %w", err)
	}
	return nil
}

// Package stackdriver is the Google Cloud Monitoring metrics provider of
// Flagger's MetricTemplate type "stackdriver": the query is an MQL query,
// run with projects.timeSeries.query on the Secret's project, and read as
// the first value of the first point of the one returned time series, as
// Flagger v1.44.0 reads it. Flagger calls the gRPC QueryService with
// Google's client; augur calls the same method through its documented REST
// binding (POST /v3/projects/<project>/timeSeries:query, JSON), which
// Google maps to the same request and answer messages.
//
// Credentials are the Secret's serviceAccountKey (any Google credentials
// JSON) or, without it, Application Default Credentials, through
// golang.org/x/oauth2/google. It uses package httpapi for the request; it
// must not import a Google Cloud client library, the engine or the
// analysis core.
package stackdriver

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"golang.org/x/oauth2"
	"golang.org/x/oauth2/google"

	"github.com/augurproj/augur/metrics"
	"github.com/augurproj/augur/metrics/httpapi"
	"github.com/augurproj/augur/redact"
)

// Type is the MetricTemplate provider type.
const Type = "stackdriver"

// DefaultAddress is Cloud Monitoring's API.
const DefaultAddress = "https://monitoring.googleapis.com"

// Secret keys are Flagger's.
const (
	ProjectKey           = "project"
	ServiceAccountKeyKey = "serviceAccountKey"
)

// scopes are the Google client's default scopes for the query client.
var scopes = []string{
	"https://www.googleapis.com/auth/cloud-platform",
	"https://www.googleapis.com/auth/monitoring",
	"https://www.googleapis.com/auth/monitoring.read",
}

// Provider queries Cloud Monitoring for one project.
type Provider struct {
	project string // "projects/<id>"
	base    *url.URL
	client  *httpapi.Client

	tmu    sync.Mutex
	tokens oauth2.TokenSource // nil until Application Default Credentials are found (first query)

	creds redact.Set // credential values used so far: never in an error text
}

var _ metrics.Provider = (*Provider)(nil)

// Register adds the "stackdriver" constructor to r.
func Register(r *metrics.Registry) {
	r.Register(Type, func(cfg metrics.Config) (metrics.Provider, error) { return New(cfg) })
}

// New builds a provider. The Secret's project is required (Flagger sends
// an empty name without a secretRef, which Cloud Monitoring refuses);
// serviceAccountKey is optional.
func New(cfg metrics.Config) (*Provider, error) {
	project, ok := cfg.Credentials[ProjectKey]
	if !ok {
		if !cfg.HasSecret {
			return nil, fmt.Errorf("%s needs a secretRef with a project id (key %s)", Type, ProjectKey)
		}
		return nil, fmt.Errorf("%s credentials does not contain a project id", Type)
	}
	addr := cfg.Address
	if addr == "" {
		addr = DefaultAddress
	}
	base, err := httpapi.ParseAddress(Type, addr)
	if err != nil {
		return nil, err
	}
	p := &Provider{project: "projects/" + project, base: base}
	if key := cfg.Credentials[ServiceAccountKeyKey]; key != "" {
		creds, err := credentials(context.Background(), key)
		if err != nil {
			return nil, err
		}
		p.tokens = oauth2.ReuseTokenSource(nil, creds.TokenSource)
	}
	p.client = httpapi.New(httpapi.Options{Timeout: cfg.Timeout, Insecure: cfg.InsecureSkipVerify,
		Header: httpapi.Header(cfg.Headers), Sign: p.sign})
	return p, nil
}

// credentials reads a credentials JSON of any of Google's types, or finds
// Application Default Credentials when key is empty (which may probe the
// metadata server: done at the first query, never by New, so that render
// stays offline).
func credentials(ctx context.Context, key string) (*google.Credentials, error) {
	// The token source keeps this context for its token requests: it must
	// not be cancelled when the caller's is.
	ctx = context.WithoutCancel(ctx)
	if key == "" {
		c, err := google.FindDefaultCredentials(ctx, scopes...)
		if err != nil {
			return nil, fmt.Errorf("no %s in the Secret and no Application Default Credentials: %w", ServiceAccountKeyKey, err)
		}
		return c, nil
	}
	var head struct {
		Type string `json:"type"`
	}
	if err := json.Unmarshal([]byte(key), &head); err != nil {
		return nil, fmt.Errorf("%s is not JSON: %w", ServiceAccountKeyKey, errors.New(strings.ReplaceAll(err.Error(), key, "<redacted>")))
	}
	c, err := google.CredentialsFromJSONWithType(ctx, []byte(key), google.CredentialsType(head.Type), scopes...)
	if err != nil {
		return nil, fmt.Errorf("%s (type %q): %w", ServiceAccountKeyKey, head.Type, err)
	}
	return c, nil
}

// sign adds the OAuth2 bearer token; fetching it is bounded by ctx.
func (p *Provider) sign(ctx context.Context, req *http.Request, _ []byte) error {
	type result struct {
		t   *oauth2.Token
		err error
	}
	ch := make(chan result, 1)
	go func() {
		ts, err := p.tokenSource(ctx)
		if err != nil {
			ch <- result{nil, err}
			return
		}
		t, err := ts.Token()
		ch <- result{t, err}
	}()
	select {
	case <-ctx.Done():
		return fmt.Errorf("fetching a Google access token: %w", ctx.Err())
	case r := <-ch:
		if r.err != nil {
			return fmt.Errorf("fetching a Google access token: %w", r.err)
		}
		p.remember(r.t.AccessToken)
		r.t.SetAuthHeader(req)
		return nil
	}
}

// tokenSource returns the key's token source, or finds Application
// Default Credentials once.
func (p *Provider) tokenSource(ctx context.Context) (oauth2.TokenSource, error) {
	p.tmu.Lock()
	defer p.tmu.Unlock()
	if p.tokens == nil {
		creds, err := credentials(ctx, "")
		if err != nil {
			return nil, err
		}
		p.tokens = oauth2.ReuseTokenSource(nil, creds.TokenSource)
	}
	return p.tokens, nil
}

func (p *Provider) remember(v string) { p.creds.Add(v) }

// URL is the REST method's URL.
func (p *Provider) URL() *url.URL {
	return httpapi.Join(p.base, "/v3/"+p.project+"/timeSeries:query")
}

// Body is the request body for query.
func Body(query string) []byte {
	b, _ := json.Marshal(struct {
		Query string `json:"query"`
	}{query})
	return b
}

// answer is QueryTimeSeriesResponse in its JSON mapping.
type answer struct {
	TimeSeriesData []struct {
		PointData []struct {
			Values []typedValue `json:"values"`
		} `json:"pointData"`
	} `json:"timeSeriesData"`
	NextPageToken string            `json:"nextPageToken"`
	PartialErrors []json.RawMessage `json:"partialErrors"`
}

// typedValue is one TypedValue in Google's JSON mapping: int64 values are
// strings (numbers accepted), doubles numbers or "NaN", "Infinity",
// "-Infinity".
type typedValue struct {
	DoubleValue json.RawMessage `json:"doubleValue"`
	Int64Value  json.RawMessage `json:"int64Value"`
}

// number reads a JSON number or a string holding one.
func number(raw json.RawMessage, parse func(string) (float64, error)) (float64, error) {
	s := string(raw)
	if uq, err := strconv.Unquote(s); err == nil {
		s = uq
	}
	return parse(s)
}

func parseDouble(s string) (float64, error) {
	switch s {
	case "NaN":
		return math.NaN(), nil
	case "Infinity":
		return math.Inf(1), nil
	case "-Infinity":
		return math.Inf(-1), nil
	}
	return strconv.ParseFloat(s, 64)
}

func parseInt64(s string) (float64, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	return float64(n), err
}

// Query runs the MQL query and returns the first value of the first point
// of the one time series (MQL returns the newest point first). No time
// series, point or value is metrics.ErrNoValues, as is NaN; several time
// series are metrics.ErrMultipleValues (Flagger takes the first); a value
// that is not a number (a string, a distribution) is an error (Flagger: 0).
func (p *Provider) Query(ctx context.Context, query string, _ time.Time) (float64, error) {
	body, err := p.client.Post(ctx, p.URL(), "application/json", Body(query))
	if err != nil {
		return 0, p.scrub(fmt.Errorf("stackdriver query %q: error requesting stackdriver: %w", query, err))
	}
	var a answer
	if err := json.Unmarshal(body, &a); err != nil {
		return 0, p.scrub(fmt.Errorf("stackdriver query %q: error unmarshaling result: %w, '%s'", query, err, p.client.Snippet(body)))
	}
	switch {
	case len(a.TimeSeriesData) == 0:
		return 0, fmt.Errorf("stackdriver query %q: no time series: %w", query, metrics.ErrNoValues)
	case len(a.TimeSeriesData) > 1 || a.NextPageToken != "":
		return 0, fmt.Errorf("stackdriver query %q: several time series: %w", query, metrics.ErrMultipleValues)
	}
	pts := a.TimeSeriesData[0].PointData
	if len(pts) == 0 || len(pts[0].Values) == 0 {
		return 0, fmt.Errorf("stackdriver query %q: no point: %w", query, metrics.ErrNoValues)
	}
	v := pts[0].Values[0]
	var f float64
	switch {
	case v.DoubleValue != nil:
		if f, err = number(v.DoubleValue, parseDouble); err != nil {
			return 0, fmt.Errorf("stackdriver query %q: doubleValue %s: %w", query, v.DoubleValue, err)
		}
	case v.Int64Value != nil:
		if f, err = number(v.Int64Value, parseInt64); err != nil {
			return 0, fmt.Errorf("stackdriver query %q: int64Value %s: %w", query, v.Int64Value, err)
		}
	default:
		return 0, fmt.Errorf("stackdriver query %q: the first value is not a double or an int64", query)
	}
	if math.IsNaN(f) {
		return 0, fmt.Errorf("stackdriver query %q: NaN: %w", query, metrics.ErrNoValues)
	}
	return f, nil
}

// IsOnline runs an empty query, as Flagger does: INVALID_ARGUMENT (400)
// means the credentials were accepted; any other error is offline.
func (p *Provider) IsOnline(ctx context.Context) error {
	_, err := p.client.Post(ctx, p.URL(), "application/json", Body(""))
	var se *httpapi.StatusError
	if err == nil || errors.As(err, &se) && se.Code == http.StatusBadRequest {
		return nil
	}
	return p.scrub(fmt.Errorf("stackdriver: %w", err))
}

// scrub rewrites err's text without any credential value used so far,
// keeping its chain for errors.Is and errors.As.
func (p *Provider) scrub(err error) error { return p.creds.Error(err) }

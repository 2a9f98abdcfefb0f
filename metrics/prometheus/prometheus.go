package prometheus

import (
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"math"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/api"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/augurproj/augur/metrics"
	"github.com/augurproj/augur/redact"
)

// Type is the provider type this package registers (MetricTemplate
// spec.provider.type).
const Type = "prometheus"

// DefaultTimeout bounds one query when Config.Timeout is zero; it is
// Flagger's hard-coded Prometheus timeout.
const DefaultTimeout = 5 * time.Second

// queryAPI is the part of client_golang's v1.API that Provider uses; v1.API
// satisfies it, and tests may swap it.
type queryAPI interface {
	Query(ctx context.Context, query string, ts time.Time, opts ...v1.Option) (model.Value, v1.Warnings, v1.Infos, error)
	QueryRange(ctx context.Context, query string, r v1.Range, opts ...v1.Option) (model.Value, v1.Warnings, v1.Infos, error)
}

var _ queryAPI = v1.API(nil)

// Provider queries one Prometheus server. It is safe for concurrent use and
// reuses one HTTP client for all its queries.
type Provider struct {
	api     queryAPI
	timeout time.Duration
	logger  *slog.Logger
	// secrets are the configuration's credentials, scrubbed from every
	// error and log record the provider produces (a server or proxy may
	// echo request headers in an error).
	secrets *redact.Set
}

var (
	_ metrics.Provider     = (*Provider)(nil)
	_ metrics.RangeQuerier = (*Provider)(nil)
)

// Option customises a Provider built by New.
type Option func(*options)

type options struct {
	logger    *slog.Logger
	transport http.RoundTripper
}

// WithLogger makes the provider log the warnings (level Warn) and infos
// (level Info) that Prometheus returns with a result. Without a logger they
// are discarded, because metrics.Provider returns only a number and an error.
func WithLogger(l *slog.Logger) Option {
	return func(o *options) { o.logger = l }
}

// withRoundTripper replaces the HTTP transport (tests and fuzzing only).
func withRoundTripper(rt http.RoundTripper) Option {
	return func(o *options) { o.transport = rt }
}

// Register adds the "prometheus" constructor to r; opts apply to every
// provider it builds.
func Register(r *metrics.Registry, opts ...Option) {
	r.Register(Type, func(cfg metrics.Config) (metrics.Provider, error) {
		p, err := New(cfg, opts...)
		if err != nil {
			return nil, err
		}
		return p, nil
	})
}

// New validates cfg and builds a Provider. cfg.Type must be empty or
// "prometheus". The address must be an absolute http or https URL; a path
// prefix is kept. When cfg.HasSecret is set, cfg.Credentials must hold either
// "token" (sent as a bearer token) or both "username" and "password" (basic
// auth). cfg.Headers are sent with every request; a configured credential
// replaces any Authorization header among them.
func New(cfg metrics.Config, opts ...Option) (*Provider, error) {
	var o options
	for _, opt := range opts {
		opt(&o)
	}
	if cfg.Type != "" && cfg.Type != Type {
		return nil, fmt.Errorf("provider type %q is not %q", cfg.Type, Type)
	}
	u, err := parseAddress(cfg.Address)
	if err != nil {
		return nil, err
	}
	auth, err := authFunc(cfg)
	if err != nil {
		return nil, err
	}
	timeout := cfg.Timeout
	switch {
	case timeout < 0:
		return nil, fmt.Errorf("prometheus timeout %s must not be negative", timeout)
	case timeout == 0:
		timeout = DefaultTimeout
	}

	rt := o.transport
	if rt == nil {
		rt = sharedTransport(cfg.InsecureSkipVerify)
	}
	secrets := redact.New(nil)
	cfg.Redact(secrets)
	hc := &http.Client{Transport: capBody{rt}, CheckRedirect: dropCredentialsOffHost(cfg.Headers)}
	inner, err := api.NewClient(api.Config{Address: u.String(), Client: hc})
	if err != nil {
		return nil, invalidAddress(u.Redacted(), "", err)
	}
	// Copy the headers under canonical keys, so that a credential replaces an
	// "authorization" header whatever its spelling.
	header := make(http.Header, len(cfg.Headers))
	for k, vs := range cfg.Headers {
		for _, v := range vs {
			header.Add(k, v)
		}
	}
	if auth != nil {
		header.Del("Authorization")
	}
	return &Provider{
		api:     v1.NewAPI(&wireClient{inner: inner, header: header, auth: auth}),
		timeout: timeout,
		logger:  o.logger,
		secrets: secrets,
	}, nil
}

func parseAddress(address string) (*url.URL, error) {
	if address == "" {
		return nil, invalidAddress(address, "address is empty", nil)
	}
	u, err := url.Parse(address)
	if err != nil {
		// url.Error repeats the whole address, password included.
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, invalidAddress(redact.URL(address), "", err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, invalidAddress(u.Redacted(), fmt.Sprintf("scheme %q is not http or https", u.Scheme), nil)
	}
	if u.Host == "" {
		return nil, invalidAddress(u.Redacted(), "host is empty", nil)
	}
	return u, nil
}

// authFunc returns what sets the credentials on a request, or nil when no
// secret is configured. Errors name the missing key, never a value.
func authFunc(cfg metrics.Config) (func(*http.Request), error) {
	if !cfg.HasSecret {
		return nil, nil
	}
	if token, ok := cfg.Credentials["token"]; ok {
		if token == "" {
			return nil, fmt.Errorf("%w: prometheus credentials key %q is empty", ErrMissingCredential, "token")
		}
		value := "Bearer " + token
		return func(r *http.Request) { r.Header.Set("Authorization", value) }, nil
	}
	user, ok := cfg.Credentials["username"]
	if !ok {
		return nil, missingCredential("username")
	}
	pass, ok := cfg.Credentials["password"]
	if !ok {
		return nil, missingCredential("password")
	}
	return func(r *http.Request) { r.SetBasicAuth(user, pass) }, nil
}

// sharedTransport returns one process-wide transport per TLS mode, so
// providers built per template share their connection pools.
func sharedTransport(insecure bool) http.RoundTripper {
	if insecure {
		return insecureTransport()
	}
	return secureTransport()
}

var (
	secureTransport   = sync.OnceValue(func() http.RoundTripper { return newTransport(nil) })
	insecureTransport = sync.OnceValue(func() http.RoundTripper {
		//nolint:gosec // insecureSkipVerify is an explicit user setting (Flagger's provider.insecureSkipVerify).
		return newTransport(&tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12})
	})
)

// newTransport mirrors client_golang's api.DefaultRoundTripper settings.
func newTransport(tlsConfig *tls.Config) *http.Transport {
	return &http.Transport{
		Proxy: http.ProxyFromEnvironment,
		DialContext: (&net.Dialer{
			Timeout:   30 * time.Second,
			KeepAlive: 30 * time.Second,
		}).DialContext,
		TLSClientConfig:       tlsConfig,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: 1 * time.Second,
	}
}

// Query runs an instant query (GET /api/v1/query) and reduces the result to
// one number. A zero at sends no time parameter (the server's "now"), like
// Flagger. The query's whitespace runs are collapsed to single spaces first.
//
// Results: a one-series vector or a scalar gives its value (±Inf included);
// an empty vector or matrix, or NaN, is metrics.ErrNoValues; a vector with
// several series or a non-empty matrix is metrics.ErrMultipleValues; a
// string or a native histogram is an error. Server errors are *APIError.
func (p *Provider) Query(ctx context.Context, query string, at time.Time) (float64, error) {
	f, err := p.query(ctx, query, at)
	return f, p.secrets.Error(err)
}

func (p *Provider) query(ctx context.Context, query string, at time.Time) (float64, error) {
	q := collapseSpace(query)
	qctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	v, warnings, infos, err := p.api.Query(qctx, q, at)
	p.logAnnotations(ctx, q, warnings, infos)
	if err != nil {
		return 0, fmt.Errorf("prometheus query %q: %w", q, p.classify(ctx, err))
	}
	if _, ok := v.(*model.Scalar); ok {
		metrics.MarkScalar(ctx)
	}
	f, err := reduce(v)
	if err != nil {
		return 0, fmt.Errorf("prometheus query %q: %w", q, err)
	}
	return f, nil
}

// QueryRange runs a range query (GET /api/v1/query_range) over [start, end]
// at step resolution and returns every series of the resulting matrix, in
// the server's order. An empty matrix is an empty slice and no error.
func (p *Provider) QueryRange(ctx context.Context, query string, start, end time.Time, step time.Duration) ([]metrics.Series, error) {
	series, err := p.queryRange(ctx, query, start, end, step)
	return series, p.secrets.Error(err)
}

func (p *Provider) queryRange(ctx context.Context, query string, start, end time.Time, step time.Duration) ([]metrics.Series, error) {
	q := collapseSpace(query)
	switch {
	case start.IsZero() || end.IsZero():
		return nil, fmt.Errorf("prometheus range query %q: start and end are required", q)
	case end.Before(start):
		return nil, fmt.Errorf("prometheus range query %q: end %s is before start %s", q, end.Format(time.RFC3339), start.Format(time.RFC3339))
	case step <= 0:
		return nil, fmt.Errorf("prometheus range query %q: step %s must be positive", q, step)
	}
	qctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	v, warnings, infos, err := p.api.QueryRange(qctx, q, v1.Range{Start: start, End: end, Step: step})
	p.logAnnotations(ctx, q, warnings, infos)
	if err != nil {
		return nil, fmt.Errorf("prometheus range query %q: %w", q, p.classify(ctx, err))
	}
	series, err := toSeries(v)
	if err != nil {
		return nil, fmt.Errorf("prometheus range query %q: %w", q, err)
	}
	return series, nil
}

// classify says when the provider's own per-query timeout fired (the
// caller's ctx is still live) and turns v1's errors into *APIError.
func (p *Provider) classify(ctx context.Context, err error) error {
	if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
		return fmt.Errorf("timed out after %s: %w", p.timeout, err)
	}
	var ve *v1.Error
	if errors.As(err, &ve) {
		return &APIError{Type: string(ve.Type), Message: truncateBody([]byte(ve.Msg)), Body: truncateBody([]byte(ve.Detail))}
	}
	return err
}

func (p *Provider) logAnnotations(ctx context.Context, q string, warnings v1.Warnings, infos v1.Infos) {
	if p.logger == nil {
		return
	}
	if len(warnings) > 0 {
		p.logger.WarnContext(ctx, "prometheus query returned warnings", slog.String("query", q), slog.Any("warnings", p.annotations(warnings)))
	}
	if len(infos) > 0 {
		p.logger.InfoContext(ctx, "prometheus query returned infos", slog.String("query", q), slog.Any("infos", p.annotations(infos)))
	}
}

// maxAnnotations bounds how many warnings or infos of one answer are logged.
const maxAnnotations = 16

// annotations caps and scrubs a result's warnings or infos for the log.
func (p *Provider) annotations(list []string) []string {
	out := make([]string, 0, min(len(list), maxAnnotations))
	for _, a := range list[:min(len(list), maxAnnotations)] {
		out = append(out, p.secrets.String(truncateBody([]byte(a))))
	}
	return out
}

// reduce turns an instant-query result into one number.
func reduce(v model.Value) (float64, error) {
	switch r := v.(type) {
	case *model.Scalar:
		if r == nil {
			return 0, errors.New("result is a nil scalar")
		}
		return checkNaN(float64(r.Value))
	case model.Vector:
		switch len(r) {
		case 0:
			return 0, fmt.Errorf("%w: empty vector", metrics.ErrNoValues)
		case 1:
		default:
			return 0, fmt.Errorf("%w: vector with %d series, want 1", metrics.ErrMultipleValues, len(r))
		}
		s := r[0]
		if s == nil {
			return 0, errors.New("vector holds a nil sample")
		}
		if s.Histogram != nil {
			return 0, fmt.Errorf("result %s is a native histogram, not a float sample", s.Metric)
		}
		return checkNaN(float64(s.Value))
	case model.Matrix:
		if len(r) == 0 {
			return 0, fmt.Errorf("%w: empty matrix", metrics.ErrNoValues)
		}
		return 0, fmt.Errorf("%w: range vector (matrix) with %d series, want an instant vector", metrics.ErrMultipleValues, len(r))
	case *model.String:
		return 0, errors.New("result is a string, not a number")
	case nil:
		return 0, errors.New("no result in response")
	default:
		return 0, fmt.Errorf("unexpected result type %s", v.Type())
	}
}

func checkNaN(f float64) (float64, error) {
	if math.IsNaN(f) {
		return 0, fmt.Errorf("%w: value is NaN", metrics.ErrNoValues)
	}
	return f, nil
}

// toSeries converts a range-query matrix.
func toSeries(v model.Value) ([]metrics.Series, error) {
	m, ok := v.(model.Matrix)
	if !ok {
		if v == nil {
			return nil, errors.New("no result in response")
		}
		return nil, fmt.Errorf("result is a %s, want a matrix", v.Type())
	}
	out := make([]metrics.Series, 0, len(m))
	for _, ss := range m {
		if ss == nil {
			return nil, errors.New("matrix holds a nil series")
		}
		if len(ss.Histograms) > 0 {
			return nil, fmt.Errorf("series %s holds native histograms, not float samples", ss.Metric)
		}
		labels := make(map[string]string, len(ss.Metric))
		for k, val := range ss.Metric {
			labels[string(k)] = string(val)
		}
		samples := make([]metrics.Sample, len(ss.Values))
		for i, sp := range ss.Values {
			samples[i] = metrics.Sample{T: sp.Timestamp.Time().UTC(), V: float64(sp.Value)}
		}
		out = append(out, metrics.Series{Labels: labels, Samples: samples})
	}
	return out, nil
}

// collapseSpace replaces every run of the RE2 \s class ([\t\n\f\r ]) with one
// space, without trimming the ends: Flagger's trimQuery. These are ASCII
// bytes, which never occur inside a multi-byte UTF-8 sequence.
func collapseSpace(q string) string {
	if !needsCollapse(q) {
		return q
	}
	var b strings.Builder
	b.Grow(len(q))
	inSpace := false
	for i := 0; i < len(q); i++ {
		c := q[i]
		if isSpace(c) {
			if !inSpace {
				b.WriteByte(' ')
				inSpace = true
			}
			continue
		}
		inSpace = false
		b.WriteByte(c)
	}
	return b.String()
}

func needsCollapse(q string) bool {
	for i := 0; i < len(q); i++ {
		switch q[i] {
		case '\t', '\n', '\f', '\r':
			return true
		case ' ':
			if i+1 < len(q) && isSpace(q[i+1]) {
				return true
			}
		}
	}
	return false
}

func isSpace(c byte) bool {
	return c == ' ' || c == '\t' || c == '\n' || c == '\f' || c == '\r'
}

// QueryRaw returns the stored samples of the series selector matches in
// (start, end] (Prometheus 2.x includes a sample at exactly start): an
// instant query (GET /api/v1/query) of selector[end − start] at end, whose
// result is a matrix of raw samples.
func (p *Provider) QueryRaw(ctx context.Context, selector string, start, end time.Time) ([]metrics.Series, error) {
	q := metrics.RawSelector(collapseSpace(selector), end.Sub(start))
	if start.IsZero() || end.IsZero() || !end.After(start) {
		return nil, fmt.Errorf("prometheus raw query %q: want start before end", q)
	}
	qctx, cancel := context.WithTimeout(ctx, p.timeout)
	defer cancel()
	v, warnings, infos, err := p.api.Query(qctx, q, end)
	p.logAnnotations(ctx, q, warnings, infos)
	if err != nil {
		return nil, fmt.Errorf("prometheus raw query %q: %w", q, p.classify(ctx, err))
	}
	series, err := toSeries(v)
	if err != nil {
		return nil, fmt.Errorf("prometheus raw query %q: %w", q, err)
	}
	return series, nil
}

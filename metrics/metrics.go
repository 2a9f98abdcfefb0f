package metrics

import (
	"context"
	"strconv"
	"strings"
	"time"
)

// Provider runs one query at one time and returns one number.
//
// A zero at means "now" (the server's clock for a live backend, the end of
// the data for recorded data). Implementations must be safe for concurrent use.
type Provider interface {
	Query(ctx context.Context, query string, at time.Time) (float64, error)
}

// OnlineChecker is implemented by providers with Flagger's IsOnline check
// (the vendor providers, keptn, externalmetrics): serve's /readyz calls it
// instead of running the Prometheus probe query.
type OnlineChecker interface {
	IsOnline(ctx context.Context) error
}

// Sample is one point of a series.
type Sample struct {
	T time.Time
	V float64
}

// Series is a labelled series returned by a range query.
type Series struct {
	Labels  map[string]string
	Samples []Sample
}

// RangeQuerier is implemented by providers that can return whole series over
// a window (used by statistical judges and by `augur record`).
type RangeQuerier interface {
	QueryRange(ctx context.Context, query string, start, end time.Time, step time.Duration) ([]Series, error)
}

// Config describes a provider instance: a MetricTemplate's provider block
// with its credentials already resolved.
type Config struct {
	// Type is the provider type (prometheus, recorded, …).
	Type string
	// Address is the base URL (may carry a path prefix).
	Address string
	// Headers are sent with every request.
	Headers map[string][]string
	// Credentials come from the secretRef Secret's data (keys token, username, password, …).
	Credentials map[string]string
	// HasSecret reports that a secretRef was configured (credentials must then be usable).
	HasSecret bool
	// InsecureSkipVerify disables TLS verification.
	InsecureSkipVerify bool
	// Timeout bounds one query; zero means the provider's default.
	Timeout time.Duration
	// Interval is the metric's analysis interval: vendor providers query the
	// window before the evaluation time that it defines (Flagger's
	// metricInterval). Zero means Flagger's default, one minute.
	Interval time.Duration
	// Region is the provider's region (cloudwatch).
	Region string
}

// FlaggerTexter is implemented by provider errors whose text in Flagger's
// event differs from augur's fuller Error(): the engine puts FlaggerText in
// the event and Error() in the check's detail.
type FlaggerTexter interface {
	FlaggerText() string
}

// RawQuerier is implemented by providers that can return the stored samples
// of the series a vector selector matches — every scrape, not a value per
// step — over (start, end] (Prometheus 2.x may include a sample at exactly
// start). Statistical judges read exact counter increases from them.
type RawQuerier interface {
	QueryRaw(ctx context.Context, selector string, start, end time.Time) ([]Series, error)
}

// RawSelector is the instant query that returns a selector's stored samples
// over (end − d, end]: the selector with a range in milliseconds.
func RawSelector(selector string, d time.Duration) string {
	return strings.TrimSpace(selector) + "[" + strconv.FormatInt(d.Milliseconds(), 10) + "ms]"
}

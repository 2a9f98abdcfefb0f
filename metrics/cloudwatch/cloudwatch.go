// Package cloudwatch is the Amazon CloudWatch metrics provider of Flagger's
// MetricTemplate type "cloudwatch": the query is a JSON list of
// MetricDataQuery objects, sent as one GetMetricData call (AWS query
// protocol, SigV4-signed) over the ten metric intervals before the
// evaluation time, and read as the first value of the one returned result,
// as Flagger v1.44.0 reads it. Credentials come from AWS's default chain
// (environment, shared files, web identity, container and instance roles),
// as in Flagger: the template's secretRef is not read.
//
// It uses aws-sdk-go-v2's config (the credential chain) and SigV4 signer,
// and package httpapi for the request; it must not import the engine, the
// analysis core or an AWS service client.
package cloudwatch

import (
	"context"
	"crypto/sha256"
	"crypto/x509"
	"encoding/hex"
	"encoding/xml"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"os"
	"strings"
	"time"

	"github.com/aws/aws-sdk-go-v2/aws"
	v4 "github.com/aws/aws-sdk-go-v2/aws/signer/v4"
	"github.com/aws/aws-sdk-go-v2/config"

	"github.com/augurproj/augur/metrics"
	"github.com/augurproj/augur/metrics/httpapi"
	"github.com/augurproj/augur/redact"
)

// Type is the MetricTemplate provider type.
const Type = "cloudwatch"

// service is SigV4's name for CloudWatch.
const service = "monitoring"

// windowFactor is Flagger's multiplier of the metric interval.
const windowFactor = 10

// Provider queries CloudWatch in one region.
type Provider struct {
	endpoint *url.URL
	region   string
	creds    aws.CredentialsProvider
	signer   *v4.Signer
	client   *httpapi.Client
	window   time.Duration

	seen redact.Set // credential values used so far: never in an error text
}

var _ metrics.Provider = (*Provider)(nil)

// Register adds the "cloudwatch" constructor to r.
func Register(r *metrics.Registry) {
	r.Register(Type, func(cfg metrics.Config) (metrics.Provider, error) { return New(cfg) })
}

// Endpoint is CloudWatch's endpoint in region (AWS's China partition has
// its own domain).
func Endpoint(region string) string {
	domain := "amazonaws.com"
	if strings.HasPrefix(region, "cn-") {
		domain = "amazonaws.com.cn"
	}
	return "https://" + service + "." + region + "." + domain
}

// New builds a provider. The region is required, as in Flagger. The
// endpoint is the template's address if it has one (Flagger ignores the
// address), else AWS_ENDPOINT_URL_CLOUDWATCH or AWS_ENDPOINT_URL, else
// the region's public endpoint.
func New(cfg metrics.Config) (*Provider, error) {
	if cfg.Region == "" {
		return nil, errors.New("region not specified (provider.region)")
	}
	addr := cfg.Address
	for _, env := range []string{"AWS_ENDPOINT_URL_CLOUDWATCH", "AWS_ENDPOINT_URL"} {
		if addr == "" {
			addr = os.Getenv(env)
		}
	}
	if addr == "" {
		addr = Endpoint(cfg.Region)
	}
	base, err := httpapi.ParseAddress(Type, addr)
	if err != nil {
		return nil, err
	}
	roots, err := caBundle(os.Getenv("AWS_CA_BUNDLE"))
	if err != nil {
		return nil, err
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	awsCfg, err := config.LoadDefaultConfig(ctx, config.WithRegion(cfg.Region))
	if err != nil {
		return nil, fmt.Errorf("error loading the AWS configuration (credential chain): %w", err)
	}
	p := &Provider{
		endpoint: httpapi.Join(base, "/"),
		region:   cfg.Region,
		creds:    awsCfg.Credentials,
		signer:   v4.NewSigner(),
		window:   windowFactor * httpapi.Interval(cfg.Interval),
	}
	if p.creds == nil {
		return nil, errors.New("no AWS credential provider in the default chain")
	}
	p.client = httpapi.New(httpapi.Options{Timeout: cfg.Timeout, Insecure: cfg.InsecureSkipVerify,
		Header: httpapi.Header(cfg.Headers), Sign: p.sign, RootCAs: roots})
	return p, nil
}

// caBundle reads AWS_CA_BUNDLE, a PEM file whose certificates replace the
// system's roots, as the AWS SDKs read it; "" is none.
func caBundle(path string) (*x509.CertPool, error) {
	if path == "" {
		return nil, nil
	}
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("AWS_CA_BUNDLE: %w", err)
	}
	defer f.Close()
	b, err := io.ReadAll(io.LimitReader(f, httpapi.MaxBody+1))
	if err != nil {
		return nil, fmt.Errorf("AWS_CA_BUNDLE %s: %w", path, err)
	}
	p := x509.NewCertPool()
	if len(b) > httpapi.MaxBody || !p.AppendCertsFromPEM(b) {
		return nil, fmt.Errorf("AWS_CA_BUNDLE %s: no PEM certificate in the file (or larger than %d bytes)", path, httpapi.MaxBody)
	}
	return p, nil
}

// sign adds SigV4's headers to req for body.
func (p *Provider) sign(ctx context.Context, req *http.Request, body []byte) error {
	c, err := p.creds.Retrieve(ctx)
	if err != nil {
		return fmt.Errorf("retrieving AWS credentials: %w", err)
	}
	p.remember(c.AccessKeyID, c.SecretAccessKey, c.SessionToken)
	sum := sha256.Sum256(body)
	return p.signer.SignHTTP(ctx, c, req, hex.EncodeToString(sum[:]), service, p.region, time.Now())
}

func (p *Provider) remember(vs ...string) { p.seen.Add(vs...) }

// Body is the GetMetricData request a query at `at` sends (form-encoded).
func (p *Provider) Body(query string, at time.Time) ([]byte, error) {
	qs, err := parseQuery(query)
	if err != nil {
		return nil, err
	}
	end := httpapi.Now(at)
	return []byte(form(qs, end.Add(-p.window), end, true).Encode()), nil
}

type answer struct {
	XMLName xml.Name `xml:"GetMetricDataResponse"`
	Results []struct {
		ID         string    `xml:"Id"`
		StatusCode string    `xml:"StatusCode"`
		Values     []float64 `xml:"Values>member"`
	} `xml:"GetMetricDataResult>MetricDataResults>member"`
}

// Query runs GetMetricData over [at-10×interval, at] and returns the first
// value (CloudWatch's newest, by default) of the one result. No result, no
// value or NaN is metrics.ErrNoValues; several results (queries with
// ReturnData) are metrics.ErrMultipleValues (Flagger takes the first).
func (p *Provider) Query(ctx context.Context, query string, at time.Time) (float64, error) {
	body, err := p.Body(query, at)
	if err != nil {
		return 0, fmt.Errorf("cloudwatch query: %w", err)
	}
	resp, err := p.client.Post(ctx, p.endpoint, contentType, body)
	if err != nil {
		return 0, p.scrub(fmt.Errorf("cloudwatch GetMetricData: error requesting cloudwatch: %w", err))
	}
	var a answer
	if err := xml.Unmarshal(resp, &a); err != nil {
		return 0, p.scrub(fmt.Errorf("cloudwatch GetMetricData: error unmarshaling result: %w, '%s'", err, p.client.Snippet(resp)))
	}
	switch {
	case len(a.Results) == 0:
		return 0, fmt.Errorf("cloudwatch GetMetricData: no result: %w", metrics.ErrNoValues)
	case len(a.Results) > 1:
		return 0, fmt.Errorf("cloudwatch GetMetricData: %d results: %w", len(a.Results), metrics.ErrMultipleValues)
	}
	r := a.Results[0]
	if len(r.Values) == 0 || math.IsNaN(r.Values[0]) {
		return 0, fmt.Errorf("cloudwatch GetMetricData: result %q (status %s) has no value: %w", r.ID, r.StatusCode, metrics.ErrNoValues)
	}
	return r.Values[0], nil
}

// IsOnline sends GetMetricData with no query, as Flagger does: CloudWatch
// answers 400 (a validation error) when the credentials are accepted;
// any other error (403: no cloudwatch:GetMetricData permission) is offline.
func (p *Provider) IsOnline(ctx context.Context) error {
	zero := time.Time{}
	v := form([]*dataQuery{}, zero, zero, true)
	v.Del("MaxDatapoints")
	_, err := p.client.Post(ctx, p.endpoint, contentType, []byte(v.Encode()))
	var se *httpapi.StatusError
	if err == nil || errors.As(err, &se) && se.Code == http.StatusBadRequest {
		return nil
	}
	return p.scrub(fmt.Errorf("cloudwatch: %w", err))
}

// scrub rewrites err's text without any credential value used so far,
// keeping its chain for errors.Is and errors.As.
func (p *Provider) scrub(err error) error { return p.seen.Error(err) }

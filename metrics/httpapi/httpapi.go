// Package httpapi is the small HTTP client the vendor metrics providers
// (datadog, newrelic, dynatrace, graphite, influxdb, cloudwatch) share: one GET (or POST) with the query's
// timeout covering the whole answer, a capped body, credential headers that do
// not follow a redirect to another host, and errors that never carry a
// credential.
//
// It imports only the standard library and package metrics; it must not
// import the engine, the analysis core or any vendor SDK.
package httpapi

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/url"
	"strings"
	"sync"
	"time"
)

// DefaultTimeout is Flagger's per-request timeout of every HTTP provider.
const DefaultTimeout = 5 * time.Second

// MaxBody caps an answer's body; a longer answer is an error.
const MaxBody = 16 << 20

// maxErrorText caps how much of an error body goes into an error message.
const maxErrorText = 512

// ErrBodyTooLarge is returned when an answer is longer than MaxBody.
var ErrBodyTooLarge = errors.New("answer body exceeds the size limit")

// StatusError is an HTTP answer with a status of 400 or more.
type StatusError struct {
	Code   int
	Status string
	// Body is the start of the answer, whitespace-collapsed and capped.
	Body string
}

func (e *StatusError) Error() string {
	return fmt.Sprintf("error response: %s: %s", e.Status, e.Body)
}

// Client sends GET requests with fixed headers.
type Client struct {
	http    *http.Client
	header  http.Header
	timeout time.Duration
	secrets []string
	onlyOK  bool
	sign    func(context.Context, *http.Request, []byte) error
}

// Options configure a Client.
type Options struct {
	// Timeout bounds one request, its whole answer included (default DefaultTimeout).
	Timeout time.Duration
	// Insecure disables TLS verification (provider.insecureSkipVerify).
	Insecure bool
	// RootCAs, if set, replaces the system's roots (cloudwatch's
	// AWS_CA_BUNDLE); the client then has a transport of its own.
	RootCAs *x509.CertPool
	// Header is sent with every request, credentials included.
	Header http.Header
	// Secrets are values that must never appear in an error: they are
	// replaced by "<redacted>" in texts built from the server's answer.
	Secrets []string
	// OnlyOK makes every status but 200 an error (Datadog, New Relic and
	// Dynatrace); otherwise a status of 400 or more is.
	OnlyOK bool
	// Sign, if set, is called on every request (its body given) just before
	// it is sent, to add a signature (CloudWatch's SigV4). A client that
	// signs follows no redirect: the signature is for one host.
	Sign func(ctx context.Context, req *http.Request, body []byte) error
}

// New builds a client.
func New(o Options) *Client {
	timeout, insecure, header, secrets := o.Timeout, o.Insecure, o.Header, o.Secrets
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	sensitive := map[string]bool{}
	for k := range header {
		sensitive[http.CanonicalHeaderKey(k)] = true
	}
	c := &http.Client{
		Transport: transport(insecure, o.RootCAs),
		CheckRedirect: func(req *http.Request, via []*http.Request) error {
			if o.Sign != nil {
				return http.ErrUseLastResponse
			}
			if len(via) >= 10 {
				return errors.New("stopped after 10 redirects")
			}
			// Every configured header may carry a credential: keep them only
			// on the original host (Go drops Authorization itself).
			if req.URL.Host != via[0].URL.Host {
				for k := range sensitive {
					req.Header.Del(k)
				}
			}
			return nil
		},
	}
	var s []string
	for _, v := range secrets {
		if v != "" {
			s = append(s, v)
		}
	}
	return &Client{http: c, header: header.Clone(), timeout: timeout, secrets: s, onlyOK: o.OnlyOK, sign: o.Sign}
}

// Get sends GET u and returns the body of a 2xx/3xx answer. The timeout
// covers connecting, the headers and reading the whole body.
func (c *Client) Get(ctx context.Context, u *url.URL) ([]byte, error) {
	return c.do(ctx, http.MethodGet, u, "", nil)
}

// Post sends POST u with body (of type contentType) and reads the answer
// as Get does. A redirect that changes the method is followed without the
// body, as net/http does.
func (c *Client) Post(ctx context.Context, u *url.URL, contentType string, body []byte) ([]byte, error) {
	return c.do(ctx, http.MethodPost, u, contentType, body)
}

func (c *Client) do(ctx context.Context, method string, u *url.URL, contentType string, payload []byte) ([]byte, error) {
	ctx, cancel := context.WithTimeout(ctx, c.timeout)
	defer cancel()
	var rd io.Reader
	if payload != nil {
		rd = bytes.NewReader(payload)
	}
	req, err := http.NewRequestWithContext(ctx, method, u.String(), rd)
	if err != nil {
		return nil, fmt.Errorf("building request: %w", c.scrub(err))
	}
	if contentType != "" {
		req.Header.Set("Content-Type", contentType)
	}
	for k, vs := range c.header {
		req.Header[k] = append([]string(nil), vs...)
	}
	if c.sign != nil {
		if err := c.sign(ctx, req, payload); err != nil {
			return nil, fmt.Errorf("signing request: %w", c.scrub(err))
		}
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return nil, fmt.Errorf("request failed: %w", c.scrub(err))
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(io.LimitReader(resp.Body, MaxBody+1))
	if err != nil {
		return nil, fmt.Errorf("error reading body: %w", c.scrub(err))
	}
	if len(body) > MaxBody {
		return nil, fmt.Errorf("%w (%d bytes)", ErrBodyTooLarge, MaxBody)
	}
	if resp.StatusCode >= 400 || c.onlyOK && resp.StatusCode != http.StatusOK {
		return nil, &StatusError{Code: resp.StatusCode, Status: resp.Status, Body: c.Snippet(body)}
	}
	return body, nil
}

// Snippet returns the start of an answer for an error message: whitespace
// collapsed, capped, with every credential value redacted.
func (c *Client) Snippet(b []byte) string {
	s := strings.Join(strings.Fields(string(b)), " ")
	s = c.redact(s)
	if len(s) > maxErrorText {
		s = s[:maxErrorText] + "…"
	}
	return s
}

func (c *Client) redact(s string) string {
	for _, v := range c.secrets {
		s = strings.ReplaceAll(s, v, "<redacted>")
	}
	return s
}

type scrubbed struct {
	msg   string
	inner error
}

func (e *scrubbed) Error() string { return e.msg }
func (e *scrubbed) Unwrap() error { return e.inner }

// scrub keeps err's identity (errors.Is still sees context errors) but
// rewrites its text without credentials.
func (c *Client) scrub(err error) error {
	msg := c.redact(err.Error())
	if msg == err.Error() {
		return err
	}
	return &scrubbed{msg: msg, inner: errors.Unwrap(err)}
}

var (
	secureTransport   = sync.OnceValue(func() *http.Transport { return newTransport(nil) })
	insecureTransport = sync.OnceValue(func() *http.Transport {
		//nolint:gosec // insecureSkipVerify is the MetricTemplate's explicit provider.insecureSkipVerify.
		return newTransport(&tls.Config{InsecureSkipVerify: true, MinVersion: tls.VersionTLS12})
	})
)

func transport(insecure bool, roots *x509.CertPool) *http.Transport {
	if roots != nil {
		//nolint:gosec // insecureSkipVerify is the MetricTemplate's explicit provider.insecureSkipVerify.
		return newTransport(&tls.Config{RootCAs: roots, InsecureSkipVerify: insecure, MinVersion: tls.VersionTLS12})
	}
	if insecure {
		return insecureTransport()
	}
	return secureTransport()
}

func newTransport(tlsConfig *tls.Config) *http.Transport {
	return &http.Transport{
		Proxy:                 http.ProxyFromEnvironment,
		DialContext:           (&net.Dialer{Timeout: 30 * time.Second, KeepAlive: 30 * time.Second}).DialContext,
		TLSClientConfig:       tlsConfig,
		ForceAttemptHTTP2:     true,
		MaxIdleConns:          100,
		IdleConnTimeout:       90 * time.Second,
		TLSHandshakeTimeout:   10 * time.Second,
		ExpectContinueTimeout: time.Second,
	}
}

// ParseAddress parses a provider address: an absolute http or https URL
// (a path prefix is kept). Its error never prints userinfo.
func ParseAddress(typ, address string) (*url.URL, error) {
	if address == "" {
		return nil, fmt.Errorf("%s address is empty", typ)
	}
	u, err := url.Parse(address)
	if err != nil {
		return nil, fmt.Errorf("%s address %s is not a valid URL", typ, RedactAddress(address))
	}
	if u.Scheme != "http" && u.Scheme != "https" || u.Host == "" {
		return nil, fmt.Errorf("%s address %s is not a valid URL (want http(s)://host[:port][/path])", typ, u.Redacted())
	}
	return u, nil
}

// RedactAddress hides the userinfo of an address that may not parse.
func RedactAddress(address string) string {
	scheme, rest, ok := strings.Cut(address, "://")
	if !ok {
		return address
	}
	host := rest
	if i := strings.IndexAny(rest, "/?#"); i >= 0 {
		host = rest[:i]
	}
	if at := strings.LastIndex(host, "@"); at >= 0 {
		return scheme + "://<redacted>@" + rest[at+1:]
	}
	return address
}

// Join appends p to base's path (keeping base's prefix) and returns a copy.
func Join(base *url.URL, p string) *url.URL {
	u := *base
	u.Path = strings.TrimSuffix(u.Path, "/") + p
	u.RawPath = ""
	u.RawQuery = ""
	return &u
}

// Header copies a MetricTemplate's provider headers under canonical keys,
// so that a credential the provider sets replaces a header of any spelling.
func Header(from map[string][]string) http.Header {
	h := make(http.Header, len(from)+2)
	for k, vs := range from {
		h[http.CanonicalHeaderKey(k)] = append([]string(nil), vs...)
	}
	return h
}

// Interval is the metric interval a provider windows its query by: d, or
// Flagger's default of one minute when d is not positive.
func Interval(d time.Duration) time.Duration {
	if d <= 0 {
		return time.Minute
	}
	return d
}

// Now returns at, or the current time when at is zero.
func Now(at time.Time) time.Time {
	if at.IsZero() {
		return time.Now()
	}
	return at
}

package webhooks

import (
	"bytes"
	"context"
	"crypto/tls"
	"crypto/x509"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// Retry timing and size limits (go-retryablehttp's defaults for the waits).
const (
	// MinWait is the wait before the first retry.
	MinWait = 1 * time.Second
	// MaxWait caps every wait between attempts, a Retry-After one included.
	MaxWait = 30 * time.Second
	// DefaultMaxBody is how many bytes of a failure response body are kept.
	DefaultMaxBody = 4 << 10
	// drainLimit is how much of an unread body is discarded so that the
	// connection can be reused.
	drainLimit = 4 << 10
)

// Options configures a Client. The zero value is ready to use.
type Options struct {
	// HTTP sends requests to hooks that verify TLS. Nil means a client with
	// its own clone of http.DefaultTransport. Its Timeout, if set, applies on
	// top of each hook's per-attempt timeout.
	HTTP *http.Client
	// Backoff returns how long to wait after the given number of attempts
	// (1 after the first failure) before the next one. Nil means
	// DefaultBackoff. A Retry-After header on a 429 or 503 answer takes
	// precedence, as in go-retryablehttp.
	Backoff func(attempt int) time.Duration
	// MaxBody caps the bytes of a failure body kept in a StatusError.
	// Zero or negative means DefaultMaxBody.
	MaxBody int
	// Logger receives one debug record per retry. Nil means no logging.
	// Records carry the hook name, redacted URL, attempt, wait and status or
	// transport error; never metadata or response bodies.
	Logger *slog.Logger
}

// Client calls webhooks. It reuses one *http.Client for verified TLS and a
// second one, built once by New, for DisableTLS hooks. It is safe for
// concurrent use.
type Client struct {
	http     *http.Client
	insecure *http.Client
	backoff  func(attempt int) time.Duration
	maxBody  int
	log      *slog.Logger
}

// New returns a Client configured by opts.
func New(opts Options) *Client {
	c := &Client{
		http:    opts.HTTP,
		backoff: opts.Backoff,
		maxBody: opts.MaxBody,
		log:     opts.Logger,
	}
	if c.http == nil {
		c.http = &http.Client{Transport: baseTransport(nil)}
	}
	c.insecure = insecureClient(c.http)
	if c.backoff == nil {
		c.backoff = DefaultBackoff
	}
	if c.maxBody <= 0 {
		c.maxBody = DefaultMaxBody
	}
	if c.log == nil {
		c.log = slog.New(slog.DiscardHandler)
	}
	return c
}

// baseTransport clones rt when it is an *http.Transport, else
// http.DefaultTransport, else builds a proxy-aware transport.
func baseTransport(rt http.RoundTripper) *http.Transport {
	if t, ok := rt.(*http.Transport); ok {
		return t.Clone()
	}
	if t, ok := http.DefaultTransport.(*http.Transport); ok {
		return t.Clone()
	}
	return &http.Transport{Proxy: http.ProxyFromEnvironment}
}

// insecureClient copies base with a transport that skips certificate
// verification. A custom (non-*http.Transport) RoundTripper cannot be made
// insecure, so such a client gets a clone of http.DefaultTransport instead.
func insecureClient(base *http.Client) *http.Client {
	tr := baseTransport(base.Transport)
	if tr.TLSClientConfig == nil {
		tr.TLSClientConfig = &tls.Config{}
	}
	tr.TLSClientConfig.InsecureSkipVerify = true // #nosec G402 -- the hook's explicit disableTLS.
	return &http.Client{
		Transport:     tr,
		CheckRedirect: base.CheckRedirect,
		Jar:           base.Jar,
		Timeout:       base.Timeout,
	}
}

// IsSuccess is Flagger's webhook success rule: the final status (after
// redirects) is at most 202. 200, 201 and 202 pass; 203, 204 and every
// higher status fail.
func IsSuccess(status int) bool {
	return status <= http.StatusAccepted
}

// retryableStatus is go-retryablehttp's default policy for answers: 429 and
// every 5xx except 501 are retried.
func retryableStatus(status int) bool {
	return status == http.StatusTooManyRequests ||
		(status >= 500 && status != http.StatusNotImplemented)
}

// retryableError is go-retryablehttp's default policy for transport errors:
// everything is retried except too many redirects, an unsupported scheme, an
// invalid header and an untrusted certificate.
func retryableError(err error) bool {
	var re *readError
	if errors.As(err, &re) {
		return false // Flagger gives up at once on a body it cannot read
	}
	var ue *url.Error
	if errors.As(err, &ue) {
		msg := ue.Error()
		switch {
		case strings.Contains(msg, "stopped after ") && strings.HasSuffix(msg, " redirects"),
			strings.Contains(msg, "unsupported protocol scheme"),
			strings.Contains(msg, "invalid header"),
			strings.Contains(msg, "certificate is not trusted"):
			return false
		}
	}
	var cve *tls.CertificateVerificationError
	var uae x509.UnknownAuthorityError
	return !errors.As(err, &cve) && !errors.As(err, &uae)
}

// DefaultBackoff is go-retryablehttp's exponential backoff: MinWait doubled
// for each attempt already made after the first, capped at MaxWait
// (1s, 2s, 4s, 8s, 16s, 30s, 30s, …).
func DefaultBackoff(attempt int) time.Duration {
	if attempt < 1 {
		attempt = 1
	}
	if attempt-1 >= 5 { // 1s<<5 = 32s is already above MaxWait.
		return MaxWait
	}
	return min(MinWait<<(attempt-1), MaxWait)
}

// retryAfter reads a Retry-After header (delay seconds or HTTP date, relative
// to now) the way go-retryablehttp does for 429 and 503 answers. The wait is
// capped at MaxWait (a deliberate change: retryablehttp does not cap it).
func retryAfter(status int, h http.Header, now time.Time) (time.Duration, bool) {
	if status != http.StatusTooManyRequests && status != http.StatusServiceUnavailable {
		return 0, false
	}
	v := strings.TrimSpace(h.Get("Retry-After"))
	if v == "" {
		return 0, false
	}
	if secs, err := strconv.ParseInt(v, 10, 64); err == nil {
		if secs < 0 {
			return 0, false
		}
		if secs >= int64(MaxWait/time.Second) {
			return MaxWait, true
		}
		return time.Duration(secs) * time.Second, true
	}
	at, err := http.ParseTime(v)
	if err != nil {
		return 0, false
	}
	return min(max(at.Sub(now), 0), MaxWait), true
}

// capBody keeps at most limit bytes of b without splitting a UTF-8 sequence
// at the cut, and trims surrounding white space.
func capBody(b []byte, limit int) string {
	return strings.TrimSpace(capRaw(b, limit))
}

// capRaw cuts b to at most limit bytes without splitting a rune.
func capRaw(b []byte, limit int) string {
	if len(b) > limit {
		b = b[:limit]
		for i := 1; i <= utf8.UTFMax && i <= len(b); i++ {
			if utf8.RuneStart(b[len(b)-i]) {
				if !utf8.FullRune(b[len(b)-i:]) {
					b = b[:len(b)-i]
				}
				break
			}
		}
	}
	return string(b)
}

// hookURL validates the hook's URL. Its errors never echo the URL, which may
// hold a password.
func hookURL(hook Hook) (*url.URL, error) {
	u, err := url.Parse(hook.URL)
	if err != nil {
		var ue *url.Error
		if errors.As(err, &ue) {
			err = ue.Err
		}
		return nil, fmt.Errorf("webhook %q: url: %w", hook.Name, err)
	}
	if u.Scheme != "http" && u.Scheme != "https" {
		return nil, fmt.Errorf("webhook %q: url: scheme %q is not http or https", hook.Name, u.Scheme)
	}
	if u.Host == "" {
		return nil, fmt.Errorf("webhook %q: url: no host", hook.Name)
	}
	return u, nil
}

// answer is the outcome of one attempt: a status (with the capped body of a
// failure) or a transport error.
type answer struct {
	status int
	header http.Header
	body   string // raw, trimmed of surrounding white space
	raw    string // the capped body as it came
	err    error
}

// Call POSTs p as JSON to hook.URL and reports whether the hook succeeded.
//
// Each attempt is bounded by hook.Timeout. A final status <= 202 is success
// (IsSuccess); any other non-retryable status returns a *StatusError whose
// text is the capped body. Transport errors, 429 and 5xx other than 501 are
// retried up to hook.Retries times, waiting Options.Backoff in between; when
// they run out, or on a transport error that is not retried (an untrusted
// certificate, say), Call returns a *GiveUpError. Cancelling ctx aborts the
// attempt or the wait in progress. Redirects are followed.
func (c *Client) Call(ctx context.Context, hook Hook, p Payload) error {
	u, err := hookURL(hook)
	if err != nil {
		return err
	}
	body, err := json.Marshal(p)
	if err != nil {
		return fmt.Errorf("webhook %q: encoding payload: %w", hook.Name, err)
	}
	hc := c.http
	if hook.DisableTLS {
		hc = c.insecure
	}
	timeout := hook.Timeout
	if timeout <= 0 {
		timeout = DefaultTimeout
	}
	target, redacted := u.String(), u.Redacted()

	for attempt := 1; ; attempt++ {
		a := c.attempt(ctx, hc, target, body, timeout)
		if a.err == nil && !retryableStatus(a.status) {
			if IsSuccess(a.status) {
				return nil
			}
			return &StatusError{URL: redacted, Code: a.status, Body: a.body, raw: a.raw}
		}
		last := a.err
		if last == nil {
			last = &StatusError{URL: redacted, Code: a.status, Body: a.body, raw: a.raw}
		}
		giveUp := &GiveUpError{URL: redacted, Attempts: attempt, Err: last}
		if ctx.Err() != nil || attempt > hook.Retries || (a.err != nil && !retryableError(a.err)) {
			return giveUp
		}

		wait, ok := retryAfter(a.status, a.header, time.Now())
		if !ok {
			wait = c.backoff(attempt)
		}
		c.logRetry(ctx, hook, redacted, attempt, wait, a)
		timer := time.NewTimer(wait)
		select {
		case <-ctx.Done():
			timer.Stop()
			giveUp.Err = fmt.Errorf("%w while waiting to retry (last attempt: %w)", ctx.Err(), last)
			return giveUp
		case <-timer.C:
		}
	}
}

// readError is an answer whose body could not be read whole within the
// attempt's timeout: the hook fails, and is not retried (as in Flagger).
type readError struct {
	code int
	err  error
}

func (e *readError) Error() string {
	return fmt.Sprintf("error reading body of the %d answer: %v", e.code, e.err)
}
func (e *readError) Unwrap() error { return e.err }

// attempt sends one request, bounded by timeout, and reads the whole answer
// (keeping at most the capped body of a failure answer). A body that cannot
// be read whole in time fails the hook.
func (c *Client) attempt(ctx context.Context, hc *http.Client, target string, body []byte, timeout time.Duration) answer {
	actx, cancel := context.WithTimeout(ctx, timeout)
	defer cancel()
	req, err := http.NewRequestWithContext(actx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return answer{err: err}
	}
	req.Header.Set("Content-Type", "application/json")
	resp, err := hc.Do(req)
	if err != nil {
		if ctx.Err() == nil && errors.Is(actx.Err(), context.DeadlineExceeded) {
			err = fmt.Errorf("attempt timed out after %s: %w", timeout, err)
		}
		return answer{err: err}
	}
	defer func() {
		_, _ = io.CopyN(io.Discard, resp.Body, drainLimit)
		_ = resp.Body.Close()
	}()
	a := answer{status: resp.StatusCode, header: resp.Header}
	if IsSuccess(resp.StatusCode) {
		// A hook passes only when its whole answer arrived in time: Flagger
		// reads the whole body and fails the hook ("error reading body")
		// when it cannot. Reading into io.Discard keeps memory constant;
		// the attempt's timeout bounds the time.
		if _, err := io.Copy(io.Discard, resp.Body); err != nil {
			return answer{err: &readError{code: resp.StatusCode, err: err}}
		}
		return a
	}
	// One byte past the cap tells capBody that the body was cut; the rest
	// is read (and discarded) so that a body that breaks off fails the hook
	// as Flagger's io.ReadAll does.
	b, err := io.ReadAll(io.LimitReader(resp.Body, int64(c.maxBody)+1))
	if err == nil {
		_, err = io.Copy(io.Discard, resp.Body)
	}
	if err != nil {
		return answer{err: &readError{code: resp.StatusCode, err: err}}
	}
	a.raw = capRaw(b, c.maxBody)
	a.body = strings.TrimSpace(a.raw)
	return a
}

func (c *Client) logRetry(ctx context.Context, hook Hook, redacted string, attempt int, wait time.Duration, a answer) {
	attrs := []slog.Attr{
		slog.String("hook", hook.Name),
		slog.String("url", redacted),
		slog.Int("attempt", attempt),
		slog.Duration("wait", wait),
	}
	if a.err != nil {
		attrs = append(attrs, slog.String("error", a.err.Error()))
	} else {
		attrs = append(attrs, slog.Int("status", a.status))
	}
	c.log.LogAttrs(ctx, slog.LevelDebug, "webhook attempt failed, retrying", attrs...)
}

package webhooks

import (
	"crypto/tls"
	"crypto/x509"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"testing"
	"time"
)

var now = time.Date(2024, 5, 1, 12, 0, 0, 0, time.UTC)

func TestRetryAfter(t *testing.T) {
	tests := []struct {
		name   string
		status int
		value  string
		want   time.Duration
		wantOK bool
	}{
		{name: "429 seconds", status: 429, value: "3", want: 3 * time.Second, wantOK: true},
		{name: "503 seconds", status: 503, value: " 7 ", want: 7 * time.Second, wantOK: true},
		{name: "zero", status: 429, value: "0", want: 0, wantOK: true},
		{name: "capped", status: 429, value: "3600", want: MaxWait, wantOK: true},
		{name: "at the cap", status: 429, value: "30", want: MaxWait, wantOK: true},
		{name: "huge", status: 429, value: "99999999999999999", want: MaxWait, wantOK: true},
		{name: "overflowing int64 is invalid", status: 429, value: "99999999999999999999", wantOK: false},
		{name: "negative", status: 429, value: "-1", wantOK: false},
		{name: "http date", status: 503, value: now.Add(5 * time.Second).Format(http.TimeFormat), want: 5 * time.Second, wantOK: true},
		{name: "http date in the past", status: 503, value: now.Add(-time.Hour).Format(http.TimeFormat), want: 0, wantOK: true},
		{name: "http date far ahead", status: 503, value: now.Add(time.Hour).Format(http.TimeFormat), want: MaxWait, wantOK: true},
		{name: "garbage", status: 429, value: "soon", wantOK: false},
		{name: "missing", status: 429, value: "", wantOK: false},
		{name: "500 ignores it", status: 500, value: "3", wantOK: false},
		{name: "502 ignores it", status: 502, value: "3", wantOK: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			h := http.Header{}
			if tt.value != "" {
				h.Set("Retry-After", tt.value)
			}
			got, ok := retryAfter(tt.status, h, now)
			if ok != tt.wantOK || got != tt.want {
				t.Errorf("retryAfter(%d, %q) = %v, %v; want %v, %v", tt.status, tt.value, got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestRetryableStatus(t *testing.T) {
	for status := 100; status < 600; status++ {
		want := status == 429 || (status >= 500 && status != 501)
		if got := retryableStatus(status); got != want {
			t.Errorf("retryableStatus(%d) = %v, want %v", status, got, want)
		}
	}
}

func TestRetryableError(t *testing.T) {
	urlErr := func(err error) error { return &url.Error{Op: "Post", URL: "http://h", Err: err} }
	tests := []struct {
		name string
		err  error
		want bool
	}{
		{name: "connection refused", err: urlErr(errors.New("dial tcp 127.0.0.1:1: connect: connection refused")), want: true},
		{name: "EOF", err: urlErr(errors.New("EOF")), want: true},
		{name: "timeout", err: fmt.Errorf("attempt timed out after 1s: %w", urlErr(errors.New("context deadline exceeded"))), want: true},
		{name: "plain error", err: errors.New("boom"), want: true},
		{name: "too many redirects", err: urlErr(errors.New("stopped after 10 redirects")), want: false},
		{name: "unsupported scheme", err: urlErr(errors.New(`unsupported protocol scheme "ftp"`)), want: false},
		{name: "invalid header", err: urlErr(errors.New(`net/http: invalid header field value for "X"`)), want: false},
		{name: "not trusted", err: urlErr(errors.New("x509: certificate is not trusted")), want: false},
		{name: "certificate verification", err: urlErr(&tls.CertificateVerificationError{Err: errors.New("x509: bad")}), want: false},
		{name: "unknown authority", err: urlErr(x509.UnknownAuthorityError{}), want: false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := retryableError(tt.err); got != tt.want {
				t.Errorf("retryableError(%v) = %v, want %v", tt.err, got, tt.want)
			}
		})
	}
}

func TestCapBody(t *testing.T) {
	tests := []struct {
		name  string
		body  string
		limit int
		want  string
	}{
		{name: "under the cap", body: "denied", limit: 10, want: "denied"},
		{name: "at the cap", body: "0123456789", limit: 10, want: "0123456789"},
		{name: "over the cap", body: "0123456789x", limit: 10, want: "0123456789"},
		{name: "trims", body: " \t denied \r\n", limit: 100, want: "denied"},
		{name: "empty", body: "", limit: 10, want: ""},
		{name: "two-byte rune split", body: "abcé", limit: 4, want: "abc"},
		{name: "two-byte rune whole", body: "abcé", limit: 5, want: "abcé"},
		{name: "three-byte rune split after 1", body: "ab€", limit: 3, want: "ab"},
		{name: "three-byte rune split after 2", body: "ab€", limit: 4, want: "ab"},
		{name: "four-byte rune split after 3", body: "a😀b", limit: 4, want: "a"},
		{name: "four-byte rune whole", body: "a😀b", limit: 5, want: "a😀"},
		{name: "invalid bytes are kept", body: "a\xffb", limit: 2, want: "a\xff"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := capBody([]byte(tt.body), tt.limit); got != tt.want {
				t.Errorf("capBody(%q, %d) = %q, want %q", tt.body, tt.limit, got, tt.want)
			}
		})
	}
}

func TestNewDefaults(t *testing.T) {
	c := New(Options{})
	if c.http == nil || c.insecure == nil || c.http == c.insecure {
		t.Fatalf("New: want two distinct clients, got %p and %p", c.http, c.insecure)
	}
	if c.maxBody != DefaultMaxBody {
		t.Errorf("maxBody = %d, want %d", c.maxBody, DefaultMaxBody)
	}
	if got := c.backoff(3); got != 4*time.Second {
		t.Errorf("default backoff(3) = %v, want 4s", got)
	}
	tr, ok := c.insecure.Transport.(*http.Transport)
	if !ok || tr.TLSClientConfig == nil || !tr.TLSClientConfig.InsecureSkipVerify {
		t.Errorf("insecure client transport = %#v, want InsecureSkipVerify", c.insecure.Transport)
	}
	if vt := c.http.Transport.(*http.Transport); vt.TLSClientConfig != nil && vt.TLSClientConfig.InsecureSkipVerify {
		t.Error("the verifying client skips verification")
	}

	// An injected *http.Transport is cloned, not modified.
	base := &http.Transport{TLSClientConfig: &tls.Config{ServerName: "hooks"}}
	injected := &http.Client{Transport: base, Timeout: time.Minute}
	c = New(Options{HTTP: injected})
	if c.http != injected {
		t.Error("New did not use the injected client")
	}
	if base.TLSClientConfig.InsecureSkipVerify {
		t.Error("New modified the injected transport")
	}
	it := c.insecure.Transport.(*http.Transport)
	if it.TLSClientConfig.ServerName != "hooks" || c.insecure.Timeout != time.Minute {
		t.Errorf("insecure client lost the injected settings: ServerName %q, Timeout %v", it.TLSClientConfig.ServerName, c.insecure.Timeout)
	}
}

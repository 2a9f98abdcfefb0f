package webhooks_test

import (
	"bytes"
	"context"
	"crypto/tls"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"

	"github.com/augurproj/augur/webhooks"
	"github.com/augurproj/augur/webhooks/webhookstest"
)

// backoffs records the attempts Backoff was called with and waits zero.
type backoffs struct {
	mu       sync.Mutex
	attempts []int
	wait     time.Duration
	onCall   func()
}

func (b *backoffs) fn(attempt int) time.Duration {
	b.mu.Lock()
	b.attempts = append(b.attempts, attempt)
	on := b.onCall
	b.mu.Unlock()
	if on != nil {
		on()
	}
	return b.wait
}

func (b *backoffs) calls() []int {
	b.mu.Lock()
	defer b.mu.Unlock()
	return append([]int(nil), b.attempts...)
}

func newServer(t testing.TB, opts webhookstest.Options) *webhookstest.Server {
	t.Helper()
	s := webhookstest.NewServer(opts)
	t.Cleanup(s.Close)
	return s
}

func payload() webhooks.Payload {
	return webhooks.Payload{
		Name:      "podinfo",
		Namespace: "test",
		Phase:     "Progressing",
		Checksum:  "5d8f6b7c9",
		Metadata:  map[string]string{"cmd": "hey -z 1m http://podinfo-canary.test:9898/"},
	}
}

func TestIsSuccess(t *testing.T) {
	tests := []struct {
		status int
		want   bool
	}{
		{http.StatusOK, true},
		{http.StatusCreated, true},
		{http.StatusAccepted, true},
		{http.StatusNonAuthoritativeInfo, false},
		{http.StatusNoContent, false},
		{http.StatusMultipleChoices, false},
		{http.StatusForbidden, false},
		{http.StatusInternalServerError, false},
		{http.StatusNotImplemented, false},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.status), func(t *testing.T) {
			if got := webhooks.IsSuccess(tt.status); got != tt.want {
				t.Errorf("IsSuccess(%d) = %v, want %v", tt.status, got, tt.want)
			}
		})
	}
}

func TestDefaultBackoff(t *testing.T) {
	tests := []struct {
		attempt int
		want    time.Duration
	}{
		{-3, time.Second},
		{0, time.Second},
		{1, time.Second},
		{2, 2 * time.Second},
		{3, 4 * time.Second},
		{4, 8 * time.Second},
		{5, 16 * time.Second},
		{6, 30 * time.Second},
		{7, 30 * time.Second},
		{64, 30 * time.Second},
		{int(^uint(0) >> 1), 30 * time.Second},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.attempt), func(t *testing.T) {
			if got := webhooks.DefaultBackoff(tt.attempt); got != tt.want {
				t.Errorf("DefaultBackoff(%d) = %v, want %v", tt.attempt, got, tt.want)
			}
		})
	}
}

// TestCallStatus pins Flagger's success rule and the error text of a failure
// status: the (trimmed) body, or the status line when the body is empty.
func TestCallStatus(t *testing.T) {
	tests := []struct {
		name     string
		resp     webhookstest.Response
		wantErr  string // "" means success
		wantCode int
	}{
		{name: "200", resp: webhookstest.Response{Status: 200, Body: "ok"}},
		{name: "201", resp: webhookstest.Response{Status: 201}},
		{name: "202", resp: webhookstest.Response{Status: 202}},
		{name: "203 fails", resp: webhookstest.Response{Status: 203, Body: "not authoritative"}, wantErr: "not authoritative", wantCode: 203},
		{name: "204 fails", resp: webhookstest.Response{Status: 204}, wantErr: "204 No Content", wantCode: 204},
		{name: "403 body is the error", resp: webhookstest.Response{Status: 403, Body: "Forbidden\n"}, wantErr: "Forbidden", wantCode: 403},
		{name: "404 empty body", resp: webhookstest.Response{Status: 404}, wantErr: "404 Not Found", wantCode: 404},
		{name: "501 is not retried", resp: webhookstest.Response{Status: 501, Body: "  nope  "}, wantErr: "nope", wantCode: 501},
		{name: "unknown status code", resp: webhookstest.Response{Status: 499}, wantErr: "HTTP status 499", wantCode: 499},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, webhookstest.Options{})
			srv.Script("/hook", tt.resp)
			b := &backoffs{}
			c := webhooks.New(webhooks.Options{Backoff: b.fn})
			err := c.Call(t.Context(), webhooks.Hook{Name: "h", URL: srv.URL + "/hook", Retries: 2}, payload())
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Call: %v", err)
				}
			} else {
				var se *webhooks.StatusError
				if !errors.As(err, &se) {
					t.Fatalf("Call error = %v (%T), want *StatusError", err, err)
				}
				want := &webhooks.StatusError{URL: srv.URL + "/hook", Code: tt.wantCode, Body: strings.TrimSpace(tt.resp.Body)}
				if diff := cmp.Diff(want, se, cmpopts.IgnoreUnexported(webhooks.StatusError{})); diff != "" {
					t.Errorf("StatusError (-want +got):\n%s", diff)
				}
				if err.Error() != tt.wantErr {
					t.Errorf("error text = %q, want %q", err.Error(), tt.wantErr)
				}
			}
			reqs := srv.Requests()
			if len(reqs) != 1 {
				t.Fatalf("server got %d requests, want 1", len(reqs))
			}
			if reqs[0].Method != http.MethodPost {
				t.Errorf("method = %s, want POST", reqs[0].Method)
			}
			if ct := reqs[0].Header.Get("Content-Type"); ct != "application/json" {
				t.Errorf("Content-Type = %q, want application/json", ct)
			}
			if reqs[0].Payload == nil || reqs[0].Payload.Name != "podinfo" {
				t.Errorf("payload = %+v, want the canary's", reqs[0].Payload)
			}
			if got := b.calls(); len(got) != 0 {
				t.Errorf("Backoff called with %v, want no retry", got)
			}
		})
	}
}

// TestCallRetries pins go-retryablehttp's default policy: connection errors,
// 429 and 5xx except 501 are retried up to Retries more times.
func TestCallRetries(t *testing.T) {
	r := func(status int, body string) webhookstest.Response {
		return webhookstest.Response{Status: status, Body: body}
	}
	drop := webhookstest.Response{Drop: true}
	tests := []struct {
		name         string
		script       []webhookstest.Response
		retries      int
		wantAttempts int
		wantBackoffs []int
		wantCode     int  // the status kept in the error; 0 for none
		wantGiveUp   bool // the error is a *GiveUpError
	}{
		{name: "500 then 200 with 1 retry", script: []webhookstest.Response{r(500, "boom"), r(200, "")}, retries: 1, wantAttempts: 2, wantBackoffs: []int{1}},
		{name: "502 then 503 then 201", script: []webhookstest.Response{r(502, ""), r(503, ""), r(201, "")}, retries: 5, wantAttempts: 3, wantBackoffs: []int{1, 2}},
		{name: "429 is retried", script: []webhookstest.Response{r(429, "slow down"), r(202, "")}, retries: 1, wantAttempts: 2, wantBackoffs: []int{1}},
		{name: "500 without retries", script: []webhookstest.Response{r(500, "boom"), r(200, "")}, retries: 0, wantAttempts: 1, wantCode: 500, wantGiveUp: true},
		{name: "negative retries is one attempt", script: []webhookstest.Response{r(500, "boom"), r(200, "")}, retries: -2, wantAttempts: 1, wantCode: 500, wantGiveUp: true},
		{name: "500 until retries run out", script: []webhookstest.Response{r(500, "boom")}, retries: 2, wantAttempts: 3, wantBackoffs: []int{1, 2}, wantCode: 500, wantGiveUp: true},
		{name: "501 is not retried", script: []webhookstest.Response{r(501, "no"), r(200, "")}, retries: 3, wantAttempts: 1, wantCode: 501},
		{name: "4xx is not retried", script: []webhookstest.Response{r(404, "no"), r(200, "")}, retries: 3, wantAttempts: 1, wantCode: 404},
		{name: "retry ends on a non-retryable failure", script: []webhookstest.Response{r(502, ""), r(403, "Forbidden")}, retries: 3, wantAttempts: 2, wantBackoffs: []int{1}, wantCode: 403},
		{name: "dropped connection is retried", script: []webhookstest.Response{drop, r(200, "")}, retries: 1, wantAttempts: 2, wantBackoffs: []int{1}},
		{name: "dropped connection until retries run out", script: []webhookstest.Response{drop}, retries: 1, wantAttempts: 2, wantBackoffs: []int{1}, wantGiveUp: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, webhookstest.Options{})
			srv.Script("/hook", tt.script...)
			b := &backoffs{}
			c := webhooks.New(webhooks.Options{Backoff: b.fn})
			err := c.Call(t.Context(), webhooks.Hook{Name: "h", URL: srv.URL + "/hook", Retries: tt.retries}, payload())

			if got := srv.Count("/hook"); got != tt.wantAttempts {
				t.Errorf("server got %d attempts, want %d", got, tt.wantAttempts)
			}
			if diff := cmp.Diff(tt.wantBackoffs, b.calls()); diff != "" {
				t.Errorf("Backoff attempts (-want +got):\n%s", diff)
			}
			wantErr := tt.wantCode != 0 || tt.wantGiveUp
			if (err != nil) != wantErr {
				t.Fatalf("Call error = %v, want error %v", err, wantErr)
			}
			if err == nil {
				return
			}
			var gu *webhooks.GiveUpError
			if got := errors.As(err, &gu); got != tt.wantGiveUp {
				t.Fatalf("error %q is GiveUpError: %v, want %v", err, got, tt.wantGiveUp)
			}
			if gu != nil && gu.Attempts != tt.wantAttempts {
				t.Errorf("GiveUpError.Attempts = %d, want %d", gu.Attempts, tt.wantAttempts)
			}
			var se *webhooks.StatusError
			gotCode := 0
			if errors.As(err, &se) {
				gotCode = se.Code
			}
			if gotCode != tt.wantCode {
				t.Errorf("status in error %q = %d, want %d", err, gotCode, tt.wantCode)
			}
		})
	}
}

// TestCallGivingUpText pins retryablehttp's text as the prefix and augur's
// deliberate addition: the last status's body.
func TestCallGivingUpText(t *testing.T) {
	srv := newServer(t, webhookstest.Options{})
	srv.Script("/hook", webhookstest.Response{Status: 500, Body: "command failed: exit status 1\n"})
	srv.Script("/empty", webhookstest.Response{Status: 503})
	c := webhooks.New(webhooks.Options{Backoff: (&backoffs{}).fn})

	tests := []struct {
		path    string
		retries int
		want    string
	}{
		{"/hook", 0, "POST " + srv.URL + "/hook giving up after 1 attempt(s): command failed: exit status 1"},
		{"/hook", 2, "POST " + srv.URL + "/hook giving up after 3 attempt(s): command failed: exit status 1"},
		{"/empty", 1, "POST " + srv.URL + "/empty giving up after 2 attempt(s): 503 Service Unavailable"},
	}
	for _, tt := range tests {
		t.Run(fmt.Sprint(tt.path, tt.retries), func(t *testing.T) {
			err := c.Call(t.Context(), webhooks.Hook{Name: "h", URL: srv.URL + tt.path, Retries: tt.retries}, payload())
			if err == nil {
				t.Fatal("Call succeeded, want an error")
			}
			if err.Error() != tt.want {
				t.Errorf("error = %q\nwant    %q", err, tt.want)
			}
			flagger := fmt.Sprintf("POST %s%s giving up after %d attempt(s)", srv.URL, tt.path, tt.retries+1)
			if !strings.HasPrefix(err.Error(), flagger) {
				t.Errorf("error %q does not start with Flagger's %q", err, flagger)
			}
		})
	}
}

func TestCallBodyCap(t *testing.T) {
	long := strings.Repeat("0123456789", 1000) // 10,000 bytes
	tests := []struct {
		name    string
		maxBody int
		body    string
		want    string
	}{
		{name: "default cap is 4 KiB", body: long, want: long[:webhooks.DefaultMaxBody]},
		{name: "custom cap", maxBody: 12, body: long, want: long[:12]},
		{name: "short body is whole", maxBody: 12, body: "denied", want: "denied"},
		{name: "trimmed after the cap", maxBody: 9, body: "  \n denied and more", want: "denie"},
		{name: "cap does not split a rune", maxBody: 4, body: "abcé", want: "abc"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, webhookstest.Options{})
			srv.Script("/hook", webhookstest.Response{Status: 400, Body: tt.body})
			c := webhooks.New(webhooks.Options{MaxBody: tt.maxBody})
			err := c.Call(t.Context(), webhooks.Hook{Name: "h", URL: srv.URL + "/hook"}, payload())
			var se *webhooks.StatusError
			if !errors.As(err, &se) {
				t.Fatalf("Call error = %v, want *StatusError", err)
			}
			if se.Body != tt.want {
				t.Errorf("Body = %q (%d bytes), want %q (%d bytes)", se.Body, len(se.Body), tt.want, len(tt.want))
			}
		})
	}
}

// TestCallTimeoutPerAttempt: each attempt gets the whole hook timeout, and a
// timed-out attempt is retried like any connection error.
func TestCallTimeoutPerAttempt(t *testing.T) {
	srv := newServer(t, webhookstest.Options{})
	srv.Script("/slow", webhookstest.Response{Delay: time.Minute})
	b := &backoffs{}
	c := webhooks.New(webhooks.Options{Backoff: b.fn})
	hook := webhooks.Hook{Name: "slow", URL: srv.URL + "/slow", Timeout: 50 * time.Millisecond, Retries: 1}
	err := c.Call(t.Context(), hook, payload())
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Call error = %v, want context.DeadlineExceeded", err)
	}
	var gu *webhooks.GiveUpError
	if !errors.As(err, &gu) || gu.Attempts != 2 {
		t.Fatalf("Call error = %v, want GiveUpError after 2 attempts", err)
	}
	if !strings.Contains(err.Error(), "attempt timed out after 50ms") {
		t.Errorf("error %q does not name the attempt timeout", err)
	}
	if got := srv.Count("/slow"); got != 2 {
		t.Errorf("server got %d attempts, want 2", got)
	}
	if diff := cmp.Diff([]int{1}, b.calls()); diff != "" {
		t.Errorf("Backoff attempts (-want +got):\n%s", diff)
	}
}

// TestCallContextDeadlineAborts: the caller's deadline ends the call and is
// never retried.
func TestCallContextDeadlineAborts(t *testing.T) {
	srv := newServer(t, webhookstest.Options{})
	srv.Script("/slow", webhookstest.Response{Delay: time.Minute})
	b := &backoffs{}
	c := webhooks.New(webhooks.Options{Backoff: b.fn})
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	err := c.Call(ctx, webhooks.Hook{Name: "slow", URL: srv.URL + "/slow", Retries: 3}, payload())
	if !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Call error = %v, want context.DeadlineExceeded", err)
	}
	if strings.Contains(err.Error(), "attempt timed out") {
		t.Errorf("error %q blames the attempt timeout; the caller's deadline ended the call", err)
	}
	if got := b.calls(); len(got) != 0 {
		t.Errorf("Backoff called with %v after the caller's deadline", got)
	}
	if got := srv.Count("/slow"); got > 1 {
		t.Errorf("server got %d attempts, want at most 1", got)
	}
}

func TestCallContextCanceledDuringBackoff(t *testing.T) {
	srv := newServer(t, webhookstest.Options{})
	srv.Script("/hook", webhookstest.Response{Status: 500, Body: "boom"})
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	b := &backoffs{wait: time.Hour, onCall: cancel}
	c := webhooks.New(webhooks.Options{Backoff: b.fn})
	err := c.Call(ctx, webhooks.Hook{Name: "h", URL: srv.URL + "/hook", Retries: 5}, payload())
	if !errors.Is(err, context.Canceled) {
		t.Fatalf("Call error = %v, want context.Canceled", err)
	}
	var se *webhooks.StatusError
	if !errors.As(err, &se) || se.Code != 500 || se.Body != "boom" {
		t.Errorf("Call error = %v, want the last 500 kept", err)
	}
	want := "POST " + srv.URL + "/hook giving up after 1 attempt(s): context canceled while waiting to retry (last attempt: boom)"
	if err.Error() != want {
		t.Errorf("error = %q\nwant    %q", err, want)
	}
	if got := srv.Count("/hook"); got != 1 {
		t.Errorf("server got %d attempts, want 1", got)
	}
}

func TestCallRetryAfter(t *testing.T) {
	tests := []struct {
		name        string
		status      int
		retryAfter  string
		wantBackoff []int
	}{
		{name: "429 Retry-After replaces the backoff", status: 429, retryAfter: "0", wantBackoff: nil},
		{name: "503 Retry-After replaces the backoff", status: 503, retryAfter: "0", wantBackoff: nil},
		{name: "500 ignores Retry-After", status: 500, retryAfter: "0", wantBackoff: []int{1}},
		{name: "invalid Retry-After falls back", status: 429, retryAfter: "soon", wantBackoff: []int{1}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			srv := newServer(t, webhookstest.Options{})
			srv.Script("/hook",
				webhookstest.Response{Status: tt.status, Header: http.Header{"Retry-After": {tt.retryAfter}}},
				webhookstest.Response{Status: 200})
			b := &backoffs{}
			c := webhooks.New(webhooks.Options{Backoff: b.fn})
			if err := c.Call(t.Context(), webhooks.Hook{Name: "h", URL: srv.URL + "/hook", Retries: 1}, payload()); err != nil {
				t.Fatalf("Call: %v", err)
			}
			if diff := cmp.Diff(tt.wantBackoff, b.calls()); diff != "" {
				t.Errorf("Backoff attempts (-want +got):\n%s", diff)
			}
		})
	}
}

func TestCallTLS(t *testing.T) {
	srv := newServer(t, webhookstest.Options{TLS: true})
	srv.Script("/hook", webhookstest.Response{Status: 200})
	url := srv.URL + "/hook"

	t.Run("self-signed certificate fails and is not retried", func(t *testing.T) {
		b := &backoffs{}
		c := webhooks.New(webhooks.Options{Backoff: b.fn})
		err := c.Call(t.Context(), webhooks.Hook{Name: "tls", URL: url, Retries: 2}, payload())
		var cve *tls.CertificateVerificationError
		if !errors.As(err, &cve) {
			t.Fatalf("Call error = %v, want a certificate verification error", err)
		}
		var gu *webhooks.GiveUpError
		if !errors.As(err, &gu) || gu.Attempts != 1 {
			t.Errorf("Call error = %v, want GiveUpError after 1 attempt", err)
		}
		if got := b.calls(); len(got) != 0 {
			t.Errorf("Backoff called with %v; certificate errors are not retried", got)
		}
	})
	t.Run("disableTLS skips verification", func(t *testing.T) {
		c := webhooks.New(webhooks.Options{})
		if err := c.Call(t.Context(), webhooks.Hook{Name: "tls", URL: url, DisableTLS: true}, payload()); err != nil {
			t.Fatalf("Call: %v", err)
		}
	})
	t.Run("injected client is used for verified hooks", func(t *testing.T) {
		c := webhooks.New(webhooks.Options{HTTP: srv.Client()})
		if err := c.Call(t.Context(), webhooks.Hook{Name: "tls", URL: url}, payload()); err != nil {
			t.Fatalf("Call: %v", err)
		}
	})
	t.Run("disableTLS with an injected client", func(t *testing.T) {
		c := webhooks.New(webhooks.Options{HTTP: &http.Client{}})
		if err := c.Call(t.Context(), webhooks.Hook{Name: "tls", URL: url, DisableTLS: true}, payload()); err != nil {
			t.Fatalf("Call: %v", err)
		}
	})
}

func TestCallRedirects(t *testing.T) {
	srv := newServer(t, webhookstest.Options{})
	to := func(status int, path string) webhookstest.Response {
		return webhookstest.Response{Status: status, Header: http.Header{"Location": {path}}}
	}
	srv.Script("/ok", webhookstest.Response{Status: 200})
	srv.Script("/denied", webhookstest.Response{Status: 403, Body: "denied"})
	srv.Script("/307", to(307, "/ok"))
	srv.Script("/308", to(308, "/ok"))
	srv.Script("/302-denied", to(302, "/denied"))
	srv.Script("/loop", to(302, "/loop"))

	tests := []struct {
		path    string
		wantErr string
	}{
		{"/307", ""},
		{"/308", ""},
		{"/302-denied", "denied"},
		{"/loop", "stopped after 10 redirects"},
	}
	for _, tt := range tests {
		t.Run(tt.path, func(t *testing.T) {
			b := &backoffs{}
			c := webhooks.New(webhooks.Options{Backoff: b.fn})
			err := c.Call(t.Context(), webhooks.Hook{Name: "h", URL: srv.URL + tt.path, Retries: 2}, payload())
			if tt.wantErr == "" {
				if err != nil {
					t.Fatalf("Call: %v", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Call error = %v, want it to contain %q", err, tt.wantErr)
			}
			if got := b.calls(); len(got) != 0 {
				t.Errorf("Backoff called with %v; this failure is not retried", got)
			}
		})
	}
	// The 307/308 redirects resend the payload to the target.
	for _, r := range srv.Requests() {
		if r.Path == "/ok" && (r.Method != http.MethodPost || r.Payload == nil) {
			t.Errorf("redirected request = %s with payload %v, want POST with the payload", r.Method, r.Payload)
		}
	}
}

func TestCallInvalidHook(t *testing.T) {
	tests := []struct {
		name string
		url  string
		want string
	}{
		{name: "empty", url: "", want: `webhook "bad": url: scheme "" is not http or https`},
		{name: "unsupported scheme", url: "ftp://127.0.0.1/x", want: `webhook "bad": url: scheme "ftp" is not http or https`},
		{name: "no host", url: "http:///path", want: `webhook "bad": url: no host`},
		{name: "unparsable", url: "http://user:s3cret@127.0.0.1:port/", want: `webhook "bad": url: invalid port ":port" after host`},
		{name: "control character", url: "http://127.0.0.1/\x7f", want: `webhook "bad": url: net/url: invalid control character in URL`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c := webhooks.New(webhooks.Options{})
			err := c.Call(t.Context(), webhooks.Hook{Name: "bad", URL: tt.url}, payload())
			if err == nil || err.Error() != tt.want {
				t.Fatalf("Call error = %v, want %q", err, tt.want)
			}
			if strings.Contains(err.Error(), "s3cret") {
				t.Errorf("error %q echoes the URL's password", err)
			}
		})
	}
}

// TestCallKeepsSecretsOut: neither the URL's password nor hook metadata may
// reach errors or logs.
func TestCallKeepsSecretsOut(t *testing.T) {
	srv := newServer(t, webhookstest.Options{})
	srv.Script("/403", webhookstest.Response{Status: 403, Body: "denied"})
	srv.Script("/500", webhookstest.Response{Status: 500, Body: "boom"})
	srv.Script("/drop", webhookstest.Response{Drop: true})
	host := strings.TrimPrefix(srv.URL, "http://")
	meta := map[string]string{"token": "t0ken-value"}

	for _, path := range []string{"/403", "/500", "/drop"} {
		t.Run(path, func(t *testing.T) {
			var logs bytes.Buffer
			c := webhooks.New(webhooks.Options{
				Backoff: (&backoffs{}).fn,
				Logger:  slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug})),
			})
			hook := webhooks.Hook{Name: "h", URL: "http://alice:s3cret@" + host + path, Retries: 1, Metadata: meta}
			p := payload()
			p.Metadata = meta
			err := c.Call(t.Context(), hook, p)
			if err == nil {
				t.Fatal("Call succeeded, want an error")
			}
			for _, secret := range []string{"s3cret", "t0ken-value"} {
				if strings.Contains(err.Error(), secret) {
					t.Errorf("error %q contains %q", err, secret)
				}
				if strings.Contains(logs.String(), secret) {
					t.Errorf("logs %q contain %q", logs.String(), secret)
				}
			}
			var se *webhooks.StatusError
			if errors.As(err, &se) && se.URL != "http://alice:xxxxx@"+host+path {
				t.Errorf("StatusError.URL = %q, want the redacted URL", se.URL)
			}
		})
	}
}

func TestCallLogsRetries(t *testing.T) {
	srv := newServer(t, webhookstest.Options{})
	srv.Script("/hook", webhookstest.Response{Status: 502}, webhookstest.Response{Status: 429}, webhookstest.Response{Status: 200})
	var logs bytes.Buffer
	c := webhooks.New(webhooks.Options{
		Backoff: (&backoffs{}).fn,
		Logger:  slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug, ReplaceAttr: dropTime})),
	})
	if err := c.Call(t.Context(), webhooks.Hook{Name: "h", URL: srv.URL + "/hook", Retries: 2}, payload()); err != nil {
		t.Fatalf("Call: %v", err)
	}
	want := fmt.Sprintf(`level=DEBUG msg="webhook attempt failed, retrying" hook=h url=%[1]s/hook attempt=1 wait=0s status=502
level=DEBUG msg="webhook attempt failed, retrying" hook=h url=%[1]s/hook attempt=2 wait=0s status=429
`, srv.URL)
	if diff := cmp.Diff(want, logs.String()); diff != "" {
		t.Errorf("logs (-want +got):\n%s", diff)
	}
}

func dropTime(_ []string, a slog.Attr) slog.Attr {
	if a.Key == slog.TimeKey {
		return slog.Attr{}
	}
	return a
}

// TestCallConcurrent shares one Client across goroutines (run with -race).
func TestCallConcurrent(t *testing.T) {
	srv := newServer(t, webhookstest.Options{})
	srv.Script("/ok", webhookstest.Response{Status: 202})
	srv.Script("/flaky", webhookstest.Response{Status: 503}, webhookstest.Response{Status: 200})
	c := webhooks.New(webhooks.Options{Backoff: (&backoffs{}).fn})
	const n = 16
	errs := make(chan error, 2*n)
	var wg sync.WaitGroup
	for range n {
		for _, path := range []string{"/ok", "/flaky"} {
			wg.Go(func() {
				errs <- c.Call(t.Context(), webhooks.Hook{Name: path, URL: srv.URL + path, Retries: 1}, payload())
			})
		}
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("Call: %v", err)
		}
	}
	if got := srv.Count("/ok"); got != n {
		t.Errorf("/ok got %d requests, want %d", got, n)
	}
	if got := srv.Count("/flaky"); got != n+1 {
		t.Errorf("/flaky got %d requests, want %d (one 503, then retries that succeed)", got, n+1)
	}
}

func BenchmarkCall(b *testing.B) {
	srv := newServer(b, webhookstest.Options{})
	srv.Script("/hook", webhookstest.Response{Status: 200})
	c := webhooks.New(webhooks.Options{})
	hook := webhooks.Hook{Name: "bench", URL: srv.URL + "/hook"}
	p := payload()
	b.ReportAllocs()
	for b.Loop() {
		if err := c.Call(b.Context(), hook, p); err != nil {
			b.Fatal(err)
		}
	}
}

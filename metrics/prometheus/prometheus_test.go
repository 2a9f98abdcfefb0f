package prometheus_test

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"flag"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/augurproj/augur/metrics"
	"github.com/augurproj/augur/metrics/prometheus"
)

var update = flag.Bool("update", false, "rewrite golden files")

// rawQuery is sent by every result-shape case; wantQuery is what Prometheus
// must receive after whitespace collapsing (runs become one space, ends kept).
const (
	rawQuery  = "sum(\n  rate(http_requests_total{\n\tnamespace=\"test\"\r\n  }[2m])\n) "
	wantQuery = "sum( rate(http_requests_total{ namespace=\"test\" }[2m]) ) "
)

func TestQueryResultShapes(t *testing.T) {
	tests := []struct {
		name    string
		file    string
		status  int
		want    float64
		wantIs  error                // sentinel the error must wrap
		wantAPI *prometheus.APIError // server error the error must carry
		wantErr string               // substring the error must contain
	}{
		{name: "scalar", file: "scalar.json", status: 200, want: 0.901985},
		{name: "vector-1", file: "vector-1.json", status: 200, want: 0.9018916666666668},
		{name: "vector-warnings", file: "vector-warnings.json", status: 200, want: 0.9018916666666668},
		{name: "vector-2", file: "vector-2.json", status: 200, wantIs: metrics.ErrMultipleValues, wantErr: "vector with 2 series"},
		{name: "vector-empty", file: "vector-empty.json", status: 200, wantIs: metrics.ErrNoValues, wantErr: "empty vector"},
		{name: "matrix", file: "matrix.json", status: 200, wantIs: metrics.ErrMultipleValues, wantErr: "matrix"},
		{name: "nan", file: "nan.json", status: 200, wantIs: metrics.ErrNoValues, wantErr: "NaN"},
		{name: "inf", file: "inf.json", status: 200, want: math.Inf(1)},
		{name: "neg-inf", file: "neg-inf.json", status: 200, want: math.Inf(-1)},
		{name: "vector-histogram", file: "vector-histogram.json", status: 200, wantErr: "native histogram"},
		{name: "string", file: "string.json", status: 200,
			wantAPI: &prometheus.APIError{Type: "bad_response", Message: `unexpected value type "string"`}},
		{name: "invalid-json", file: "invalid.json", status: 200, wantErr: "bad_response: "},
		{name: "bad-data-400", file: "bad-data-400.json", status: 400,
			wantAPI: &prometheus.APIError{StatusCode: 400, Type: "bad_data", Message: `invalid parameter "query": 1:52: parse error: unclosed left parenthesis`}},
		{name: "error-envelope-in-200", file: "bad-data-400.json", status: 200,
			wantAPI: &prometheus.APIError{Type: "bad_data", Message: `invalid parameter "query": 1:52: parse error: unclosed left parenthesis`}},
		{name: "execution-422", file: "execution-422.json", status: 422, wantErr: "HTTP status 422 Unprocessable Entity: execution: found duplicate series"},
		{name: "timeout-503", file: "timeout-503.json", status: 503,
			wantAPI: &prometheus.APIError{StatusCode: 503, Type: "timeout", Message: "query timed out in expression evaluation"}},
		{name: "unavailable-503", file: "unavailable-503.txt", status: 503,
			wantAPI: &prometheus.APIError{StatusCode: 503, Body: "Service Unavailable"}},
		{name: "http-500", file: "http-500.txt", status: 500,
			wantAPI: &prometheus.APIError{StatusCode: 500, Body: "upstream connect error or disconnect/reset before headers. reset reason: connection failure"}},
	}
	var golden bytes.Buffer
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, tt.status, readTestdata(t, tt.file))
			p, err := prometheus.New(metrics.Config{Type: prometheus.Type, Address: srv.URL})
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			got, err := p.Query(t.Context(), rawQuery, time.Time{})

			reqs := srv.requests()
			if len(reqs) != 1 {
				t.Fatalf("server got %d requests, want exactly 1", len(reqs))
			}
			gotReq := reqs[0]
			wantReq := seen{
				Method:   http.MethodGet,
				Path:     "/api/v1/query",
				RawQuery: "query=" + url.QueryEscape(wantQuery),
				Query:    url.Values{"query": {wantQuery}},
			}
			if diff := cmp.Diff(wantReq, gotReq, cmpIgnoreHeader); diff != "" {
				t.Errorf("request (-want +got):\n%s", diff)
			}

			wantFail := tt.wantIs != nil || tt.wantAPI != nil || tt.wantErr != ""
			switch {
			case !wantFail && err != nil:
				t.Fatalf("Query: unexpected error %v", err)
			case !wantFail && got != tt.want:
				t.Fatalf("Query = %v, want %v", got, tt.want)
			case wantFail && err == nil:
				t.Fatalf("Query = %v, want an error", got)
			}
			if err != nil {
				checkQueryError(t, err, wantQuery)
				if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
					t.Errorf("error %q does not wrap %q", err, tt.wantIs)
				}
				for _, s := range []error{metrics.ErrNoValues, metrics.ErrMultipleValues} {
					if s != tt.wantIs && errors.Is(err, s) {
						t.Errorf("error %q wraps %q unexpectedly", err, s)
					}
				}
				if tt.wantAPI != nil {
					var apiErr *prometheus.APIError
					if !errors.As(err, &apiErr) {
						t.Fatalf("error %q is not an *APIError", err)
					}
					if diff := cmp.Diff(tt.wantAPI, apiErr); diff != "" {
						t.Errorf("APIError (-want +got):\n%s", diff)
					}
				}
				if !strings.Contains(err.Error(), tt.wantErr) {
					t.Errorf("error %q does not contain %q", err, tt.wantErr)
				}
				fmt.Fprintf(&golden, "%s: error: %v\n", tt.name, err)
			} else {
				fmt.Fprintf(&golden, "%s: %s\n", tt.name, strconv.FormatFloat(got, 'g', -1, 64))
			}
		})
	}
	checkGolden(t, "query-results.golden", golden.Bytes())
}

var cmpIgnoreHeader = cmp.FilterPath(func(p cmp.Path) bool {
	return p.Last().String() == ".Header"
}, cmp.Ignore())

// checkQueryError asserts the context every Query error carries.
func checkQueryError(t *testing.T, err error, q string) {
	t.Helper()
	if prefix := fmt.Sprintf("prometheus query %q: ", q); !strings.HasPrefix(err.Error(), prefix) {
		t.Errorf("error %q does not start with %q", err, prefix)
	}
}

func checkGolden(t *testing.T, name string, got []byte) {
	t.Helper()
	path := filepath.Join("testdata", name)
	if *update {
		if err := os.WriteFile(path, got, 0o644); err != nil {
			t.Fatalf("update golden: %v", err)
		}
		return
	}
	want, err := os.ReadFile(path)
	if err != nil {
		t.Fatalf("read golden (run go test -update to create it): %v", err)
	}
	if diff := cmp.Diff(string(want), string(got)); diff != "" {
		t.Errorf("%s mismatch (-want +got):\n%s", path, diff)
	}
}

func TestQueryWireFormat(t *testing.T) {
	body := readTestdata(t, "vector-1.json")
	tests := []struct {
		name      string
		query     string
		at        time.Time
		wantQuery string
		wantTime  string // "" means no time parameter
	}{
		{name: "now-has-no-time", query: "vector(1)", wantQuery: "vector(1)"},
		{name: "at-sends-time", query: "vector(1)", at: time.Unix(1795326522, 500_000_000), wantQuery: "vector(1)", wantTime: "1795326522.5"},
		{name: "ends-not-trimmed", query: "\n\t up \n", wantQuery: " up "},
		{name: "form-feed-is-space", query: "a\f\fb", wantQuery: "a b"},
		{name: "vertical-tab-is-not-space", query: "a\vb", wantQuery: "a\vb"},
		{name: "non-breaking-space-kept", query: "a\u00a0 b", wantQuery: "a\u00a0 b"},
		{name: "reserved-characters", query: `sum(x{path=~"/a&b=c#d+e%"}) >= 1`, wantQuery: `sum(x{path=~"/a&b=c#d+e%"}) >= 1`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, 200, body)
			p, err := prometheus.New(metrics.Config{Address: srv.URL})
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if _, err := p.Query(t.Context(), tt.query, tt.at); err != nil {
				t.Fatalf("Query: %v", err)
			}
			reqs := srv.requests()
			if len(reqs) != 1 {
				t.Fatalf("server got %d requests, want 1", len(reqs))
			}
			want := url.Values{"query": {tt.wantQuery}}
			if tt.wantTime != "" {
				want.Set("time", tt.wantTime)
			}
			if diff := cmp.Diff(want, reqs[0].Query); diff != "" {
				t.Errorf("query parameters (-want +got):\n%s", diff)
			}
			if reqs[0].Method != http.MethodGet {
				t.Errorf("method = %s, want GET", reqs[0].Method)
			}
			if tt.wantTime == "" {
				// Byte-identical to Flagger's url.QueryEscape of the query.
				if want := "query=" + url.QueryEscape(tt.wantQuery); reqs[0].RawQuery != want {
					t.Errorf("raw query = %q, want %q", reqs[0].RawQuery, want)
				}
			}
		})
	}
}

// TestErrorStatusesSendOneGET pins that client_golang's POST→GET fallback on
// 403/405/501 never fires: one GET per query, whatever the status.
func TestErrorStatusesSendOneGET(t *testing.T) {
	for _, status := range []int{401, 403, 404, 405, 501, 502} {
		t.Run(strconv.Itoa(status), func(t *testing.T) {
			srv := newServer(t, status, []byte("denied\n"))
			p, err := prometheus.New(metrics.Config{Address: srv.URL})
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			_, err = p.Query(t.Context(), "up", time.Time{})
			var apiErr *prometheus.APIError
			if !errors.As(err, &apiErr) {
				t.Fatalf("error %v is not an *APIError", err)
			}
			if diff := cmp.Diff(&prometheus.APIError{StatusCode: status, Body: "denied"}, apiErr); diff != "" {
				t.Errorf("APIError (-want +got):\n%s", diff)
			}
			reqs := srv.requests()
			if len(reqs) != 1 || reqs[0].Method != http.MethodGet {
				t.Errorf("requests = %+v, want exactly one GET", reqs)
			}
		})
	}
}

func TestNewAddress(t *testing.T) {
	tests := []struct {
		name    string
		address string
		wantErr string // "" means valid
	}{
		{name: "http", address: "http://prometheus:9090"},
		{name: "https-prefix", address: "https://prom.example/prefix/"},
		{name: "empty", address: "", wantErr: `prometheus address "" is not a valid URL: address is empty`},
		{name: "no-scheme", address: "prometheus:9090", wantErr: `prometheus address "prometheus:9090" is not a valid URL: scheme "prometheus" is not http or https`},
		{name: "relative", address: "/api", wantErr: `scheme "" is not http or https`},
		{name: "ftp", address: "ftp://prometheus", wantErr: `scheme "ftp" is not http or https`},
		{name: "no-host", address: "http://", wantErr: "host is empty"},
		{name: "unparsable", address: "http://[::1", wantErr: `prometheus address "http://[::1" is not a valid URL: missing ']' in host`},
		{name: "control-character", address: "http://prom\n:9090", wantErr: "is not a valid URL"},
		{name: "password-redacted", address: "ftp://u:hunter2@prom", wantErr: `"ftp://u:xxxxx@prom"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := prometheus.New(metrics.Config{Address: tt.address})
			if tt.wantErr == "" {
				if err != nil || p == nil {
					t.Fatalf("New(%q) = %v, %v; want a provider", tt.address, p, err)
				}
				return
			}
			if err == nil {
				t.Fatalf("New(%q) succeeded, want error containing %q", tt.address, tt.wantErr)
			}
			if !errors.Is(err, prometheus.ErrInvalidAddress) {
				t.Errorf("error %q does not wrap ErrInvalidAddress", err)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not contain %q", err, tt.wantErr)
			}
			if strings.Contains(err.Error(), "hunter2") {
				t.Errorf("error %q leaks the address password", err)
			}
		})
	}
}

func TestNewConfigErrors(t *testing.T) {
	tests := []struct {
		name    string
		cfg     metrics.Config
		wantErr string
	}{
		{name: "other-type", cfg: metrics.Config{Type: "datadog", Address: "http://p"}, wantErr: `provider type "datadog" is not "prometheus"`},
		{name: "negative-timeout", cfg: metrics.Config{Address: "http://p", Timeout: -time.Second}, wantErr: "timeout -1s must not be negative"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := prometheus.New(tt.cfg)
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("New error = %v, want one containing %q", err, tt.wantErr)
			}
		})
	}
}

func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

func TestAuth(t *testing.T) {
	body := readTestdata(t, "vector-1.json")
	tests := []struct {
		name     string
		cfg      metrics.Config
		wantAuth []string // Authorization values the server must see (nil: none)
	}{
		{name: "no-secret", cfg: metrics.Config{}},
		{name: "creds-ignored-without-secret", cfg: metrics.Config{Credentials: map[string]string{"token": "t0k"}}},
		{name: "bearer", cfg: metrics.Config{HasSecret: true, Credentials: map[string]string{"token": "t0k"}}, wantAuth: []string{"Bearer t0k"}},
		{name: "basic", cfg: metrics.Config{HasSecret: true, Credentials: map[string]string{"username": "alice", "password": "s3cret"}}, wantAuth: []string{basic("alice", "s3cret")}},
		{name: "basic-empty-password", cfg: metrics.Config{HasSecret: true, Credentials: map[string]string{"username": "alice", "password": ""}}, wantAuth: []string{basic("alice", "")}},
		{name: "token-wins-over-basic", cfg: metrics.Config{HasSecret: true, Credentials: map[string]string{"token": "t0k", "username": "alice", "password": "s3cret"}}, wantAuth: []string{"Bearer t0k"}},
		{
			name: "token-replaces-configured-authorization",
			cfg: metrics.Config{
				HasSecret: true, Credentials: map[string]string{"token": "t0k"},
				Headers: map[string][]string{"authorization": {"Bearer stale"}, "Authorization": {"Basic x"}},
			},
			wantAuth: []string{"Bearer t0k"},
		},
		{
			name:     "configured-authorization-without-secret",
			cfg:      metrics.Config{Headers: map[string][]string{"Authorization": {"Bearer from-header"}}},
			wantAuth: []string{"Bearer from-header"},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, 200, body)
			tt.cfg.Address = srv.URL
			p, err := prometheus.New(tt.cfg)
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if _, err := p.Query(t.Context(), "up", time.Time{}); err != nil {
				t.Fatalf("Query: %v", err)
			}
			got := srv.requests()[0].Header.Values("Authorization")
			if diff := cmp.Diff(tt.wantAuth, got); diff != "" {
				t.Errorf("Authorization (-want +got):\n%s", diff)
			}
		})
	}
}

func TestNewCredentialErrors(t *testing.T) {
	tests := []struct {
		name    string
		creds   map[string]string
		wantErr string
	}{
		{name: "nothing", creds: nil, wantErr: `credentials does not contain a username (secret key "username")`},
		{name: "password-only", creds: map[string]string{"password": "pw-value-1"}, wantErr: `credentials does not contain a username (secret key "username")`},
		{name: "username-only", creds: map[string]string{"username": "user-value-1"}, wantErr: `credentials does not contain a password (secret key "password")`},
		{name: "empty-token", creds: map[string]string{"token": "", "username": "user-value-1"}, wantErr: `credentials key "token" is empty`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, 200, readTestdata(t, "vector-1.json"))
			p, err := prometheus.New(metrics.Config{Address: srv.URL, HasSecret: true, Credentials: tt.creds})
			if err == nil {
				t.Fatalf("New = %v, want an error", p)
			}
			if !errors.Is(err, prometheus.ErrMissingCredential) {
				t.Errorf("error %q does not wrap ErrMissingCredential", err)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not contain %q", err, tt.wantErr)
			}
			for _, v := range tt.creds {
				if v != "" && strings.Contains(err.Error(), v) {
					t.Errorf("error %q leaks credential value %q", err, v)
				}
			}
			if n := len(srv.requests()); n != 0 {
				t.Errorf("server got %d requests, want none", n)
			}
		})
	}
}

// TestHeadersDoNotAccumulate guards against Flagger's aliasing bug, where the
// configured header map was the request's and Authorization piled up on it.
func TestHeadersDoNotAccumulate(t *testing.T) {
	srv := newServer(t, 200, readTestdata(t, "vector-1.json"))
	headers := map[string][]string{
		"X-Scope-OrgID": {"tenant-a"},
		"X-Multi":       {"one", "two"},
	}
	cfg := metrics.Config{
		Address:     srv.URL,
		Headers:     headers,
		HasSecret:   true,
		Credentials: map[string]string{"token": "t0k"},
	}
	p, err := prometheus.New(cfg)
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	for range 3 {
		if _, err := p.Query(t.Context(), "up", time.Time{}); err != nil {
			t.Fatalf("Query: %v", err)
		}
	}
	// Mutating the caller's map after New must not reach the provider.
	headers["X-Scope-OrgID"][0] = "mutated"
	headers["X-Late"] = []string{"late"}
	if _, err := p.Query(t.Context(), "up", time.Time{}); err != nil {
		t.Fatalf("Query: %v", err)
	}

	reqs := srv.requests()
	if len(reqs) != 4 {
		t.Fatalf("server got %d requests, want 4", len(reqs))
	}
	want := map[string][]string{
		"Authorization": {"Bearer t0k"},
		"X-Scope-Orgid": {"tenant-a"},
		"X-Multi":       {"one", "two"},
		"X-Late":        nil,
	}
	for i, r := range reqs {
		got := map[string][]string{}
		for k := range want {
			got[k] = r.Header.Values(k)
		}
		if diff := cmp.Diff(want, got); diff != "" {
			t.Errorf("request %d headers (-want +got):\n%s", i, diff)
		}
	}
	if _, ok := headers["Authorization"]; ok {
		t.Errorf("provider wrote Authorization into the caller's header map: %v", headers)
	}
}

func TestPathPrefix(t *testing.T) {
	tests := []struct {
		suffix   string
		wantPath string
	}{
		{suffix: "", wantPath: "/api/v1/query"},
		{suffix: "/", wantPath: "/api/v1/query"},
		{suffix: "/prefix", wantPath: "/prefix/api/v1/query"},
		{suffix: "/prefix/", wantPath: "/prefix/api/v1/query"},
		{suffix: "/select/0/prometheus", wantPath: "/select/0/prometheus/api/v1/query"},
	}
	for _, tt := range tests {
		t.Run(tt.suffix, func(t *testing.T) {
			srv := newServer(t, 200, readTestdata(t, "vector-1.json"))
			p, err := prometheus.New(metrics.Config{Address: srv.URL + tt.suffix})
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			if _, err := p.Query(t.Context(), "up", time.Time{}); err != nil {
				t.Fatalf("Query: %v", err)
			}
			if got := srv.requests()[0].Path; got != tt.wantPath {
				t.Errorf("path = %q, want %q", got, tt.wantPath)
			}
		})
	}
}

func TestTimeoutAndCancellation(t *testing.T) {
	tests := []struct {
		name        string
		timeout     time.Duration
		ctx         func(t *testing.T, started <-chan struct{}) context.Context
		wantIs      error
		wantTimeout string // "" means the error must not claim the provider timed out
	}{
		{
			name:        "provider-timeout",
			timeout:     50 * time.Millisecond,
			ctx:         func(t *testing.T, _ <-chan struct{}) context.Context { return t.Context() },
			wantIs:      context.DeadlineExceeded,
			wantTimeout: "timed out after 50ms",
		},
		{
			name:    "caller-deadline",
			timeout: time.Minute,
			ctx: func(t *testing.T, _ <-chan struct{}) context.Context {
				ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
				t.Cleanup(cancel)
				return ctx
			},
			wantIs: context.DeadlineExceeded,
		},
		{
			name:    "caller-cancel",
			timeout: time.Minute,
			ctx: func(t *testing.T, started <-chan struct{}) context.Context {
				ctx, cancel := context.WithCancel(t.Context())
				t.Cleanup(cancel)
				go func() {
					<-started
					cancel()
				}()
				return ctx
			},
			wantIs: context.Canceled,
		},
		{
			name:    "already-canceled",
			timeout: time.Minute,
			ctx: func(t *testing.T, _ <-chan struct{}) context.Context {
				ctx, cancel := context.WithCancel(t.Context())
				cancel()
				return ctx
			},
			wantIs: context.Canceled,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			started := make(chan struct{}, 1)
			srv := newServerWith(t, 200, readTestdata(t, "vector-1.json"), serveOpts{block: true, started: started})
			p, err := prometheus.New(metrics.Config{Address: srv.URL, Timeout: tt.timeout})
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			got, err := p.Query(tt.ctx(t, started), "up", time.Time{})
			if err == nil {
				t.Fatalf("Query = %v, want an error", got)
			}
			if !errors.Is(err, tt.wantIs) {
				t.Errorf("error %q does not wrap %v", err, tt.wantIs)
			}
			checkQueryError(t, err, "up")
			if tt.wantTimeout != "" && !strings.Contains(err.Error(), tt.wantTimeout) {
				t.Errorf("error %q does not say %q", err, tt.wantTimeout)
			}
			if tt.wantTimeout == "" && strings.Contains(err.Error(), "timed out after") {
				t.Errorf("error %q blames the provider timeout for the caller's context", err)
			}
		})
	}
}

func TestInsecureSkipVerify(t *testing.T) {
	srv := newServerWith(t, 200, readTestdata(t, "vector-1.json"), serveOpts{tls: true})
	tests := []struct {
		name     string
		insecure bool
		wantErr  string
	}{
		{name: "verify", insecure: false, wantErr: "certificate"},
		{name: "skip-verify", insecure: true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			p, err := prometheus.New(metrics.Config{Address: srv.URL, InsecureSkipVerify: tt.insecure})
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			got, err := p.Query(t.Context(), "up", time.Time{})
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("Query = %v, %v; want error containing %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil || got != 0.9018916666666668 {
				t.Fatalf("Query = %v, %v; want 0.9018916666666668", got, err)
			}
		})
	}
}

func TestConcurrentQueries(t *testing.T) {
	srv := newServer(t, 200, readTestdata(t, "vector-1.json"))
	p, err := prometheus.New(metrics.Config{
		Address: srv.URL, Headers: map[string][]string{"X-Tenant": {"t"}},
		HasSecret: true, Credentials: map[string]string{"username": "u", "password": "p"},
	})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	const workers, each = 8, 20
	var wg sync.WaitGroup
	errs := make(chan error, workers*each)
	for w := range workers {
		wg.Go(func() {
			for i := range each {
				q := fmt.Sprintf("up{worker=\"%d\",i=\"%d\"}", w, i)
				if v, err := p.Query(t.Context(), q, time.Time{}); err != nil || v != 0.9018916666666668 {
					errs <- fmt.Errorf("%s: %v, %w", q, v, err)
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
	reqs := srv.requests()
	if len(reqs) != workers*each {
		t.Fatalf("server got %d requests, want %d", len(reqs), workers*each)
	}
	queries := map[string]bool{}
	for _, r := range reqs {
		queries[r.Query.Get("query")] = true
		if got := r.Header.Values("Authorization"); len(got) != 1 || got[0] != basic("u", "p") {
			t.Errorf("Authorization = %q", got)
		}
		if got := r.Header.Values("X-Tenant"); len(got) != 1 {
			t.Errorf("X-Tenant = %q", got)
		}
	}
	if len(queries) != workers*each {
		t.Errorf("server saw %d distinct queries, want %d", len(queries), workers*each)
	}
}

func TestRegister(t *testing.T) {
	srv := newServer(t, 200, readTestdata(t, "inf.json"))
	var reg metrics.Registry
	prometheus.Register(&reg)
	if diff := cmp.Diff([]string{"prometheus"}, reg.Types()); diff != "" {
		t.Errorf("Types (-want +got):\n%s", diff)
	}
	p, err := reg.New(metrics.Config{Type: "prometheus", Address: srv.URL})
	if err != nil {
		t.Fatalf("registry New: %v", err)
	}
	if v, err := p.Query(t.Context(), "up", time.Time{}); err != nil || !math.IsInf(v, 1) {
		t.Errorf("Query = %v, %v; want +Inf", v, err)
	}
	if _, ok := p.(metrics.RangeQuerier); !ok {
		t.Errorf("registry provider %T is not a metrics.RangeQuerier", p)
	}
	_, err = reg.New(metrics.Config{Type: "prometheus", Address: "ftp://x"})
	if !errors.Is(err, prometheus.ErrInvalidAddress) || !strings.HasPrefix(err.Error(), "prometheus provider: ") {
		t.Errorf("registry New with a bad address = %v", err)
	}
}

func TestWarningsLogged(t *testing.T) {
	srv := newServer(t, 200, readTestdata(t, "vector-warnings.json"))
	var buf bytes.Buffer
	logger := slog.New(slog.NewJSONHandler(&buf, &slog.HandlerOptions{Level: slog.LevelDebug}))
	p, err := prometheus.New(metrics.Config{Address: srv.URL}, prometheus.WithLogger(logger))
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if v, err := p.Query(t.Context(), "sum(rate(http_requests_total[2m]))", time.Time{}); err != nil || v != 0.9018916666666668 {
		t.Fatalf("Query = %v, %v", v, err)
	}
	type record struct {
		Level    string   `json:"level"`
		Msg      string   `json:"msg"`
		Query    string   `json:"query"`
		Warnings []string `json:"warnings"`
		Infos    []string `json:"infos"`
	}
	var got []record
	dec := json.NewDecoder(&buf)
	for dec.More() {
		var r record
		if err := dec.Decode(&r); err != nil {
			t.Fatalf("decode log: %v", err)
		}
		got = append(got, r)
	}
	want := []record{
		{
			Level: "WARN", Msg: "prometheus query returned warnings", Query: "sum(rate(http_requests_total[2m]))",
			Warnings: []string{`PromQL warning: encountered a mix of histograms and floats for metric name "http_requests_total" (1:10)`},
		},
		{
			Level: "INFO", Msg: "prometheus query returned infos", Query: "sum(rate(http_requests_total[2m]))",
			Infos: []string{`PromQL info: metric might not be a counter, name does not end in _total/_sum/_count/_bucket: "http_requests" (1:10)`},
		},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("log records (-want +got):\n%s", diff)
	}
}

func TestQueryRange(t *testing.T) {
	start := time.Unix(1795326222, 0)
	end := time.Unix(1795326282, 0)
	step := 30 * time.Second
	srv := newServer(t, 200, readTestdata(t, "range-matrix.json"))
	p, err := prometheus.New(metrics.Config{Address: srv.URL + "/prefix"})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	got, err := p.QueryRange(t.Context(), "sum by (pod) (\n rate(x[1m]))", start, end, step)
	if err != nil {
		t.Fatalf("QueryRange: %v", err)
	}
	samples := func(v float64) []metrics.Sample {
		return []metrics.Sample{
			{T: time.Unix(1795326222, 0), V: v},
			{T: time.Unix(1795326252, 0), V: v},
			{T: time.Unix(1795326282, 0), V: v},
		}
	}
	want := []metrics.Series{
		{Labels: map[string]string{"pod": "podinfo-a"}, Samples: samples(0.6666666666666666)},
		{Labels: map[string]string{"pod": "podinfo-b"}, Samples: samples(0.7333333333333333)},
	}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("series (-want +got):\n%s", diff)
	}
	reqs := srv.requests()
	if len(reqs) != 1 {
		t.Fatalf("server got %d requests, want 1", len(reqs))
	}
	wantReq := seen{
		Method: http.MethodGet,
		Path:   "/prefix/api/v1/query_range",
		Query: url.Values{
			"query": {"sum by (pod) ( rate(x[1m]))"},
			"start": {"1795326222"}, "end": {"1795326282"}, "step": {"30"},
		},
	}
	if diff := cmp.Diff(wantReq, reqs[0], cmpIgnoreHeader, cmp.FilterPath(func(p cmp.Path) bool {
		return p.Last().String() == ".RawQuery"
	}, cmp.Ignore())); diff != "" {
		t.Errorf("request (-want +got):\n%s", diff)
	}
}

func TestQueryRangeErrors(t *testing.T) {
	start := time.Unix(1795326222, 0)
	end := start.Add(time.Minute)
	tests := []struct {
		name         string
		file         string
		status       int
		start, end   time.Time
		step         time.Duration
		wantErr      string
		wantRequests int
	}{
		{name: "zero-step", file: "range-matrix.json", status: 200, start: start, end: end, wantErr: "step 0s must be positive"},
		{name: "end-before-start", file: "range-matrix.json", status: 200, start: end, end: start, step: time.Second, wantErr: "is before start"},
		{name: "zero-start", file: "range-matrix.json", status: 200, end: end, step: time.Second, wantErr: "start and end are required"},
		{name: "vector-result", file: "vector-1.json", status: 200, start: start, end: end, step: time.Second, wantErr: "result is a vector, want a matrix", wantRequests: 1},
		{name: "bad-data", file: "bad-data-400.json", status: 400, start: start, end: end, step: time.Second, wantErr: "HTTP status 400 Bad Request: bad_data: ", wantRequests: 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, tt.status, readTestdata(t, tt.file))
			p, err := prometheus.New(metrics.Config{Address: srv.URL})
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			got, err := p.QueryRange(t.Context(), "up", tt.start, tt.end, tt.step)
			if err == nil {
				t.Fatalf("QueryRange = %v, want an error", got)
			}
			if !strings.HasPrefix(err.Error(), `prometheus range query "up": `) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q, want prefix %q and %q", err, `prometheus range query "up": `, tt.wantErr)
			}
			if n := len(srv.requests()); n != tt.wantRequests {
				t.Errorf("server got %d requests, want %d", n, tt.wantRequests)
			}
		})
	}
}

func TestQueryRangeEmpty(t *testing.T) {
	srv := newServer(t, 200, []byte(`{"status":"success","data":{"resultType":"matrix","result":[]}}`))
	p, err := prometheus.New(metrics.Config{Address: srv.URL})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	start := time.Unix(1795326222, 0)
	got, err := p.QueryRange(t.Context(), "up", start, start.Add(time.Minute), time.Second)
	if err != nil || got == nil || len(got) != 0 {
		t.Fatalf("QueryRange = %#v, %v; want an empty non-nil slice", got, err)
	}
}

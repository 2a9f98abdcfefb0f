package prometheus

import (
	"bytes"
	"context"
	"errors"
	"io"
	"log/slog"
	"math"
	"net/http"
	"regexp"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	v1 "github.com/prometheus/client_golang/api/prometheus/v1"
	"github.com/prometheus/common/model"

	"github.com/augurproj/augur/metrics"
)

// flaggerTrim is Flagger's trimQuery rule, the reference for collapseSpace.
var flaggerTrim = regexp.MustCompile(`\s+`)

func TestCollapseSpace(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{name: "empty", in: "", want: ""},
		{name: "untouched", in: `sum(rate(x{a="b c"}[1m]))`, want: `sum(rate(x{a="b c"}[1m]))`},
		{name: "newlines-and-indent", in: "sum(\n    rate(x[1m])\n)", want: "sum( rate(x[1m]) )"},
		{name: "ends-kept", in: "\t\n up \r\n", want: " up "},
		{name: "only-space", in: " \t\f\r\n ", want: " "},
		{name: "single-tab", in: "a\tb", want: "a b"},
		{name: "inside-string-literal", in: `x{a="b   c"}`, want: `x{a="b c"}`},
		{name: "vertical-tab-kept", in: "a\v\vb", want: "a\v\vb"},
		{name: "unicode-space-kept", in: "a\u2003\u2003b  c", want: "a\u2003\u2003b c"},
		{name: "invalid-utf8", in: "a\xff  \xfe", want: "a\xff \xfe"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := collapseSpace(tt.in)
			if got != tt.want {
				t.Errorf("collapseSpace(%q) = %q, want %q", tt.in, got, tt.want)
			}
			if ref := flaggerTrim.ReplaceAllString(tt.in, " "); got != ref {
				t.Errorf("collapseSpace(%q) = %q, Flagger's regexp gives %q", tt.in, got, ref)
			}
		})
	}
}

func TestReduce(t *testing.T) {
	hist := &model.SampleHistogram{Count: 1, Sum: 1}
	tests := []struct {
		name    string
		v       model.Value
		want    float64
		wantIs  error
		wantErr string
	}{
		{name: "scalar", v: &model.Scalar{Value: 2.5}, want: 2.5},
		{name: "scalar-nan", v: &model.Scalar{Value: model.SampleValue(math.NaN())}, wantIs: metrics.ErrNoValues},
		{name: "scalar-inf", v: &model.Scalar{Value: model.SampleValue(math.Inf(1))}, want: math.Inf(1)},
		{name: "nil-scalar", v: (*model.Scalar)(nil), wantErr: "nil scalar"},
		{name: "vector-zero", v: model.Vector{{Value: 0}}, want: 0},
		{name: "vector-negative", v: model.Vector{{Value: -3}}, want: -3},
		{name: "vector-nil-sample", v: model.Vector{nil}, wantErr: "nil sample"},
		{name: "vector-histogram", v: model.Vector{{Histogram: hist}}, wantErr: "native histogram"},
		{name: "vector-empty", v: model.Vector{}, wantIs: metrics.ErrNoValues},
		{name: "vector-nil", v: model.Vector(nil), wantIs: metrics.ErrNoValues},
		{name: "vector-3", v: model.Vector{{}, {}, {}}, wantIs: metrics.ErrMultipleValues, wantErr: "3 series"},
		{name: "matrix-empty", v: model.Matrix{}, wantIs: metrics.ErrNoValues},
		{name: "matrix-1", v: model.Matrix{{Values: []model.SamplePair{{Value: 1}}}}, wantIs: metrics.ErrMultipleValues, wantErr: "1 series"},
		{name: "string", v: &model.String{Value: "x"}, wantErr: "string"},
		{name: "nil", v: nil, wantErr: "no result"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := reduce(tt.v)
			if tt.wantIs == nil && tt.wantErr == "" {
				if err != nil || got != tt.want {
					t.Fatalf("reduce = %v, %v; want %v", got, err, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("reduce = %v, want an error", got)
			}
			if tt.wantIs != nil && !errors.Is(err, tt.wantIs) {
				t.Errorf("error %q does not wrap %q", err, tt.wantIs)
			}
			if !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q does not contain %q", err, tt.wantErr)
			}
		})
	}
}

func TestToSeries(t *testing.T) {
	tests := []struct {
		name    string
		v       model.Value
		want    []metrics.Series
		wantErr string
	}{
		{
			name: "matrix",
			v: model.Matrix{{
				Metric: model.Metric{"job": "api"},
				Values: []model.SamplePair{{Timestamp: 1_500, Value: 1}, {Timestamp: 2_500, Value: model.SampleValue(math.Inf(-1))}},
			}},
			want: []metrics.Series{{
				Labels:  map[string]string{"job": "api"},
				Samples: []metrics.Sample{{T: time.UnixMilli(1_500), V: 1}, {T: time.UnixMilli(2_500), V: math.Inf(-1)}},
			}},
		},
		{name: "empty", v: model.Matrix{}, want: []metrics.Series{}},
		{name: "histograms", v: model.Matrix{{Histograms: []model.SampleHistogramPair{{}}}}, wantErr: "native histograms"},
		{name: "nil-series", v: model.Matrix{nil}, wantErr: "nil series"},
		{name: "scalar", v: &model.Scalar{}, wantErr: "result is a scalar, want a matrix"},
		{name: "nil", v: nil, wantErr: "no result"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := toSeries(tt.v)
			if tt.wantErr != "" {
				if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
					t.Fatalf("toSeries = %v, %v; want error containing %q", got, err, tt.wantErr)
				}
				return
			}
			if err != nil {
				t.Fatalf("toSeries: %v", err)
			}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("series (-want +got):\n%s", diff)
			}
		})
	}
}

// fakeAPI is a swapped-in queryAPI that returns one canned answer and
// records what it was asked.
type fakeAPI struct {
	value    model.Value
	warnings v1.Warnings
	infos    v1.Infos
	err      error

	gotQuery    string
	gotTS       time.Time
	gotDeadline time.Duration
}

func (f *fakeAPI) Query(ctx context.Context, query string, ts time.Time, _ ...v1.Option) (model.Value, v1.Warnings, v1.Infos, error) {
	f.gotQuery, f.gotTS = query, ts
	if d, ok := ctx.Deadline(); ok {
		f.gotDeadline = time.Until(d)
	}
	return f.value, f.warnings, f.infos, f.err
}

func (f *fakeAPI) QueryRange(ctx context.Context, query string, _ v1.Range, opts ...v1.Option) (model.Value, v1.Warnings, v1.Infos, error) {
	return f.Query(ctx, query, time.Time{}, opts...)
}

func TestProviderWithSwappedAPI(t *testing.T) {
	at := time.Unix(1795326522, 0)
	tests := []struct {
		name     string
		api      *fakeAPI
		want     float64
		wantErr  string
		wantAPI  *APIError
		wantLogs int
	}{
		{name: "value", api: &fakeAPI{value: &model.Scalar{Value: 7}}, want: 7},
		{
			name:     "error-with-warnings-still-logs",
			api:      &fakeAPI{err: &v1.Error{Type: v1.ErrExec, Msg: "boom"}, warnings: v1.Warnings{"w"}},
			wantErr:  `prometheus query "a b": execution: boom`,
			wantAPI:  &APIError{Type: "execution", Message: "boom"},
			wantLogs: 1,
		},
		{
			name:    "v1-error-detail-truncated",
			api:     &fakeAPI{err: &v1.Error{Type: v1.ErrServer, Msg: "server error: 500", Detail: strings.Repeat("é", 400)}},
			wantAPI: &APIError{Type: "server_error", Message: "server error: 500", Body: strings.Repeat("é", 256) + "…"},
			wantErr: "server_error: server error: 500",
		},
		{name: "string-result", api: &fakeAPI{value: &model.String{Value: "s"}}, wantErr: "result is a string, not a number"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var logs bytes.Buffer
			p := &Provider{api: tt.api, timeout: time.Minute, logger: slog.New(slog.NewTextHandler(&logs, nil))}
			got, err := p.Query(t.Context(), "a \n b", at)
			if tt.api.gotQuery != "a b" || !tt.api.gotTS.Equal(at) {
				t.Errorf("api got (%q, %v), want (%q, %v)", tt.api.gotQuery, tt.api.gotTS, "a b", at)
			}
			if tt.api.gotDeadline <= 0 || tt.api.gotDeadline > time.Minute {
				t.Errorf("api ctx deadline in %v, want within the 1m provider timeout", tt.api.gotDeadline)
			}
			if n := strings.Count(logs.String(), "\n"); n != tt.wantLogs {
				t.Errorf("logged %d lines, want %d:\n%s", n, tt.wantLogs, logs.String())
			}
			if tt.wantErr == "" {
				if err != nil || got != tt.want {
					t.Fatalf("Query = %v, %v; want %v", got, err, tt.want)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.wantErr) {
				t.Fatalf("Query = %v, %v; want error containing %q", got, err, tt.wantErr)
			}
			if tt.wantAPI != nil {
				var apiErr *APIError
				if !errors.As(err, &apiErr) {
					t.Fatalf("error %q is not an *APIError", err)
				}
				if diff := cmp.Diff(tt.wantAPI, apiErr); diff != "" {
					t.Errorf("APIError (-want +got):\n%s", diff)
				}
			}
		})
	}
}

func TestAPIErrorMessage(t *testing.T) {
	tests := []struct {
		err  APIError
		want string
	}{
		{err: APIError{StatusCode: 400, Type: "bad_data", Message: "m"}, want: "server returned HTTP status 400 Bad Request: bad_data: m"},
		{err: APIError{StatusCode: 599, Body: "b"}, want: "server returned HTTP status 599: b"},
		{err: APIError{StatusCode: 502}, want: "server returned HTTP status 502 Bad Gateway"},
		{err: APIError{Type: "bad_response"}, want: "bad_response"},
		{err: APIError{Message: "only message"}, want: "only message"},
		{err: APIError{}, want: "prometheus returned an error without a message"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			if got := tt.err.Error(); got != tt.want {
				t.Errorf("Error() = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestNewHTTPError(t *testing.T) {
	long := bytes.Repeat([]byte("x"), 2*maxErrorBody)
	tests := []struct {
		name string
		code int
		body []byte
		want *APIError
	}{
		{name: "envelope", code: 400, body: []byte(`{"status":"error","errorType":"bad_data","error":"e"}`), want: &APIError{StatusCode: 400, Type: "bad_data", Message: "e"}},
		{name: "envelope-message-only", code: 400, body: []byte(`{"status":"error","error":"e"}`), want: &APIError{StatusCode: 400, Message: "e"}},
		{name: "success-envelope-is-body", code: 403, body: []byte(`{"status":"success"}`), want: &APIError{StatusCode: 403, Body: `{"status":"success"}`}},
		{name: "text-trimmed", code: 502, body: []byte("\n bad gateway \n"), want: &APIError{StatusCode: 502, Body: "bad gateway"}},
		{name: "long-truncated", code: 500, body: long, want: &APIError{StatusCode: 500, Body: string(long[:maxErrorBody]) + "…"}},
		{name: "empty", code: 504, body: nil, want: &APIError{StatusCode: 504}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if diff := cmp.Diff(tt.want, newHTTPError(tt.code, tt.body)); diff != "" {
				t.Errorf("newHTTPError (-want +got):\n%s", diff)
			}
		})
	}
}

// cannedTransport answers every request in memory, for fuzzing and
// benchmarks that should not measure the network.
type cannedTransport struct {
	status int
	body   []byte
}

func (c cannedTransport) RoundTrip(r *http.Request) (*http.Response, error) {
	return &http.Response{
		StatusCode:    c.status,
		Status:        http.StatusText(c.status),
		Proto:         "HTTP/1.1",
		ProtoMajor:    1,
		ProtoMinor:    1,
		Header:        http.Header{"Content-Type": {"application/json"}},
		Body:          io.NopCloser(bytes.NewReader(c.body)),
		ContentLength: int64(len(c.body)),
		Request:       r,
	}, nil
}

func newCanned(tb testing.TB, status int, body []byte) *Provider {
	tb.Helper()
	p, err := New(metrics.Config{Address: "http://prometheus.invalid:9090"}, withRoundTripper(cannedTransport{status: status, body: body}))
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	return p
}

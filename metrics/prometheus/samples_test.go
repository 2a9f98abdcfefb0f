package prometheus_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/augurproj/augur/metrics"
	"github.com/augurproj/augur/metrics/prometheus"
)

func TestQuerySamples(t *testing.T) {
	srv := newServer(t, 200, readTestdata(t, "matrix.json"))
	p, err := prometheus.New(metrics.Config{Address: srv.URL + "/prefix"})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	at := time.Unix(1795326472, 500e6)
	got, err := p.QuerySamples(t.Context(), "http_requests_total{\n namespace=\"test\"}[1h]", at)
	if err != nil {
		t.Fatalf("QuerySamples: %v", err)
	}
	series := func(pod string, v float64) metrics.Series {
		return metrics.Series{
			Labels:  map[string]string{"__name__": "http_requests_total", "code": "200", "namespace": "test", "pod": pod},
			Samples: []metrics.Sample{{T: time.Unix(1795326472, 0).UTC(), V: v}},
		}
	}
	want := []metrics.Series{series("podinfo-a", 390), series("podinfo-b", 429)}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("series (-want +got):\n%s", diff)
	}
	reqs := srv.requests()
	if len(reqs) != 1 {
		t.Fatalf("server got %d requests, want 1", len(reqs))
	}
	wantReq := seen{
		Method: http.MethodGet,
		Path:   "/prefix/api/v1/query",
		Query:  url.Values{"query": {`http_requests_total{ namespace="test"}[1h]`}, "time": {"1795326472.5"}},
	}
	if diff := cmp.Diff(wantReq, reqs[0], cmpIgnoreHeader, cmp.FilterPath(func(p cmp.Path) bool {
		return p.Last().String() == ".RawQuery"
	}, cmp.Ignore())); diff != "" {
		t.Errorf("request (-want +got):\n%s", diff)
	}
}

func TestQuerySamplesResults(t *testing.T) {
	tests := []struct {
		name    string
		status  int
		body    string
		want    int // series, when no error is wanted
		wantErr string
	}{
		{name: "empty-matrix", status: 200, body: `{"status":"success","data":{"resultType":"matrix","result":[]}}`},
		{name: "vector", status: 200, body: string(readTestdata(t, "vector-1.json")), wantErr: "result is a vector, want a matrix"},
		{name: "scalar", status: 200, body: string(readTestdata(t, "scalar.json")), wantErr: "result is a scalar, want a matrix"},
		{name: "bad-data", status: 400, body: string(readTestdata(t, "bad-data-400.json")), wantErr: "HTTP status 400 Bad Request: bad_data: "},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			srv := newServer(t, tt.status, []byte(tt.body))
			p, err := prometheus.New(metrics.Config{Address: srv.URL})
			if err != nil {
				t.Fatalf("New: %v", err)
			}
			got, err := p.QuerySamples(t.Context(), "up[5m]", time.Unix(1795326472, 0))
			if tt.wantErr == "" {
				if err != nil || got == nil || len(got) != tt.want {
					t.Fatalf("QuerySamples = %#v, %v; want %d series", got, err, tt.want)
				}
				return
			}
			if err == nil {
				t.Fatalf("QuerySamples = %v, want an error", got)
			}
			if !strings.HasPrefix(err.Error(), `prometheus query "up[5m]": `) || !strings.Contains(err.Error(), tt.wantErr) {
				t.Errorf("error %q, want prefix %q and %q", err, `prometheus query "up[5m]": `, tt.wantErr)
			}
		})
	}
}

package prometheus_test

import (
	"net/http"
	"net/url"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/augurproj/augur/metrics"
	"github.com/augurproj/augur/metrics/prometheus"
)

func TestQueryRaw(t *testing.T) {
	body := []byte(`{"status":"success","data":{"resultType":"matrix","result":[` +
		`{"metric":{"__name__":"c","pod":"a"},"values":[[1795326230,"3"],[1795326245,"7"]]}]}}`)
	srv := newServer(t, 200, body)
	p, err := prometheus.New(metrics.Config{Address: srv.URL})
	if err != nil {
		t.Fatal(err)
	}
	start, end := time.Unix(1795326222, 0), time.Unix(1795326282, 0)
	got, err := p.QueryRaw(t.Context(), "c{pod=\"a\"}\n", start, end)
	if err != nil {
		t.Fatal(err)
	}
	want := []metrics.Series{{Labels: map[string]string{"__name__": "c", "pod": "a"}, Samples: []metrics.Sample{
		{T: time.Unix(1795326230, 0).UTC(), V: 3}, {T: time.Unix(1795326245, 0).UTC(), V: 7},
	}}}
	if diff := cmp.Diff(want, got); diff != "" {
		t.Errorf("series (-want +got):\n%s", diff)
	}
	reqs := srv.requests()
	if len(reqs) != 1 {
		t.Fatalf("server got %d requests, want 1", len(reqs))
	}
	wantReq := seen{Method: http.MethodGet, Path: "/api/v1/query", Query: url.Values{
		"query": {`c{pod="a"}[60000ms]`}, "time": {"1795326282"},
	}}
	if diff := cmp.Diff(wantReq, reqs[0], cmpIgnoreHeader, cmp.FilterPath(func(p cmp.Path) bool {
		return p.Last().String() == ".RawQuery"
	}, cmp.Ignore())); diff != "" {
		t.Errorf("request (-want +got):\n%s", diff)
	}
	if _, err := p.QueryRaw(t.Context(), "c", end, start); err == nil {
		t.Error("end before start: no error")
	}
}

package vendors_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/augurproj/augur/metrics"
	"github.com/augurproj/augur/metrics/vendors"
)

// Distinctive credentials: no error text may contain them.
const (
	ddAPI   = "DDAPI-7f3c1e-secret"
	ddApp   = "DDAPP-91b2aa-secret"
	nrKey   = "NRQK-55d0e1-secret"
	dtToken = "DTTOK-0c9b77-secret"
	gPass   = "GPASS-e81f00-secret"
)

var secrets = []string{ddAPI, ddApp, nrKey, dtToken, gPass}

type capture struct {
	mu  sync.Mutex
	req *http.Request
}

// server answers every request with the fixture and status, and records it.
func server(t *testing.T, fixture string, status int, c *capture) string {
	t.Helper()
	var body []byte
	if fixture != "" {
		var err error
		if body, err = os.ReadFile(filepath.Join("testdata", fixture)); err != nil {
			t.Fatal(err)
		}
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		c.mu.Lock()
		c.req = r.Clone(context.Background())
		c.mu.Unlock()
		if status == -1 { // hang past the timeout
			<-r.Context().Done()
			return
		}
		if status >= 400 {
			// A proxy that echoes the request's headers in its error page.
			w.WriteHeader(status)
			for k, v := range r.Header {
				_, _ = w.Write([]byte(k + ": " + strings.Join(v, ",") + "\n"))
			}
			return
		}
		w.Header().Set("Content-Type", "application/json")
		w.WriteHeader(status)
		_, _ = w.Write(body)
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func registry() *metrics.Registry {
	r := &metrics.Registry{}
	vendors.Register(r)
	return r
}

var at = time.Date(2026, 11, 1, 10, 5, 0, 0, time.UTC)

func TestVendorsWireAndAnswers(t *testing.T) {
	type want struct {
		path   string
		params url.Values
		header map[string]string
		value  float64
		err    error // sentinel, or nil for a value
		anyErr bool
	}
	dd := metrics.Config{Type: "datadog", HasSecret: true, Interval: 2 * time.Minute,
		Credentials: map[string]string{"datadog_api_key": ddAPI, "datadog_application_key": ddApp}}
	ddWire := want{path: "/api/v1/query",
		params: url.Values{"query": {"avg:m{*}"}, "from": {"1793526300"}, "to": {"1793527500"}},
		header: map[string]string{"DD-API-KEY": ddAPI, "DD-APPLICATION-KEY": ddApp}}
	nr := metrics.Config{Type: "newrelic", HasSecret: true, Interval: time.Minute,
		Credentials: map[string]string{"newrelic_account_id": "12345", "newrelic_query_key": nrKey}}
	nrWire := want{path: "/v1/accounts/12345/query",
		params: url.Values{"nrql": {"SELECT percentage(count(*), WHERE error IS false) FROM Transaction SINCE 1793527440000 UNTIL 1793527500000"}},
		header: map[string]string{"X-Query-Key": nrKey}}
	dt := metrics.Config{Type: "dynatrace", HasSecret: true, Interval: 30 * time.Second,
		Credentials: map[string]string{"dynatrace_token": dtToken}}
	dtWire := want{path: "/api/v2/metrics/query",
		params: url.Values{"metricSelector": {"builtin:service.response.time:avg"}, "resolution": {"Inf"},
			"from": {"1793527200000"}, "to": {"1793527500000"}},
		header: map[string]string{"Authorization": "Api-Token " + dtToken}}
	gr := metrics.Config{Type: "graphite", HasSecret: true, Credentials: map[string]string{"username": "augur", "password": gPass}}
	grWire := want{path: "/render",
		params: url.Values{"target": {"sumSeries(stats.podinfo.errors)"}, "from": {"-1min"}, "format": {"json"}, "now": {"1793527500"}},
		header: map[string]string{"Authorization": "Basic YXVndXI6R1BBU1MtZTgxZjAwLXNlY3JldA=="}}

	with := func(w want, f func(*want)) want { f(&w); return w }
	cases := []struct {
		name    string
		cfg     metrics.Config
		query   string
		fixture string
		status  int
		want    want
	}{
		{"datadog first point", dd, "avg:m{*}", "datadog-value.json", 200, with(ddWire, func(w *want) { w.value = 0.85 })},
		{"datadog no series", dd, "avg:m{*}", "datadog-empty.json", 200, with(ddWire, func(w *want) { w.err = metrics.ErrNoValues })},
		{"datadog null first point", dd, "avg:m{*}", "datadog-null.json", 200, with(ddWire, func(w *want) { w.err = metrics.ErrNoValues })},
		{"datadog two series", dd, "avg:m{*}", "datadog-two.json", 200, with(ddWire, func(w *want) { w.err = metrics.ErrMultipleValues })},
		{"datadog malformed", dd, "avg:m{*}", "garbage.txt", 200, with(ddWire, func(w *want) { w.anyErr = true })},
		{"datadog 202 is not 200", dd, "avg:m{*}", "datadog-value.json", 202, with(ddWire, func(w *want) { w.anyErr = true })},
		{"datadog 403 echoing keys", dd, "avg:m{*}", "", 403, with(ddWire, func(w *want) { w.anyErr = true })},
		{"datadog 500", dd, "avg:m{*}", "", 500, with(ddWire, func(w *want) { w.anyErr = true })},
		{"datadog timeout", dd, "avg:m{*}", "", -1, with(ddWire, func(w *want) { w.err = context.DeadlineExceeded })},

		{"newrelic result", nr, "SELECT percentage(count(*), WHERE error IS false) FROM Transaction", "newrelic-value.json", 200, with(nrWire, func(w *want) { w.value = 99.21 })},
		{"newrelic null", nr, "SELECT percentage(count(*), WHERE error IS false) FROM Transaction", "newrelic-empty.json", 200, with(nrWire, func(w *want) { w.err = metrics.ErrNoValues })},
		{"newrelic two results", nr, "SELECT percentage(count(*), WHERE error IS false) FROM Transaction", "newrelic-two.json", 200, with(nrWire, func(w *want) { w.err = metrics.ErrMultipleValues })},
		{"newrelic 401 echoing key", nr, "SELECT percentage(count(*), WHERE error IS false) FROM Transaction", "", 401, with(nrWire, func(w *want) { w.anyErr = true })},

		{"dynatrace value", dt, "builtin:service.response.time:avg", "dynatrace-value.json", 200, with(dtWire, func(w *want) { w.value = 183.5 })},
		{"dynatrace no data", dt, "builtin:service.response.time:avg", "dynatrace-empty.json", 200, with(dtWire, func(w *want) { w.err = metrics.ErrNoValues })},
		{"dynatrace null", dt, "builtin:service.response.time:avg", "dynatrace-null.json", 200, with(dtWire, func(w *want) { w.err = metrics.ErrNoValues })},
		{"dynatrace split", dt, "builtin:service.response.time:avg", "dynatrace-two.json", 200, with(dtWire, func(w *want) { w.err = metrics.ErrMultipleValues })},
		{"dynatrace 400 echoing token", dt, "builtin:service.response.time:avg", "", 400, with(dtWire, func(w *want) { w.anyErr = true })},

		{"graphite newest non-null", gr, "target=sumSeries(stats.podinfo.errors)&from=-1min", "graphite-value.json", 200, with(grWire, func(w *want) { w.value = 2.5 })},
		{"graphite all null", gr, "target=sumSeries(stats.podinfo.errors)&from=-1min", "graphite-empty.json", 200, with(grWire, func(w *want) { w.err = metrics.ErrNoValues })},
		{"graphite two targets", gr, "target=sumSeries(stats.podinfo.errors)&from=-1min", "graphite-two.json", 200, with(grWire, func(w *want) { w.err = metrics.ErrMultipleValues })},
		{"graphite 401 echoing auth", gr, "target=sumSeries(stats.podinfo.errors)&from=-1min", "", 401, with(grWire, func(w *want) { w.anyErr = true })},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var c capture
			cfg := tc.cfg
			cfg.Address = server(t, tc.fixture, tc.status, &c)
			cfg.Timeout = 300 * time.Millisecond
			p, err := registry().New(cfg)
			if err != nil {
				t.Fatal(err)
			}
			v, err := p.Query(context.Background(), tc.query, at)
			c.mu.Lock()
			req := c.req
			c.mu.Unlock()
			if req == nil {
				t.Fatal("no request reached the server")
			}
			if req.Method != http.MethodGet || req.URL.Path != tc.want.path {
				t.Errorf("request %s %s, want GET %s", req.Method, req.URL.Path, tc.want.path)
			}
			if got := req.URL.Query(); got.Encode() != tc.want.params.Encode() {
				t.Errorf("query parameters\n got %s\nwant %s", got.Encode(), tc.want.params.Encode())
			}
			for k, v := range tc.want.header {
				if got := req.Header.Get(k); got != v {
					t.Errorf("header %s = %q, want %q", k, got, v)
				}
			}
			switch {
			case tc.want.err != nil:
				if !errors.Is(err, tc.want.err) {
					t.Errorf("error %v, want %v", err, tc.want.err)
				}
			case tc.want.anyErr:
				if err == nil {
					t.Errorf("value %v, want an error", v)
				}
			case err != nil:
				t.Errorf("error %v, want %v", err, tc.want.value)
			case v != tc.want.value:
				t.Errorf("value %v, want %v", v, tc.want.value)
			}
			if err != nil {
				for _, s := range secrets {
					if strings.Contains(err.Error(), s) {
						t.Errorf("error text leaks a credential: %v", err)
					}
				}
			}
		})
	}
}

func TestVendorsRefuseIncompleteConfig(t *testing.T) {
	cases := []struct {
		cfg  metrics.Config
		want string
	}{
		{metrics.Config{Type: "datadog", Credentials: map[string]string{"datadog_api_key": "k"}}, "does not contain datadog_application_key"},
		{metrics.Config{Type: "datadog", Credentials: map[string]string{"datadog_application_key": "k"}}, "does not contain datadog_api_key"},
		{metrics.Config{Type: "newrelic", Credentials: map[string]string{"newrelic_query_key": "k"}}, "does not contain newrelic_account_id"},
		{metrics.Config{Type: "dynatrace", Credentials: map[string]string{"dynatrace_token": "k"}}, "dynatrace endpoint is not set"},
		{metrics.Config{Type: "dynatrace", Address: "https://x.live.dynatrace.com"}, "does not contain dynatrace_token"},
		{metrics.Config{Type: "graphite", Address: "http://g", HasSecret: true, Credentials: map[string]string{"username": "u"}}, "does not contain a password"},
		{metrics.Config{Type: "graphite", Address: "http://user:" + gPass + "@g:badport"}, "<redacted>"},
		{metrics.Config{Type: "cloudwatch", Address: "https://monitoring.eu-west-1.amazonaws.com"}, "region not specified"},
		{metrics.Config{Type: "splunk", Credentials: map[string]string{"sf_token_key": "k"}}, "splunk endpoint is not set"},
		{metrics.Config{Type: "splunk", Address: "https://api.us1.signalfx.com"}, "does not contain sf_token_key"},
		{metrics.Config{Type: "stackdriver", HasSecret: true, Credentials: map[string]string{"serviceAccountKey": "{}"}}, "does not contain a project id"},
		{metrics.Config{Type: "cloudwatch", Region: "eu-west-1", Address: "http://user:" + gPass + "@g:badport"}, "<redacted>"},
	}
	for _, tc := range cases {
		_, err := registry().New(tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) {
			t.Errorf("%s: error %v, want one containing %q", tc.cfg.Type, err, tc.want)
		}
		if err != nil && strings.Contains(err.Error(), gPass) {
			t.Errorf("%s: error leaks the password: %v", tc.cfg.Type, err)
		}
	}
}

// A credential header must not follow a redirect to another host.
func TestVendorsDropCredentialsOnCrossHostRedirect(t *testing.T) {
	var leaked sync.Map
	other := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		for _, h := range []string{"DD-API-KEY", "DD-APPLICATION-KEY", "X-Query-Key", "Authorization"} {
			if r.Header.Get(h) != "" {
				leaked.Store(h, true)
			}
		}
		_, _ = w.Write([]byte(`{"series":[{"pointlist":[[1,1]]}]}`))
	}))
	defer other.Close()
	// 127.0.0.1 and localhost are different hosts to the client.
	otherURL := strings.Replace(other.URL, "127.0.0.1", "localhost", 1)
	first := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		http.Redirect(w, r, otherURL+r.URL.RequestURI(), http.StatusFound)
	}))
	defer first.Close()
	p, err := registry().New(metrics.Config{Type: "datadog", Address: first.URL, Interval: time.Minute,
		Credentials: map[string]string{"datadog_api_key": ddAPI, "datadog_application_key": ddApp}})
	if err != nil {
		t.Fatal(err)
	}
	if _, err := p.Query(context.Background(), "avg:m{*}", at); err != nil {
		t.Fatal(err)
	}
	leaked.Range(func(k, _ any) bool { t.Errorf("header %s followed the redirect to another host", k); return true })
}

// Describe (what `augur render` prints) is the live request on the wire:
// the same method, path and parameters but the window's, and no credential.
func TestVendorsDescribeIsTheRequest(t *testing.T) {
	cases := []struct {
		cfg    metrics.Config
		query  string
		window []string
	}{
		{metrics.Config{Type: "datadog", HasSecret: true, Interval: time.Minute,
			Credentials: map[string]string{"datadog_api_key": ddAPI, "datadog_application_key": ddApp}}, "avg:m{*}", []string{"from", "to"}},
		{metrics.Config{Type: "newrelic", HasSecret: true, Interval: time.Minute,
			Credentials: map[string]string{"newrelic_account_id": "12345", "newrelic_query_key": nrKey}}, "SELECT count(*) FROM Transaction", nil},
		{metrics.Config{Type: "dynatrace", HasSecret: true, Interval: time.Minute,
			Credentials: map[string]string{"dynatrace_token": dtToken}}, "builtin:service.errors.total.rate", []string{"from", "to"}},
		{metrics.Config{Type: "graphite", HasSecret: true, Credentials: map[string]string{"username": "u", "password": gPass}},
			"target=sumSeries(a.b)&from=-5min", nil},
		{metrics.Config{Type: "influxdb", HasSecret: true, Credentials: map[string]string{"token": gPass, "org": "o"}},
			`from(bucket: "b") |> range(start: -1m) |> mean()`, nil},
	}
	for _, tc := range cases {
		var c capture
		var body []byte
		srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
			c.mu.Lock()
			c.req = r.Clone(context.Background())
			body, _ = io.ReadAll(r.Body)
			c.mu.Unlock()
		}))
		cfg := tc.cfg
		cfg.Address = srv.URL
		p, err := registry().New(cfg)
		if err != nil {
			t.Fatal(err)
		}
		_, _ = p.Query(context.Background(), tc.query, time.Time{})
		srv.Close()
		d, err := p.(metrics.Describer).Describe(tc.query)
		if err != nil {
			t.Fatalf("%s: %v", cfg.Type, err)
		}
		u, err := url.Parse(d.URL)
		if err != nil {
			t.Fatal(err)
		}
		c.mu.Lock()
		got := c.req.URL.Query()
		for _, k := range tc.window {
			got.Del(k)
		}
		if d.Method != c.req.Method || u.Path != c.req.URL.Path || u.Query().Encode() != got.Encode() || d.Body != string(body) || d.Window == "" {
			t.Errorf("%s: described %s %s %q (window %q), sent %s %s?%s %q", cfg.Type, d.Method, u.Path, u.RawQuery, d.Window,
				c.req.Method, c.req.URL.Path, got.Encode(), body)
		}
		c.mu.Unlock()
		for _, s := range secrets {
			if strings.Contains(d.URL+d.Body+d.Window, s) {
				t.Errorf("%s: description leaks a credential", cfg.Type)
			}
		}
	}
}

package providers

import (
	"context"
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	flaggerv1 "github.com/fluxcd/flagger/pkg/apis/flagger/v1beta1"
	fp "github.com/fluxcd/flagger/pkg/metrics/providers"
	corev1 "k8s.io/api/core/v1"

	"github.com/augurproj/augur/metrics"
	"github.com/augurproj/augur/metrics/vendors"
)

// request is what one provider put on the wire.
type request struct {
	Method, Path string
	Host         string
	Query        url.Values
	Header       http.Header
	Body         string
	At           time.Time // when the request arrived
}

// answer is one shape the loopback server answers with.
type answer struct {
	name        string
	status      int
	contentType string
	body        string
	hang        bool // answer only after the client gave up (timeouts)
}

// backend is a loopback server that records every request and answers with
// one fixed shape.
type backend struct {
	srv  *httptest.Server
	mu   sync.Mutex
	reqs []request
}

func newBackend(t *testing.T, a answer) *backend {
	t.Helper()
	b := &backend{}
	b.srv = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		var body []byte
		if r.Body != nil {
			body = make([]byte, 0, 1024)
			buf := make([]byte, 1024)
			for {
				n, err := r.Body.Read(buf)
				body = append(body, buf[:n]...)
				if err != nil || len(body) > 1<<20 {
					break
				}
			}
		}
		b.mu.Lock()
		b.reqs = append(b.reqs, request{Method: r.Method, Path: r.URL.Path, Host: r.Host, Query: r.URL.Query(),
			Header: r.Header.Clone(), Body: string(body), At: time.Now()})
		b.mu.Unlock()
		if a.hang {
			select {
			case <-r.Context().Done():
			case <-time.After(20 * time.Second):
			}
			return
		}
		ct := a.contentType
		if ct == "" {
			ct = "application/json"
		}
		w.Header().Set("Content-Type", ct)
		w.WriteHeader(a.status)
		_, _ = w.Write([]byte(a.body))
	}))
	t.Cleanup(b.srv.Close)
	return b
}

// take returns the requests recorded since the last call.
func (b *backend) take() []request {
	b.mu.Lock()
	defer b.mu.Unlock()
	r := b.reqs
	b.reqs = nil
	return r
}

// outcome names what a provider made of an answer: "value 2.5", "no values",
// "multiple values", "timeout" or "error".
func outcome(v float64, err error) string {
	switch {
	case err == nil:
		return "value " + strconv.FormatFloat(v, 'g', -1, 64)
	case errors.Is(err, fp.ErrNoValuesFound), errors.Is(err, metrics.ErrNoValues):
		return "no values"
	case errors.Is(err, fp.ErrMultipleValuesReturned), errors.Is(err, metrics.ErrMultipleValues):
		return "multiple values"
	case errors.Is(err, context.DeadlineExceeded), strings.Contains(err.Error(), context.DeadlineExceeded.Error()):
		// Flagger's influxdb provider formats the client's error with %s.
		return "timeout"
	default:
		return "error"
	}
}

// runner is one side (Flagger's or augur's provider) of a vendor.
type runner func(query string) (float64, error)

// vendor builds both sides for one provider type.
type vendor struct {
	typ string
	// flagger and augur build the providers for a base address and a metric interval.
	flagger func(t *testing.T, addr, interval string) runner
	augur   func(t *testing.T, addr string, interval time.Duration) runner
	// headers are the request headers that must be the same on both sides.
	headers []string
	// window names the query parameters holding the window's start and end
	// (Flagger takes them from time.Now(): the ends may differ by the
	// tolerance, the window's length may not). unit is what one step of
	// the parameters is worth; the ends are compared after taking away the
	// time between the two requests (a timeout case waits for Flagger's
	// client to give up before augur's request is sent).
	from, to  string
	tolerance int64
	unit      time.Duration
}

func creds(kv ...string) map[string][]byte {
	m := map[string][]byte{}
	for i := 0; i+1 < len(kv); i += 2 {
		m[kv[i]] = []byte(kv[i+1])
	}
	return m
}

func strCreds(m map[string][]byte) map[string]string {
	out := map[string]string{}
	for k, v := range m {
		out[k] = string(v)
	}
	return out
}

func augurSide(t *testing.T, typ, addr string, interval time.Duration, c map[string][]byte) runner {
	t.Helper()
	r := &metrics.Registry{}
	vendors.Register(r)
	p, err := r.New(metrics.Config{Type: typ, Address: addr, Credentials: strCreds(c), HasSecret: c != nil, Interval: interval})
	if err != nil {
		t.Fatalf("augur %s provider: %v", typ, err)
	}
	return func(q string) (float64, error) { return p.Query(context.Background(), q, time.Time{}) }
}

var (
	ddCreds = creds("datadog_api_key", "dd-api-secret", "datadog_application_key", "dd-app-secret")
	nrCreds = creds("newrelic_account_id", "123456", "newrelic_query_key", "nr-query-secret")
	dtCreds = creds("dynatrace_token", "dt-token-secret")
	grCreds = creds("username", "graphite-user", "password", "graphite-secret")
	inCreds = creds("token", "influx-token-secret", "org", "my org")
)

func spec(typ, addr string, secret bool) flaggerv1.MetricTemplateProvider {
	p := flaggerv1.MetricTemplateProvider{Type: typ, Address: addr}
	if secret {
		p.SecretRef = &corev1.LocalObjectReference{Name: typ + "-secret"}
	}
	return p
}

var sides = map[string]vendor{
	"datadog": {
		typ: "datadog",
		flagger: func(t *testing.T, addr, interval string) runner {
			p, err := fp.NewDatadogProvider(interval, spec("datadog", addr, true), ddCreds)
			if err != nil {
				t.Fatalf("flagger datadog provider: %v", err)
			}
			return p.RunQuery
		},
		augur: func(t *testing.T, addr string, interval time.Duration) runner {
			return augurSide(t, "datadog", addr, interval, ddCreds)
		},
		headers: []string{"DD-API-KEY", "DD-APPLICATION-KEY"},
		from:    "from", to: "to", tolerance: 5, unit: time.Second,
	},
	"newrelic": {
		typ: "newrelic",
		flagger: func(t *testing.T, addr, interval string) runner {
			p, err := fp.NewNewRelicProvider(interval, spec("newrelic", addr, true), nrCreds)
			if err != nil {
				t.Fatalf("flagger newrelic provider: %v", err)
			}
			return p.RunQuery
		},
		augur: func(t *testing.T, addr string, interval time.Duration) runner {
			return augurSide(t, "newrelic", addr, interval, nrCreds)
		},
		headers: []string{"X-Query-Key"},
	},
	"dynatrace": {
		typ: "dynatrace",
		flagger: func(t *testing.T, addr, interval string) runner {
			p, err := fp.NewDynatraceProvider(interval, spec("dynatrace", addr, true), dtCreds)
			if err != nil {
				t.Fatalf("flagger dynatrace provider: %v", err)
			}
			return p.RunQuery
		},
		augur: func(t *testing.T, addr string, interval time.Duration) runner {
			return augurSide(t, "dynatrace", addr, interval, dtCreds)
		},
		headers: []string{"Authorization"},
		from:    "from", to: "to", tolerance: 5000, unit: time.Millisecond,
	},
	"graphite": {
		typ: "graphite",
		flagger: func(t *testing.T, addr, _ string) runner {
			p, err := fp.NewGraphiteProvider(spec("graphite", addr, true), grCreds)
			if err != nil {
				t.Fatalf("flagger graphite provider: %v", err)
			}
			return p.RunQuery
		},
		augur: func(t *testing.T, addr string, _ time.Duration) runner {
			return augurSide(t, "graphite", addr, 0, grCreds)
		},
		headers: []string{"Authorization"},
	},
	"influxdb": {
		typ: "influxdb",
		flagger: func(t *testing.T, addr, _ string) runner {
			p, err := fp.NewInfluxdbProvider(spec("influxdb", addr, true), inCreds)
			if err != nil {
				t.Fatalf("flagger influxdb provider: %v", err)
			}
			return p.RunQuery
		},
		augur: func(t *testing.T, addr string, _ time.Duration) runner {
			return augurSide(t, "influxdb", addr, 0, inCreds)
		},
		headers: []string{"Authorization", "Content-Type"},
	},
}

// sameRequest fails t unless f (Flagger's request) and a (augur's) agree.
func sameRequest(t *testing.T, v vendor, f, a request) {
	t.Helper()
	if f.Method != a.Method || f.Path != a.Path {
		t.Errorf("request line: flagger %s %s, augur %s %s", f.Method, f.Path, a.Method, a.Path)
	}
	keys := map[string]bool{}
	for k := range f.Query {
		keys[k] = true
	}
	for k := range a.Query {
		keys[k] = true
	}
	for k := range keys {
		if v.from != "" && (k == v.from || k == v.to) {
			continue
		}
		fv, av := f.Query[k], a.Query[k]
		if len(fv) != len(av) || len(fv) > 0 && fv[0] != av[0] || len(fv) > 1 && fv[1] != av[1] {
			t.Errorf("query parameter %q: flagger %q, augur %q", k, fv, av)
		}
	}
	if v.from != "" {
		num := func(r request, k string) int64 {
			n, err := strconv.ParseInt(r.Query.Get(k), 10, 64)
			if err != nil {
				t.Fatalf("query parameter %q=%q is not an integer", k, r.Query.Get(k))
			}
			return n
		}
		ff, ft, af, at := num(f, v.from), num(f, v.to), num(a, v.from), num(a, v.to)
		if ft-ff != at-af {
			t.Errorf("window length: flagger %d (%s=%d %s=%d), augur %d (%s=%d %s=%d)",
				ft-ff, v.from, ff, v.to, ft, at-af, v.from, af, v.to, at)
		}
		gap := int64(a.At.Sub(f.At) / v.unit)
		if d := at - ft - gap; d < -v.tolerance || d > v.tolerance {
			t.Errorf("window end: flagger %d, augur %d, requests %d apart (ends more than %d apart once that is taken away)", ft, at, gap, v.tolerance)
		}
	}
	for _, h := range v.headers {
		if f.Header.Get(h) != a.Header.Get(h) {
			t.Errorf("header %s: flagger %q, augur %q", h, f.Header.Get(h), a.Header.Get(h))
		}
		if f.Header.Get(h) == "" {
			t.Errorf("header %s: flagger sent none (the test expects a credential header)", h)
		}
	}
	if f.Body != a.Body {
		t.Errorf("body: flagger %q, augur %q", f.Body, a.Body)
	}
}

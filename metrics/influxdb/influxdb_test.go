package influxdb_test

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/augurproj/augur/metrics"
	"github.com/augurproj/augur/metrics/influxdb"
)

const token = "INFLUXTOK-3a9f-secret"

// Annotated CSV answers as InfluxDB v2 writes them.
const (
	header = "#datatype,string,long,dateTime:RFC3339,dateTime:RFC3339,double,string,string\n" +
		"#group,false,false,true,true,false,true,true\n" +
		"#default,_result,,,,,,\n" +
		",result,table,_start,_stop,_value,_field,_measurement\n"
	oneRow  = header + ",,0,2026-11-01T10:00:00Z,2026-11-01T10:05:00Z,0.995,ratio,http\n\n"
	twoRows = header + ",,0,2026-11-01T10:00:00Z,2026-11-01T10:05:00Z,0.5,ratio,http\n" +
		",,0,2026-11-01T10:00:00Z,2026-11-01T10:05:00Z,0.7,ratio,http\n\n"
	twoTables = header + ",,0,2026-11-01T10:00:00Z,2026-11-01T10:05:00Z,0.5,ratio,http\n" +
		",,1,2026-11-01T10:00:00Z,2026-11-01T10:05:00Z,0.7,ratio,grpc\n\n"
	twoBlocks = oneRow + "#datatype,string,long,double\n#group,false,false,false\n#default,_result,,\n,result,table,_value\n,,1,3\n\n"
	nullValue = header + ",,0,2026-11-01T10:00:00Z,2026-11-01T10:05:00Z,,ratio,http\n\n"
	defValue  = "#datatype,string,long,double\n#group,false,false,false\n#default,_result,,4.25\n,result,table,_value\n,,0,\n\n"
	nanValue  = header + ",,0,2026-11-01T10:00:00Z,2026-11-01T10:05:00Z,NaN,ratio,http\n\n"
	longValue = "#datatype,string,long,long\n#group,false,false,false\n#default,_result,,\n,result,table,_value\n,,0,42\n\n"
	noValue   = "#datatype,string,long,string\n#group,false,false,false\n#default,_result,,\n,result,table,_field\n,,0,x\n\n"
	errTable  = "#datatype,string,string\n#group,true,true\n#default,,\n,error,reference\n,\"runtime error @1:1-1:10: from: bucket \"\"nope\"\" not found\",897\n\n"
	ragged    = header + ",,0,2026-11-01T10:00:00Z,0.5\n"
	noAnnot   = ",result,table,_value\n,,0,1\n"
)

type seen struct {
	mu                          sync.Mutex
	method, path, org, ct, auth string
	body                        string
}

func serve(t *testing.T, status int, answer string, s *seen) string {
	t.Helper()
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		s.mu.Lock()
		s.method, s.path, s.org, s.ct, s.auth, s.body = r.Method, r.URL.Path, r.URL.Query().Get("org"),
			r.Header.Get("Content-Type"), r.Header.Get("Authorization"), string(b)
		s.mu.Unlock()
		if status == -1 {
			<-r.Context().Done()
			return
		}
		if status >= 400 { // a proxy echoing the request's headers
			w.WriteHeader(status)
			_, _ = w.Write([]byte("Authorization: " + r.Header.Get("Authorization")))
			return
		}
		w.Header().Set("Content-Type", "text/csv; charset=utf-8")
		w.WriteHeader(status)
		_, _ = w.Write([]byte(answer))
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

func TestQuery(t *testing.T) {
	const flux = `from(bucket: "app") |> range(start: -5m) |> filter(fn: (r) => r._measurement == "http") |> mean()`
	cases := []struct {
		name   string
		status int
		answer string
		value  float64
		err    error // sentinel; nil with anyErr false means a value
		anyErr string
	}{
		{name: "one row", status: 200, answer: oneRow, value: 0.995},
		{name: "first of two rows in one table", status: 200, answer: twoRows, value: 0.5},
		{name: "default value of an empty cell", status: 200, answer: defValue, value: 4.25},
		{name: "no rows (Flagger: 0)", status: 200, answer: "", err: metrics.ErrNoValues},
		{name: "only annotations", status: 200, answer: header + "\n", err: metrics.ErrNoValues},
		{name: "empty value", status: 200, answer: nullValue, err: metrics.ErrNoValues},
		{name: "no _value column", status: 200, answer: noValue, err: metrics.ErrNoValues},
		{name: "NaN", status: 200, answer: nanValue, err: metrics.ErrNoValues},
		{name: "two tables", status: 200, answer: twoTables, err: metrics.ErrMultipleValues},
		{name: "two blocks", status: 200, answer: twoBlocks, err: metrics.ErrMultipleValues},
		{name: "long value", status: 200, answer: longValue, anyErr: "is a long, want a double"},
		{name: "error table (Flagger: 0)", status: 200, answer: errTable, anyErr: `bucket "nope" not found (reference 897)`},
		{name: "ragged row", status: 200, answer: ragged, anyErr: "malformed annotated CSV"},
		{name: "no annotations", status: 200, answer: noAnnot, anyErr: "before any annotation"},
		{name: "unauthorized", status: 401, anyErr: "401"},
		{name: "server error", status: 500, anyErr: "500"},
		{name: "timeout", status: -1, err: context.DeadlineExceeded},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			var s seen
			addr := serve(t, tc.status, tc.answer, &s)
			r := &metrics.Registry{}
			influxdb.Register(r)
			timeout := 30 * time.Second // answers must never race the client's deadline on a loaded machine
			if tc.status == -1 {
				timeout = 300 * time.Millisecond
			}
			p, err := r.New(metrics.Config{Type: "influxdb", Address: addr + "/prefix/", HasSecret: true,
				Credentials: map[string]string{"token": token, "org": "my org"}, Timeout: timeout})
			if err != nil {
				t.Fatal(err)
			}
			v, err := p.Query(context.Background(), flux, time.Time{})
			s.mu.Lock()
			defer s.mu.Unlock()
			if s.method != http.MethodPost || s.path != "/prefix/api/v2/query" || s.org != "my org" ||
				s.ct != "application/json" || s.auth != "Token "+token {
				t.Errorf("request: %s %s org=%q Content-Type=%q Authorization=%q", s.method, s.path, s.org, s.ct, s.auth)
			}
			want, _ := influxdb.Body(flux, time.Time{})
			if s.body != string(want) || !strings.Contains(s.body, `"type":"flux"`) {
				t.Errorf("body %s, want %s", s.body, want)
			}
			if err != nil && strings.Contains(err.Error(), token) {
				t.Errorf("error leaks the token: %v", err)
			}
			switch {
			case tc.err != nil:
				if !errors.Is(err, tc.err) {
					t.Errorf("got %v, %v; want %v", v, err, tc.err)
				}
			case tc.anyErr != "":
				if err == nil || !strings.Contains(err.Error(), tc.anyErr) {
					t.Errorf("got %v, %v; want an error containing %q", v, err, tc.anyErr)
				}
				if errors.Is(err, metrics.ErrNoValues) || errors.Is(err, metrics.ErrMultipleValues) {
					t.Errorf("error %v must not be a result-shape sentinel", err)
				}
			default:
				if err != nil || v != tc.value {
					t.Errorf("got %v, %v; want %v", v, err, tc.value)
				}
			}
		})
	}
}

func TestNew(t *testing.T) {
	cases := []struct {
		cfg  metrics.Config
		want string
	}{
		{metrics.Config{Type: "influxdb"}, "not a valid URL"},
		{metrics.Config{Type: "influxdb", Address: "http://i", HasSecret: true, Credentials: map[string]string{"org": "o"}}, "does not contain an authentication token"},
		{metrics.Config{Type: "influxdb", Address: "http://i", HasSecret: true, Credentials: map[string]string{"token": "t"}}, "does not contain an organisation"},
		{metrics.Config{Type: "influxdb", Address: "http://u:" + token + "@i:bad"}, "<redacted>"},
	}
	for _, tc := range cases {
		_, err := influxdb.New(tc.cfg)
		if err == nil || !strings.Contains(err.Error(), tc.want) || strings.Contains(err.Error(), token) {
			t.Errorf("%+v: error %v, want one containing %q and no token", tc.cfg.Address, err, tc.want)
		}
	}
	// Without a secretRef: no Authorization header, an empty org (as Flagger's client sends).
	var s seen
	addr := serve(t, 200, oneRow, &s)
	p, err := influxdb.New(metrics.Config{Type: "influxdb", Address: addr})
	if err != nil {
		t.Fatal(err)
	}
	if v, err := p.Query(context.Background(), "x", time.Time{}); err != nil || v != 0.995 {
		t.Fatalf("got %v, %v", v, err)
	}
	if s.auth != "" || s.org != "" || p.URL().RawQuery != "org=" {
		t.Errorf("without a secret: Authorization %q, org %q, URL %s", s.auth, s.org, p.URL())
	}
}

// A query at a past time sends it as the API's "now"; a live one sends
// exactly the client's body.
func TestQueryAtSendsNow(t *testing.T) {
	var s seen
	addr := serve(t, 200, oneRow, &s)
	p, err := influxdb.New(metrics.Config{Type: "influxdb", Address: addr})
	if err != nil {
		t.Fatal(err)
	}
	// The canned answer's range ends at 10:05Z, as a server honouring now answers.
	at := time.Date(2026, 11, 1, 11, 5, 0, 0, time.FixedZone("CET", 3600))
	if _, err := p.Query(context.Background(), "x", at); err != nil {
		t.Fatal(err)
	}
	if !strings.HasSuffix(s.body, `"type":"flux","now":"2026-11-01T10:05:00Z"}`) {
		t.Errorf("body %s lacks now", s.body)
	}
	// A range ending after the time sent: the server ignored now (InfluxDB 1.8 does).
	_, err = p.Query(context.Background(), "x", at.Add(-time.Hour))
	if err == nil || !strings.Contains(err.Error(), "the server ignored the evaluation time") {
		t.Errorf("an answer for the server's own now: %v", err)
	}
	if _, err := p.Query(context.Background(), "x", time.Time{}); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(s.body, `"now"`) {
		t.Errorf("a live query sent now: %s", s.body)
	}
}

// FuzzFirstValue: any answer is read without a panic, and a value comes only
// with at least one row.
func FuzzFirstValue(f *testing.F) {
	for _, s := range []string{oneRow, twoRows, twoTables, twoBlocks, nullValue, defValue, errTable, ragged, noAnnot, ""} {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		got, err := influxdb.FirstValue(b)
		if err == nil && got.Value != "" && got.Rows == 0 {
			t.Fatalf("a value without rows: %+v", got)
		}
	})
}

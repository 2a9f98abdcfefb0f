package cloudwatch_test

import (
	"context"
	"encoding/pem"
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
	"github.com/augurproj/augur/metrics/cloudwatch"
)

// Distinctive credentials: no error text may contain them.
const (
	keyID  = "AKIAAUGURTESTKEY0001"
	secret = "augur/test/secret+key/0001"
	token  = "augur-session-token-0001"
)

// awsEnv gives the default chain static credentials from the environment
// and nothing else to find (no shared files, no instance metadata).
func awsEnv(t *testing.T) {
	t.Helper()
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": keyID, "AWS_SECRET_ACCESS_KEY": secret, "AWS_SESSION_TOKEN": token,
		"AWS_CONFIG_FILE": filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED": "true", "AWS_PROFILE": "", "AWS_CA_BUNDLE": "", "AWS_ENDPOINT_URL": "", "AWS_ENDPOINT_URL_CLOUDWATCH": "",
		"AWS_WEB_IDENTITY_TOKEN_FILE": "", "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI": "", "AWS_CONTAINER_CREDENTIALS_FULL_URI": "",
	} {
		t.Setenv(k, v)
	}
}

type seen struct {
	mu   sync.Mutex
	req  *http.Request
	body string
}

func (s *seen) get() (*http.Request, string) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.req, s.body
}

// server answers with the fixture and status (-1: hang until the client
// gives up) and records the request.
func server(t *testing.T, fixture string, status int, s *seen) string {
	t.Helper()
	var answer []byte
	if fixture != "" {
		var err error
		if answer, err = os.ReadFile(filepath.Join("testdata", fixture)); err != nil {
			t.Fatal(err)
		}
	}
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(r.Body)
		s.mu.Lock()
		s.req, s.body = r.Clone(context.Background()), string(b)
		s.mu.Unlock()
		if status == -1 {
			<-r.Context().Done()
			return
		}
		w.Header().Set("Content-Type", "text/xml")
		w.WriteHeader(status)
		_, _ = w.Write(answer)
		if status >= 400 { // a proxy that echoes the request's headers
			for k, v := range r.Header {
				_, _ = w.Write([]byte(k + ": " + strings.Join(v, ",") + "\n"))
			}
		}
	}))
	t.Cleanup(srv.Close)
	return srv.URL
}

const query = `[
  {"Id": "e1", "Expression": "m1 / m2", "Label": "error rate"},
  {"Id": "m1", "ReturnData": false, "MetricStat": {"Metric": {"Namespace": "AWS/ApplicationELB", "MetricName": "HTTPCode_Target_5XX_Count",
    "Dimensions": [{"Name": "LoadBalancer", "Value": "app/podinfo/1234"}]}, "Period": 60, "Stat": "Sum", "Unit": "Count"}},
  {"id": "m2", "returnData": false, "metricStat": {"metric": {"namespace": "AWS/ApplicationELB", "metricName": "RequestCount",
    "dimensions": []}, "period": 60, "stat": "Sum"}, "comment": "unknown fields are ignored"}
]`

// wantBody is what the AWS SDK's query-protocol encoder writes for query at
// 10:05 with a 1 m interval (form-encoded, keys sorted).
var wantBody = url.Values{
	"Action": {"GetMetricData"}, "Version": {"2010-08-01"}, "MaxDatapoints": {"20"},
	"StartTime": {"2026-11-01T09:55:00Z"}, "EndTime": {"2026-11-01T10:05:00Z"},
	"MetricDataQueries.member.1.Id":                                          {"e1"},
	"MetricDataQueries.member.1.Expression":                                  {"m1 / m2"},
	"MetricDataQueries.member.1.Label":                                       {"error rate"},
	"MetricDataQueries.member.2.Id":                                          {"m1"},
	"MetricDataQueries.member.2.ReturnData":                                  {"false"},
	"MetricDataQueries.member.2.MetricStat.Metric.Namespace":                 {"AWS/ApplicationELB"},
	"MetricDataQueries.member.2.MetricStat.Metric.MetricName":                {"HTTPCode_Target_5XX_Count"},
	"MetricDataQueries.member.2.MetricStat.Metric.Dimensions.member.1.Name":  {"LoadBalancer"},
	"MetricDataQueries.member.2.MetricStat.Metric.Dimensions.member.1.Value": {"app/podinfo/1234"},
	"MetricDataQueries.member.2.MetricStat.Period":                           {"60"},
	"MetricDataQueries.member.2.MetricStat.Stat":                             {"Sum"},
	"MetricDataQueries.member.2.MetricStat.Unit":                             {"Count"},
	"MetricDataQueries.member.3.Id":                                          {"m2"},
	"MetricDataQueries.member.3.ReturnData":                                  {"false"},
	"MetricDataQueries.member.3.MetricStat.Metric.Namespace":                 {"AWS/ApplicationELB"},
	"MetricDataQueries.member.3.MetricStat.Metric.MetricName":                {"RequestCount"},
	"MetricDataQueries.member.3.MetricStat.Metric.Dimensions":                {""},
	"MetricDataQueries.member.3.MetricStat.Period":                           {"60"},
	"MetricDataQueries.member.3.MetricStat.Stat":                             {"Sum"},
}.Encode()

var at = time.Date(2026, 11, 1, 10, 5, 0, 0, time.UTC)

func provider(t *testing.T, addr string) *cloudwatch.Provider {
	t.Helper()
	p, err := cloudwatch.New(metrics.Config{Type: "cloudwatch", Address: addr, Region: "eu-west-1",
		Interval: time.Minute, Timeout: 2 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestQueryWireAndAnswers(t *testing.T) {
	cases := []struct {
		fixture string
		status  int
		value   float64
		err     error // a sentinel, errAny, or nil for a value
	}{
		{"value.xml", 200, 0.0125, nil},
		{"empty.xml", 200, 0, metrics.ErrNoValues},
		{"novalues.xml", 200, 0, metrics.ErrNoValues},
		{"two.xml", 200, 0, metrics.ErrMultipleValues},
		{"denied.xml", 403, 0, errAny},
		{"validation.xml", 400, 0, errAny},
		{"", 500, 0, errAny},
		{"", 302, 0, errAny}, // a signed request follows no redirect
		{"denied.xml", 200, 0, errAny},
		{"", -1, 0, context.DeadlineExceeded},
	}
	for _, tc := range cases {
		t.Run(tc.fixture+"/"+http.StatusText(tc.status), func(t *testing.T) {
			awsEnv(t)
			var s seen
			p := provider(t, server(t, tc.fixture, tc.status, &s))
			v, err := p.Query(context.Background(), query, at)
			req, body := s.get()
			if req == nil {
				t.Fatal("no request reached the server")
			}
			if req.Method != http.MethodPost || req.URL.Path != "/" || req.URL.RawQuery != "" {
				t.Errorf("request %s %s, want POST /", req.Method, req.URL)
			}
			if got := req.Header.Get("Content-Type"); got != "application/x-www-form-urlencoded; charset=utf-8" {
				t.Errorf("Content-Type %q", got)
			}
			if body != wantBody {
				t.Errorf("body\n got %s\nwant %s", body, wantBody)
			}
			auth := req.Header.Get("Authorization")
			if !strings.HasPrefix(auth, "AWS4-HMAC-SHA256 Credential="+keyID+"/") ||
				!strings.Contains(auth, "/eu-west-1/monitoring/aws4_request, SignedHeaders=") ||
				!strings.Contains(auth, "x-amz-date") || !strings.Contains(auth, "x-amz-security-token") {
				t.Errorf("Authorization %q is not a SigV4 signature for eu-west-1/monitoring", auth)
			}
			if req.Header.Get("X-Amz-Security-Token") != token || req.Header.Get("X-Amz-Date") == "" {
				t.Errorf("X-Amz-Security-Token %q, X-Amz-Date %q", req.Header.Get("X-Amz-Security-Token"), req.Header.Get("X-Amz-Date"))
			}
			switch {
			case tc.err == errAny:
				if err == nil || errors.Is(err, metrics.ErrNoValues) || errors.Is(err, metrics.ErrMultipleValues) {
					t.Errorf("got %v, %v; want an error", v, err)
				}
			case tc.err != nil:
				if !errors.Is(err, tc.err) {
					t.Errorf("error %v, want %v", err, tc.err)
				}
			case err != nil || v != tc.value:
				t.Errorf("got %v, %v; want %v", v, err, tc.value)
			}
			if err != nil {
				for _, c := range []string{keyID, secret, token} {
					if strings.Contains(err.Error(), c) {
						t.Errorf("error text leaks a credential: %v", err)
					}
				}
			}
		})
	}
}

var errAny = errors.New("any error")

func TestQueryRefusedBeforeSending(t *testing.T) {
	awsEnv(t)
	cases := map[string]string{
		`{"Id":"m1"}`:          "error unmarshaling query",
		`null`:                 "MetricDataQueries",
		`[{"Expression":"1"}]`: "MetricDataQueries[0].Id",
		`[{"Id":""}]`:          "MetricDataQueries[0].Id must not be empty",
		`[{"Id":"m","MetricStat":{"Period":60,"Stat":"Sum"}}]`:                                       "MetricDataQueries[0].MetricStat.Metric",
		`[{"Id":"m","MetricStat":{"Metric":{},"Stat":"Sum"}}]`:                                       "MetricDataQueries[0].MetricStat.Period",
		`[{"Id":"m","MetricStat":{"Metric":{"Dimensions":[{"Name":"a"}]},"Period":1,"Stat":"p99"}}]`: "Dimensions[0].Value",
		`[{"Id":"m","Period":0}]`: "Period must be at least 1",
	}
	var s seen
	p := provider(t, server(t, "value.xml", 200, &s))
	for q, want := range cases {
		_, err := p.Query(context.Background(), q, at)
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("%s: error %v, want one containing %q", q, err, want)
		}
		if _, err := p.Describe(q); err == nil {
			t.Errorf("%s: Describe accepted it", q)
		}
	}
	if req, _ := s.get(); req != nil {
		t.Errorf("an invalid query reached the server")
	}
}

func TestNewNeedsARegion(t *testing.T) {
	awsEnv(t)
	_, err := cloudwatch.New(metrics.Config{Type: "cloudwatch"})
	if err == nil || !strings.Contains(err.Error(), "region not specified") {
		t.Errorf("error %v, want region not specified", err)
	}
	if got := cloudwatch.Endpoint("us-east-1"); got != "https://monitoring.us-east-1.amazonaws.com" {
		t.Errorf("endpoint %s", got)
	}
	if got := cloudwatch.Endpoint("cn-north-1"); got != "https://monitoring.cn-north-1.amazonaws.com.cn" {
		t.Errorf("endpoint %s", got)
	}
}

func TestEndpointFromEnvironment(t *testing.T) {
	awsEnv(t)
	var s seen
	t.Setenv("AWS_ENDPOINT_URL_CLOUDWATCH", server(t, "value.xml", 200, &s))
	p, err := cloudwatch.New(metrics.Config{Type: "cloudwatch", Region: "us-west-2"})
	if err != nil {
		t.Fatal(err)
	}
	if v, err := p.Query(context.Background(), query, at); err != nil || v != 0.0125 {
		t.Fatalf("got %v, %v", v, err)
	}
}

func TestMissingCredentialsIsAnError(t *testing.T) {
	awsEnv(t)
	t.Setenv("AWS_ACCESS_KEY_ID", "")
	t.Setenv("AWS_SECRET_ACCESS_KEY", "")
	t.Setenv("AWS_SESSION_TOKEN", "")
	var s seen
	p := provider(t, server(t, "value.xml", 200, &s))
	if _, err := p.Query(context.Background(), query, at); err == nil || !strings.Contains(err.Error(), "credentials") {
		t.Errorf("error %v, want one about credentials", err)
	}
	if req, _ := s.get(); req != nil {
		t.Errorf("an unsigned request was sent")
	}
}

func TestIsOnline(t *testing.T) {
	cases := []struct {
		fixture string
		status  int
		online  bool
	}{
		{"validation.xml", 400, true}, // credentials accepted, the empty query refused
		{"empty.xml", 200, true},
		{"denied.xml", 403, false},
		{"", 500, false},
	}
	for _, tc := range cases {
		awsEnv(t)
		var s seen
		p := provider(t, server(t, tc.fixture, tc.status, &s))
		err := p.IsOnline(context.Background())
		if (err == nil) != tc.online {
			t.Errorf("status %d: IsOnline %v, want online %v", tc.status, err, tc.online)
		}
		_, body := s.get()
		want := "Action=GetMetricData&EndTime=0001-01-01T00%3A00%3A00Z&MetricDataQueries=&StartTime=0001-01-01T00%3A00%3A00Z&Version=2010-08-01"
		if body != want {
			t.Errorf("IsOnline body %s, want %s", body, want)
		}
	}
}

// Describe (what `augur render` prints) is the body sent, but the window.
func TestDescribeIsTheRequest(t *testing.T) {
	awsEnv(t)
	var s seen
	addr := server(t, "value.xml", 200, &s)
	p := provider(t, addr)
	if _, err := p.Query(context.Background(), query, at); err != nil {
		t.Fatal(err)
	}
	d, err := p.Describe(query)
	if err != nil {
		t.Fatal(err)
	}
	_, body := s.get()
	sent, _ := url.ParseQuery(body)
	sent.Del("StartTime")
	sent.Del("EndTime")
	if d.Method != http.MethodPost || d.URL != addr+"/" || d.Body != sent.Encode() || !strings.Contains(d.Window, "10m0s") {
		t.Errorf("described %+v, sent %s", d, sent.Encode())
	}
}

// AWS_CA_BUNDLE replaces the system's roots, as in the AWS SDKs.
func TestCABundle(t *testing.T) {
	awsEnv(t)
	answer, err := os.ReadFile("testdata/value.xml")
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewTLSServer(http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write(answer) }))
	defer srv.Close()
	if _, err := provider(t, srv.URL).Query(context.Background(), query, at); err == nil {
		t.Fatal("a server certificate outside the system roots was accepted")
	}
	pemFile := filepath.Join(t.TempDir(), "ca.pem")
	block := pem.EncodeToMemory(&pem.Block{Type: "CERTIFICATE", Bytes: srv.Certificate().Raw})
	if err := os.WriteFile(pemFile, block, 0o600); err != nil {
		t.Fatal(err)
	}
	t.Setenv("AWS_CA_BUNDLE", pemFile)
	if v, err := provider(t, srv.URL).Query(context.Background(), query, at); err != nil || v != 0.0125 {
		t.Fatalf("with AWS_CA_BUNDLE: %v, %v", v, err)
	}
	if err := os.WriteFile(pemFile, []byte("not a certificate"), 0o600); err != nil {
		t.Fatal(err)
	}
	if _, err := cloudwatch.New(metrics.Config{Type: "cloudwatch", Region: "eu-west-1"}); err == nil || !strings.Contains(err.Error(), "AWS_CA_BUNDLE") {
		t.Errorf("a CA bundle without certificates: %v", err)
	}
}

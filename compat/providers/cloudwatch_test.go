package providers

import (
	"bytes"
	"context"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"reflect"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/aws/aws-sdk-go/aws"
	"github.com/aws/aws-sdk-go/aws/credentials"
	"github.com/aws/aws-sdk-go/aws/session"
	signerv4 "github.com/aws/aws-sdk-go/aws/signer/v4"
	"github.com/aws/aws-sdk-go/service/cloudwatch"
	flaggerv1 "github.com/fluxcd/flagger/pkg/apis/flagger/v1beta1"
	fp "github.com/fluxcd/flagger/pkg/metrics/providers"

	"github.com/augurproj/augur/metrics"
	"github.com/augurproj/augur/metrics/vendors"
)

// AWS credentials both sides find in the environment (their default
// credential chains); nothing else for the chains to find.
const (
	awsKeyID  = "AKIAFLAGGERCOMPAT001"
	awsSecret = "compat/secret+access/key"
	awsToken  = "compat-session-token"
	awsRegion = "eu-central-1"
)

func TestMain(m *testing.M) {
	dir, err := os.MkdirTemp("", "compat-providers-aws")
	if err != nil {
		panic(err)
	}
	for k, v := range map[string]string{
		"AWS_ACCESS_KEY_ID": awsKeyID, "AWS_SECRET_ACCESS_KEY": awsSecret, "AWS_SESSION_TOKEN": awsToken,
		"AWS_CONFIG_FILE": filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED": "true",
	} {
		_ = os.Setenv(k, v)
	}
	// AWS_CA_BUNDLE (set on some machines) makes aws-sdk-go v1 rewrite
	// http.DefaultClient's transport on every NewSession: a data race.
	for _, k := range []string{"AWS_CA_BUNDLE", "AWS_PROFILE", "AWS_ENDPOINT_URL", "AWS_ENDPOINT_URL_CLOUDWATCH", "AWS_WEB_IDENTITY_TOKEN_FILE",
		"AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "AWS_CONTAINER_CREDENTIALS_FULL_URI", "AWS_REGION", "AWS_DEFAULT_REGION"} {
		_ = os.Unsetenv(k)
	}
	code := m.Run()
	_ = os.RemoveAll(dir)
	os.Exit(code)
}

// flaggerCloudWatch is Flagger's provider with its AWS client pointed at
// addr. Flagger takes no endpoint (it ignores provider.address, and
// aws-sdk-go v1.55 reads no AWS_ENDPOINT_URL), so the client that
// NewCloudWatchProvider built is replaced by one built the same way
// (region, 3 retries, the default credential chain) plus the endpoint;
// RunQuery, the SDK's encoder, signer, retries and decoder are Flagger's.
func flaggerCloudWatch(t *testing.T, addr, interval string) *fp.CloudWatchProvider {
	t.Helper()
	// aws-sdk-go v1's session.NewSession writes a package variable
	// (session.go, loadCustomCABundle): sessions are built one at a time.
	awsSessionMu.Lock()
	defer awsSessionMu.Unlock()
	p, err := fp.NewCloudWatchProvider(interval, flaggerv1.MetricTemplateProvider{Type: "cloudwatch", Region: awsRegion})
	if err != nil {
		t.Fatalf("flagger cloudwatch provider: %v", err)
	}
	sess, err := session.NewSession(aws.NewConfig().WithRegion(awsRegion).WithMaxRetries(3).WithEndpoint(addr))
	if err != nil {
		t.Fatal(err)
	}
	f := reflect.ValueOf(p).Elem().FieldByName("client")
	reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem().Set(reflect.ValueOf(cloudwatch.New(sess)))
	return p
}

var awsSessionMu sync.Mutex

func augurCloudWatch(t *testing.T, addr string, interval time.Duration) metrics.Provider {
	t.Helper()
	r := &metrics.Registry{}
	vendors.Register(r)
	p, err := r.New(metrics.Config{Type: "cloudwatch", Address: addr, Region: awsRegion, Interval: interval})
	if err != nil {
		t.Fatalf("augur cloudwatch provider: %v", err)
	}
	return p
}

const cwQuery = `[{"Id":"e1","Expression":"m1 / m2 * 100","Label":"5xx %"},` +
	`{"Id":"m1","ReturnData":false,"MetricStat":{"Metric":{"Namespace":"AWS/ApplicationELB","MetricName":"HTTPCode_Target_5XX_Count",` +
	`"Dimensions":[{"Name":"LoadBalancer","Value":"app/podinfo/0f1e"},{"Name":"TargetGroup","Value":"targetgroup/podinfo-canary/9a8b"}]},"Period":60,"Stat":"Sum","Unit":"Count"}},` +
	`{"id":"m2","returnData":false,"metricStat":{"metric":{"namespace":"AWS/ApplicationELB","metricName":"RequestCount","dimensions":[]},"period":60,"stat":"Sum"},"x":1}]`

var cwQueries = []string{
	cwQuery,
	`[{"Id":"p99","MetricStat":{"Metric":{"Namespace":"AWS/ApiGateway","MetricName":"Latency","Dimensions":[{"Name":"ApiName","Value":"podinfo & co"}]},"Period":300,"Stat":"p99"}}]`,
	`[{"Id":"q","Expression":"SELECT AVG(CPUUtilization) FROM SCHEMA(\"AWS/EC2\", InstanceId)","Period":60,"AccountId":"123456789012"},null]`,
	`[]`,
}

func cwResult(id string, values ...string) string {
	s := "<member><Id>" + id + "</Id><StatusCode>Complete</StatusCode><Timestamps>"
	for i := range values {
		s += "<member>2026-11-01T10:0" + strconv.Itoa(4-i) + ":00Z</member>"
	}
	s += "</Timestamps><Values>"
	for _, v := range values {
		s += "<member>" + v + "</member>"
	}
	return s + "</Values></member>"
}

func cwAnswer(results ...string) string {
	return `<GetMetricDataResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/"><GetMetricDataResult><MetricDataResults>` +
		strings.Join(results, "") + `</MetricDataResults><Messages/></GetMetricDataResult>` +
		`<ResponseMetadata><RequestId>0d4b1e6c-0000-0000-0000-000000000001</RequestId></ResponseMetadata></GetMetricDataResponse>`
}

func cwError(code, msg string) string {
	return `<ErrorResponse xmlns="http://monitoring.amazonaws.com/doc/2010-08-01/"><Error><Type>Sender</Type><Code>` + code +
		`</Code><Message>` + msg + `</Message></Error><RequestId>0d4b1e6c-0000-0000-0000-000000000002</RequestId></ErrorResponse>`
}

var cwShapes = []shape{
	{answer: answer{name: "value", status: 200, body: cwAnswer(cwResult("e1", "1.25"))}, flagger: "value 1.25"},
	{answer: answer{name: "several points", status: 200, body: cwAnswer(cwResult("e1", "0.5", "0.75", "3"))}, flagger: "value 0.5"},
	{answer: answer{name: "no result", status: 200, body: cwAnswer()}, flagger: "no values"},
	{answer: answer{name: "no points", status: 200, body: cwAnswer(cwResult("e1"))}, flagger: "no values"},
	{answer: answer{name: "several results", status: 200, body: cwAnswer(cwResult("e1", "1"), cwResult("e2", "2"))},
		flagger: "value 1", augur: "multiple values", why: "several series → multiple values"},
	{answer: answer{name: "NaN", status: 200, body: cwAnswer(cwResult("e1", "NaN"))},
		flagger: "value NaN", augur: "no values", why: "NaN → no values"},
	{answer: answer{name: "malformed", status: 200, body: `<GetMetricDataResponse><GetMetricDataResult><MetricDataResults><member><Values><member>x`}, flagger: "error"},
	{answer: answer{name: "not xml", status: 200, body: `{"MetricDataResults":[]}`},
		flagger: "no values", augur: "error", why: "an answer that is not a GetMetricDataResponse → error"},
	{answer: answer{name: "status Bad Request", status: 400, contentType: "text/xml", body: cwError("ValidationError", "bad")}, flagger: "error"},
	{answer: answer{name: "status Forbidden", status: 403, contentType: "text/xml", body: cwError("AccessDenied", "not authorized to perform: cloudwatch:GetMetricData")}, flagger: "error"},
	{answer: answer{name: "status Internal Server Error", status: 500, contentType: "text/xml", body: cwError("InternalFailure", "boom")}, flagger: "error"},
}

// TestCloudWatchAnswers: the same request (body, signature scheme) and the
// same outcome per answer shape. Flagger's SDK retries a 5xx and a
// truncated answer three times; augur sends one request (the next analysis
// interval is its retry).
func TestCloudWatchAnswers(t *testing.T) {
	for _, s := range cwShapes {
		t.Run(s.name, func(t *testing.T) {
			t.Parallel()
			b := newBackend(t, s.answer)
			fo := outcome(flaggerCloudWatch(t, b.srv.URL, "1m").RunQuery(cwQuery))
			ao := outcome(augurCloudWatch(t, b.srv.URL, time.Minute).Query(context.Background(), cwQuery, time.Time{}))
			reqs := b.take()
			want := 2
			if s.status >= 500 || s.name == "malformed" {
				want = 5 // Flagger's SDK: the first try and 3 retries; then augur's one
			}
			if len(reqs) != want {
				t.Fatalf("server saw %d requests, want %d", len(reqs), want)
			}
			sameCloudWatchRequest(t, reqs[0], reqs[len(reqs)-1])
			if fo != s.flagger {
				t.Errorf("flagger: %s, the case expects %s", fo, s.flagger)
			}
			want2 := fo
			if s.augur != "" {
				want2 = s.augur
				if s.why == "" {
					t.Fatalf("a deliberate difference must name its docs/compatibility.md row")
				}
			}
			if ao != want2 {
				t.Errorf("augur: %s, want %s (flagger: %s)", ao, want2, fo)
			}
		})
	}
}

// TestCloudWatchTimeout: Flagger's AWS client has no timeout (RunQuery
// takes no context and the SDK's default HTTP client waits forever);
// augur gives up after the provider timeout (docs/compatibility.md,
// cloudwatch row). Flagger's side is not run: it would wait for the server.
func TestCloudWatchTimeout(t *testing.T) {
	b := newBackend(t, answer{name: "timeout", hang: true})
	r := &metrics.Registry{}
	vendors.Register(r)
	p, err := r.New(metrics.Config{Type: "cloudwatch", Address: b.srv.URL, Region: awsRegion, Timeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	if o := outcome(p.Query(context.Background(), cwQuery, time.Time{})); o != "timeout" {
		t.Errorf("augur: %s, want timeout", o)
	}
}

// TestCloudWatchRequests: the same body for every query and interval.
func TestCloudWatchRequests(t *testing.T) {
	for _, q := range cwQueries {
		for _, iv := range []string{"30s", "1m", "5m", "1h"} {
			d, err := time.ParseDuration(iv)
			if err != nil {
				t.Fatal(err)
			}
			b := newBackend(t, answer{name: "value", status: 200, body: cwAnswer(cwResult("e1", "2"))})
			fo := outcome(flaggerCloudWatch(t, b.srv.URL, iv).RunQuery(q))
			ao := outcome(augurCloudWatch(t, b.srv.URL, d).Query(context.Background(), q, time.Time{}))
			reqs := b.take()
			if len(reqs) != 2 {
				t.Fatalf("%q interval %s: server saw %d requests, want 2", q, iv, len(reqs))
			}
			t.Run("", func(t *testing.T) {
				t.Logf("%q interval %s", q, iv)
				sameCloudWatchRequest(t, reqs[0], reqs[1])
				if fo != ao || fo != "value 2" {
					t.Errorf("outcome: flagger %s, augur %s", fo, ao)
				}
			})
		}
	}
}

// TestCloudWatchRefusedQueries: a query the AWS SDK refuses before sending
// (not JSON, a missing required field, an empty name) is refused by both,
// with nothing sent.
func TestCloudWatchRefusedQueries(t *testing.T) {
	for _, q := range []string{`{"Id":"m1"}`, `null`, `[{"Expression":"m1"}]`, `[{"Id":""}]`,
		`[{"Id":"m","MetricStat":{"Period":60,"Stat":"Sum"}}]`, `[{"Id":"m","MetricStat":{"Metric":{},"Stat":"Sum"}}]`,
		`[{"Id":"m","MetricStat":{"Metric":{},"Period":60}}]`, `[{"Id":"m","MetricStat":{"Metric":{"Namespace":""},"Period":60,"Stat":"Sum"}}]`,
		`[{"Id":"m","MetricStat":{"Metric":{"Dimensions":[{"Name":"a"}]},"Period":60,"Stat":"Sum"}}]`,
		`[{"Id":"m","MetricStat":{"Metric":{"Dimensions":[{"Value":"a"}]},"Period":60,"Stat":"Sum"}}]`,
		`[{"Id":"m","Period":0}]`, `[{"Id":"m","AccountId":""}]`, `[{"Id":"m","Expression":""}]`} {
		b := newBackend(t, answer{name: "value", status: 200, body: cwAnswer(cwResult("e1", "2"))})
		fo := outcome(flaggerCloudWatch(t, b.srv.URL, "1m").RunQuery(q))
		ao := outcome(augurCloudWatch(t, b.srv.URL, time.Minute).Query(context.Background(), q, time.Time{}))
		if fo != "error" || ao != "error" {
			t.Errorf("%s: flagger %s, augur %s; want both to refuse", q, fo, ao)
		}
		if n := len(b.take()); n != 0 {
			t.Errorf("%s: %d requests sent", q, n)
		}
	}
}

// TestCloudWatchIsOnline: the same probe request; a 400 is online for both,
// a 403 offline.
func TestCloudWatchIsOnline(t *testing.T) {
	for _, tc := range []struct {
		status int
		online bool
	}{{400, true}, {403, false}} {
		b := newBackend(t, answer{status: tc.status, contentType: "text/xml", body: cwError("X", "y")})
		fok, ferr := flaggerCloudWatch(t, b.srv.URL, "1m").IsOnline()
		p := augurCloudWatch(t, b.srv.URL, time.Minute).(interface{ IsOnline(context.Context) error })
		aerr := p.IsOnline(context.Background())
		if fok != tc.online || (ferr == nil) != tc.online || (aerr == nil) != tc.online {
			t.Errorf("status %d: flagger %v %v, augur %v; want online %v", tc.status, fok, ferr, aerr, tc.online)
		}
		reqs := b.take()
		if len(reqs) != 2 {
			t.Fatalf("server saw %d requests, want 2", len(reqs))
		}
		f, a := reqs[0], reqs[1]
		if f.Body != a.Body {
			t.Errorf("IsOnline body: flagger %q, augur %q", f.Body, a.Body)
		}
		verifySigV4(t, "flagger", f)
		verifySigV4(t, "augur", a)
	}
}

// sameCloudWatchRequest fails t unless Flagger's request f and augur's a
// agree: request line, content type, every form field but the window's,
// the window's length and (less the time between the requests) its end;
// and both carry a valid SigV4 signature for the same scope.
func sameCloudWatchRequest(t *testing.T, f, a request) {
	t.Helper()
	if f.Method != a.Method || f.Path != a.Path {
		t.Errorf("request line: flagger %s %s, augur %s %s", f.Method, f.Path, a.Method, a.Path)
	}
	if f.Header.Get("Content-Type") != a.Header.Get("Content-Type") {
		t.Errorf("Content-Type: flagger %q, augur %q", f.Header.Get("Content-Type"), a.Header.Get("Content-Type"))
	}
	fv, err1 := url.ParseQuery(f.Body)
	av, err2 := url.ParseQuery(a.Body)
	if err1 != nil || err2 != nil {
		t.Fatalf("bodies are not forms: %v %v", err1, err2)
	}
	ts := func(side string, v url.Values, k string) time.Time {
		tm, err := time.Parse(time.RFC3339Nano, v.Get(k))
		if err != nil {
			t.Fatalf("%s: %s=%q: %v", side, k, v.Get(k), err)
		}
		return tm
	}
	fs, fe, as, ae := ts("flagger", fv, "StartTime"), ts("flagger", fv, "EndTime"), ts("augur", av, "StartTime"), ts("augur", av, "EndTime")
	if fe.Sub(fs) != ae.Sub(as) {
		t.Errorf("window length: flagger %s, augur %s", fe.Sub(fs), ae.Sub(as))
	}
	gap := a.At.Sub(f.At)
	if d := ae.Sub(fe) - gap; d < -5*time.Second || d > 5*time.Second {
		t.Errorf("window end: flagger %s, augur %s, requests %s apart (ends more than 5s apart once that is taken away)", fe, ae, gap)
	}
	for _, v := range []url.Values{fv, av} {
		v.Del("StartTime")
		v.Del("EndTime")
	}
	if fv.Encode() != av.Encode() {
		t.Errorf("body (window aside):\nflagger %s\naugur   %s", fv.Encode(), av.Encode())
	}
	scope := func(r request) string {
		s := r.Header.Get("Authorization")
		if i := strings.Index(s, "/"); i >= 0 {
			s = s[i:]
		}
		_, rest, _ := strings.Cut(s[1:], "/") // drop the date
		scope, _, _ := strings.Cut(rest, ",")
		return scope
	}
	if scope(f) != scope(a) || scope(a) != awsRegion+"/monitoring/aws4_request" {
		t.Errorf("credential scope: flagger %q, augur %q", scope(f), scope(a))
	}
	verifySigV4(t, "flagger", f)
	verifySigV4(t, "augur", a)
}

// verifySigV4 recomputes the request's signature with aws-sdk-go's own
// SigV4 signer (the headers the request says it signed, its X-Amz-Date)
// and requires the same Authorization: what CloudWatch checks.
func verifySigV4(t *testing.T, side string, r request) {
	t.Helper()
	auth := r.Header.Get("Authorization")
	_, signed, ok := strings.Cut(auth, "SignedHeaders=")
	if !ok {
		t.Errorf("%s: no SigV4 Authorization header: %q", side, auth)
		return
	}
	signed, _, _ = strings.Cut(signed, ",")
	when, err := time.Parse("20060102T150405Z", r.Header.Get("X-Amz-Date"))
	if err != nil {
		t.Errorf("%s: X-Amz-Date %q: %v", side, r.Header.Get("X-Amz-Date"), err)
		return
	}
	req, err := http.NewRequest(r.Method, "http://"+r.Host+r.Path, bytes.NewReader([]byte(r.Body)))
	if err != nil {
		t.Fatal(err)
	}
	for _, h := range strings.Split(signed, ";") {
		switch h {
		case "host", "x-amz-date", "x-amz-security-token":
		case "content-length":
			req.Header.Set("Content-Length", strconv.Itoa(len(r.Body)))
		default:
			req.Header[http.CanonicalHeaderKey(h)] = r.Header.Values(h)
		}
	}
	s := signerv4.NewSigner(credentials.NewStaticCredentials(awsKeyID, awsSecret, awsToken))
	if _, err := s.Sign(req, bytes.NewReader([]byte(r.Body)), "monitoring", awsRegion, when); err != nil {
		t.Fatal(err)
	}
	if got := req.Header.Get("Authorization"); got != auth {
		t.Errorf("%s: signature does not verify with aws-sdk-go's signer:\n sent     %s\n expected %s", side, auth, got)
	}
	if r.Header.Get("X-Amz-Security-Token") != awsToken {
		t.Errorf("%s: X-Amz-Security-Token %q", side, r.Header.Get("X-Amz-Security-Token"))
	}
}

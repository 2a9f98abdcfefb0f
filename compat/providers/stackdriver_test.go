package providers

import (
	"context"
	"crypto/rand"
	"crypto/rsa"
	"crypto/x509"
	"encoding/json"
	"encoding/pem"
	"io"
	"math"
	"net"
	"net/http"
	"net/http/httptest"
	"reflect"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	monitoring "cloud.google.com/go/monitoring/apiv3/v2"
	"cloud.google.com/go/monitoring/apiv3/v2/monitoringpb"
	flaggerv1 "github.com/fluxcd/flagger/pkg/apis/flagger/v1beta1"
	fp "github.com/fluxcd/flagger/pkg/metrics/providers"
	"google.golang.org/api/option"
	"google.golang.org/grpc"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/credentials/insecure"
	"google.golang.org/grpc/status"
	"google.golang.org/protobuf/encoding/protojson"
	corev1 "k8s.io/api/core/v1"

	"github.com/augurproj/augur/metrics"
	"github.com/augurproj/augur/metrics/vendors"
)

// gcpShape is one QueryTimeSeries answer: a response message or a status.
type gcpShape struct {
	name    string
	resp    *monitoringpb.QueryTimeSeriesResponse
	code    codes.Code
	flagger string
	augur   string
	why     string
}

// gcpCall is one QueryTimeSeries request a side sent.
type gcpCall struct {
	Name, Query string
	PageSize    int32
	Auth        string
}

// gcpServer serves QueryTimeSeries twice over: gRPC (Flagger's client) and
// its REST binding, POST /v3/{name}/timeSeries:query (augur), with the same
// answer, the REST one written with Google's JSON mapping (protojson). It
// also issues OAuth2 tokens for the service-account key's token_uri.
type gcpServer struct {
	grpcAddr string
	rest     *httptest.Server
	mu       sync.Mutex
	calls    []gcpCall // gRPC first (Flagger runs first), then REST
	tokens   int
	monitoringpb.UnimplementedQueryServiceServer
	shape gcpShape
	hang  bool
}

func (s *gcpServer) QueryTimeSeries(ctx context.Context, req *monitoringpb.QueryTimeSeriesRequest) (*monitoringpb.QueryTimeSeriesResponse, error) {
	s.mu.Lock()
	s.calls = append(s.calls, gcpCall{Name: req.GetName(), Query: req.GetQuery(), PageSize: req.GetPageSize()})
	s.mu.Unlock()
	if s.shape.code != codes.OK {
		return nil, status.Error(s.shape.code, "the shape's error")
	}
	return s.shape.resp, nil
}

var httpStatus = map[codes.Code]int{codes.InvalidArgument: 400, codes.PermissionDenied: 403, codes.Unauthenticated: 401,
	codes.Unavailable: 503, codes.Internal: 500, codes.NotFound: 404}

func newGCPServer(t *testing.T, shape gcpShape, hang bool) *gcpServer {
	t.Helper()
	s := &gcpServer{shape: shape, hang: hang}
	lis, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	g := grpc.NewServer()
	monitoringpb.RegisterQueryServiceServer(g, s)
	go func() { _ = g.Serve(lis) }()
	s.grpcAddr = lis.Addr().String()
	done := make(chan struct{})
	s.rest = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		b, _ := io.ReadAll(io.LimitReader(r.Body, 1<<20))
		if r.URL.Path == "/token" {
			s.mu.Lock()
			s.tokens++
			s.mu.Unlock()
			w.Header().Set("Content-Type", "application/json")
			_, _ = w.Write([]byte(`{"access_token":"ya29.compat-access-token","token_type":"Bearer","expires_in":3600}`))
			return
		}
		name, ok := strings.CutSuffix(strings.TrimPrefix(r.URL.Path, "/v3/"), "/timeSeries:query")
		req := &monitoringpb.QueryTimeSeriesRequest{}
		if !ok || r.Method != http.MethodPost || protojson.Unmarshal(b, req) != nil || req.GetName() != "" {
			http.Error(w, "not the REST binding of QueryTimeSeries: "+r.Method+" "+r.URL.Path+" "+string(b), 404)
			return
		}
		s.mu.Lock()
		s.calls = append(s.calls, gcpCall{Name: name, Query: req.GetQuery(), PageSize: req.GetPageSize(), Auth: r.Header.Get("Authorization")})
		s.mu.Unlock()
		if hang {
			select {
			case <-r.Context().Done():
			case <-done:
			}
			return
		}
		if shape.code != codes.OK {
			w.Header().Set("Content-Type", "application/json")
			w.WriteHeader(httpStatus[shape.code])
			_ = json.NewEncoder(w).Encode(map[string]any{"error": map[string]any{"code": httpStatus[shape.code],
				"message": "the shape's error", "status": strings.ToUpper(shape.code.String())}})
			return
		}
		out, err := protojson.Marshal(shape.resp)
		if err != nil {
			t.Error(err)
		}
		w.Header().Set("Content-Type", "application/json")
		_, _ = w.Write(out)
	}))
	t.Cleanup(func() { close(done); s.rest.Close(); g.Stop() })
	return s
}

func (s *gcpServer) take() []gcpCall {
	s.mu.Lock()
	defer s.mu.Unlock()
	c := s.calls
	s.calls = nil
	return c
}

// gcpKey is a service-account key whose token_uri is the loopback server.
func gcpKey(t *testing.T, tokenURI string) []byte {
	t.Helper()
	k, err := rsa.GenerateKey(rand.Reader, 2048)
	if err != nil {
		t.Fatal(err)
	}
	der, err := x509.MarshalPKCS8PrivateKey(k)
	if err != nil {
		t.Fatal(err)
	}
	b, _ := json.Marshal(map[string]string{
		"type": "service_account", "project_id": "podinfo-prod", "private_key_id": "0123456789abcdef",
		"private_key":  string(pem.EncodeToMemory(&pem.Block{Type: "PRIVATE KEY", Bytes: der})),
		"client_email": "flagger@podinfo-prod.iam.gserviceaccount.com", "client_id": "1234567890",
		"token_uri": tokenURI,
	})
	return b
}

// flaggerStackdriver is Flagger's provider with its Cloud Monitoring client
// pointed at the loopback gRPC server. Flagger takes no endpoint (it
// ignores provider.address), so the client NewStackDriverProvider built
// from the Secret is replaced by one for the loopback endpoint without
// credentials (gRPC sends no token over plaintext); RunQuery and Google's
// client are Flagger's.
func flaggerStackdriver(t *testing.T, s *gcpServer, creds map[string][]byte) *fp.StackDriverProvider {
	t.Helper()
	p, err := fp.NewStackDriverProvider(flaggerv1.MetricTemplateProvider{Type: "stackdriver",
		SecretRef: &corev1.LocalObjectReference{Name: "gcp"}}, creds)
	if err != nil {
		t.Fatalf("flagger stackdriver provider: %v", err)
	}
	c, err := monitoring.NewQueryClient(context.Background(), option.WithEndpoint(s.grpcAddr), option.WithoutAuthentication(),
		option.WithGRPCDialOption(grpc.WithTransportCredentials(insecure.NewCredentials())))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = c.Close() })
	f := reflect.ValueOf(p).Elem().FieldByName("client")
	reflect.NewAt(f.Type(), unsafe.Pointer(f.UnsafeAddr())).Elem().Set(reflect.ValueOf(c))
	return p
}

func augurStackdriver(t *testing.T, s *gcpServer, creds map[string][]byte, timeout time.Duration) metrics.Provider {
	t.Helper()
	r := &metrics.Registry{}
	vendors.Register(r)
	p, err := r.New(metrics.Config{Type: "stackdriver", Address: s.rest.URL, Credentials: strCreds(creds), HasSecret: true, Timeout: timeout})
	if err != nil {
		t.Fatalf("augur stackdriver provider: %v", err)
	}
	return p
}

const mqlQuery = "fetch k8s_container | metric 'istio.io/service/server/request_count' | filter (metric.response_code == 200) | align rate(1m) | every 1m | group_by [], [val: sum(value.request_count)] | within 5m"

func series(points ...[]*monitoringpb.TypedValue) *monitoringpb.TimeSeriesData {
	ts := &monitoringpb.TimeSeriesData{LabelValues: []*monitoringpb.LabelValue{{Value: &monitoringpb.LabelValue_StringValue{StringValue: "podinfo"}}}}
	for _, v := range points {
		ts.PointData = append(ts.PointData, &monitoringpb.TimeSeriesData_PointData{Values: v})
	}
	return ts
}

func dbl(v float64) []*monitoringpb.TypedValue {
	return []*monitoringpb.TypedValue{{Value: &monitoringpb.TypedValue_DoubleValue{DoubleValue: v}}}
}

func gcpResp(ts ...*monitoringpb.TimeSeriesData) *monitoringpb.QueryTimeSeriesResponse {
	return &monitoringpb.QueryTimeSeriesResponse{TimeSeriesData: ts}
}

var gcpShapes = []gcpShape{
	{name: "value", resp: gcpResp(series(dbl(0.5))), flagger: "value 0.5"},
	{name: "several points", resp: gcpResp(series(dbl(0.5), dbl(0.4), dbl(0.1))), flagger: "value 0.5"},
	{name: "empty", resp: gcpResp(), flagger: "no values"},
	{name: "no points", resp: gcpResp(series()), flagger: "no values"},
	{name: "no values", resp: gcpResp(series([]*monitoringpb.TypedValue{})), flagger: "no values"},
	{name: "several series", resp: gcpResp(series(dbl(1)), series(dbl(2))),
		flagger: "value 1", augur: "multiple values", why: "several series → multiple values"},
	{name: "NaN", resp: gcpResp(series(dbl(math.NaN()))), flagger: "value NaN", augur: "no values", why: "NaN → no values"},
	{name: "int64", resp: gcpResp(series([]*monitoringpb.TypedValue{{Value: &monitoringpb.TypedValue_Int64Value{Int64Value: 42}}})),
		flagger: "value 0", augur: "value 42", why: "an int64 value → its value"},
	{name: "string", resp: gcpResp(series([]*monitoringpb.TypedValue{{Value: &monitoringpb.TypedValue_StringValue{StringValue: "x"}}})),
		flagger: "value 0", augur: "error", why: "a value that is not a number → error"},
	{name: "status InvalidArgument", code: codes.InvalidArgument, flagger: "error"},
	{name: "status PermissionDenied", code: codes.PermissionDenied, flagger: "error"},
	{name: "status Unavailable", code: codes.Unavailable, flagger: "error"},
	{name: "status Internal", code: codes.Internal, flagger: "error"},
}

// TestStackdriverAnswers: the same request (name, query) and the same
// outcome per answer shape, or the documented difference; augur's request
// carries the bearer token its JWT exchange got from the key's token_uri.
func TestStackdriverAnswers(t *testing.T) {
	for _, sh := range gcpShapes {
		t.Run(sh.name, func(t *testing.T) {
			t.Parallel()
			s := newGCPServer(t, sh, false)
			creds := map[string][]byte{"project": []byte("podinfo-prod"), "serviceAccountKey": gcpKey(t, s.rest.URL+"/token")}
			fo := outcome(flaggerStackdriver(t, s, creds).RunQuery(mqlQuery))
			ao := outcome(augurStackdriver(t, s, creds, 0).Query(context.Background(), mqlQuery, time.Time{}))
			calls := s.take()
			if len(calls) != 2 {
				t.Fatalf("server saw %d calls, want 2", len(calls))
			}
			f, a := calls[0], calls[1]
			if f.Name != "projects/podinfo-prod" || f.Name != a.Name || f.Query != a.Query || f.PageSize != a.PageSize {
				t.Errorf("request: flagger %+v, augur %+v", f, a)
			}
			if a.Auth != "Bearer ya29.compat-access-token" {
				t.Errorf("augur's Authorization %q (want the token from the key's token_uri)", a.Auth)
			}
			if fo != sh.flagger {
				t.Errorf("flagger: %s, the case expects %s", fo, sh.flagger)
			}
			want := fo
			if sh.augur != "" {
				want = sh.augur
				if sh.why == "" {
					t.Fatalf("a deliberate difference must name its docs/compatibility.md row")
				}
			}
			if ao != want {
				t.Errorf("augur: %s, want %s (flagger: %s)", ao, want, fo)
			}
		})
	}
}

// TestStackdriverRequests: the same request for several queries.
func TestStackdriverRequests(t *testing.T) {
	for _, q := range []string{mqlQuery, "fetch gce_instance::compute.googleapis.com/instance/cpu/utilization\n| filter resource.zone = \"europe-west1-b\" && metadata.user.app == '<podinfo>&'\n| group_by 5m, [value_utilization_mean: mean(value.utilization)]\n| every 5m | within 10m"} {
		s := newGCPServer(t, gcpShape{resp: gcpResp(series(dbl(2)))}, false)
		creds := map[string][]byte{"project": []byte("my-project-123"), "serviceAccountKey": gcpKey(t, s.rest.URL+"/token")}
		fo := outcome(flaggerStackdriver(t, s, creds).RunQuery(q))
		ao := outcome(augurStackdriver(t, s, creds, 0).Query(context.Background(), q, time.Time{}))
		calls := s.take()
		if len(calls) != 2 || calls[0].Name != calls[1].Name || calls[0].Query != calls[1].Query || calls[0].Query != q {
			t.Errorf("%q: calls %+v", q, calls)
		}
		if fo != ao || fo != "value 2" {
			t.Errorf("%q: flagger %s, augur %s", q, fo, ao)
		}
	}
}

// TestStackdriverTimeout: Flagger's query has no deadline (RunQuery uses
// context.Background and the client sets no timeout for QueryTimeSeries);
// augur gives up at the provider timeout. Flagger's side is not run.
func TestStackdriverTimeout(t *testing.T) {
	s := newGCPServer(t, gcpShape{}, true)
	creds := map[string][]byte{"project": []byte("p"), "serviceAccountKey": gcpKey(t, s.rest.URL+"/token")}
	if o := outcome(augurStackdriver(t, s, creds, time.Second).Query(context.Background(), mqlQuery, time.Time{})); o != "timeout" {
		t.Errorf("augur: %s, want timeout", o)
	}
}

// TestStackdriverIsOnline: an empty query; INVALID_ARGUMENT is online for
// both, PERMISSION_DENIED offline.
func TestStackdriverIsOnline(t *testing.T) {
	for code, online := range map[codes.Code]bool{codes.InvalidArgument: true, codes.PermissionDenied: false} {
		s := newGCPServer(t, gcpShape{code: code}, false)
		creds := map[string][]byte{"project": []byte("p"), "serviceAccountKey": gcpKey(t, s.rest.URL+"/token")}
		fok, ferr := flaggerStackdriver(t, s, creds).IsOnline()
		aerr := augurStackdriver(t, s, creds, 0).(interface{ IsOnline(context.Context) error }).IsOnline(context.Background())
		if fok != online || (ferr == nil) != online || (aerr == nil) != online {
			t.Errorf("%s: flagger %v %v, augur %v", code, fok, ferr, aerr)
		}
		calls := s.take()
		if len(calls) != 2 || calls[0].Query != "" || calls[1].Query != "" || calls[0].Name != calls[1].Name {
			t.Errorf("%s: calls %+v", code, calls)
		}
	}
}

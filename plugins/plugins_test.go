package plugins

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"os"
	"path/filepath"
	"sync"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
	"github.com/google/go-cmp/cmp/cmpopts"
	"github.com/hashicorp/go-plugin"
	"google.golang.org/grpc/codes"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/engine"
	"github.com/augurproj/augur/service"
)

// harness serves impl with go-plugin's gRPC test harness and returns the
// host-side Analyzer dispensed through AnalyzerPlugin.GRPCClient.
func harness(t *testing.T, impl Analyzer) Analyzer {
	t.Helper()
	client, _ := plugin.TestPluginGRPCConn(t, false, map[string]plugin.Plugin{PluginName: &AnalyzerPlugin{Impl: impl}})
	t.Cleanup(func() { client.Close() })
	raw, err := client.Dispense(PluginName)
	if err != nil {
		t.Fatal(err)
	}
	an, ok := raw.(Analyzer)
	if !ok {
		t.Fatalf("dispensed %T, want an Analyzer", raw)
	}
	return an
}

// call runs one request against an Analyzer; it returns the response and
// the error (either may be zero).
type call struct {
	name string
	do   func(context.Context, Analyzer) (any, error)
}

// inProcess serves impl in this process the way `augur plugin` serves it and
// returns a connected Client.
func inProcess(t *testing.T, impl Analyzer) Analyzer { return reattached(t, impl) }

func calls() []call {
	decide := func(mod func(*service.DecideRequest)) func(context.Context, Analyzer) (any, error) {
		return func(ctx context.Context, a Analyzer) (any, error) {
			req := decideRequest()
			mod(&req)
			return a.Decide(ctx, req)
		}
	}
	query := func(mod func(*service.QueryRequest)) func(context.Context, Analyzer) (any, error) {
		return func(ctx context.Context, a Analyzer) (any, error) {
			req := service.QueryRequest{Canary: podinfoCanary(), MetricTemplates: []analysis.MetricTemplate{errorRateTemplate()}}
			mod(&req)
			return a.Query(ctx, req)
		}
	}
	return []call{
		{"decide advance", decide(func(*service.DecideRequest) {})},
		{"decide first tick", decide(func(r *service.DecideRequest) {
			r.Status = analysis.CanaryStatus{Phase: analysis.PhaseInitialized}
			r.NewRevision = true
		})},
		{"decide what-if failing value", decide(func(r *service.DecideRequest) {
			r.Values = map[string]engine.Value{analysis.MetricRequestSuccessRate: {Value: ptr(90.0)}}
		})},
		{"decide promote at max weight", decide(func(r *service.DecideRequest) { r.Status.CanaryWeight = 50 })},
		{"decide bad webhooks mode", decide(func(r *service.DecideRequest) { r.Webhooks = "maybe" })},
		{"decide missing name", decide(func(r *service.DecideRequest) { r.Canary.Metadata.Name = "" })},
		{"query all metrics", query(func(*service.QueryRequest) {})},
		{"query one inline metric", query(func(r *service.QueryRequest) {
			r.Metric = &analysis.Metric{Name: "rps", Query: `sum(rate(istio_requests_total{destination_workload="{{ target }}"}[1m]))`}
		})},
		{"query missing template", query(func(r *service.QueryRequest) { r.MetricTemplates = nil })},
		{"query metric without name", query(func(r *service.QueryRequest) { r.Metric = &analysis.Metric{Query: "up"} })},
	}
}

// TestInProcessMatchesService checks that every request gives the same answer
// through the plugin protocol as from the service directly, errors included.
func TestInProcessMatchesService(t *testing.T) {
	svc := newService(t, writeData(t, t.TempDir(), podinfoSeries(1)))
	an := harness(t, svc)
	for _, c := range calls() {
		t.Run(c.name, func(t *testing.T) {
			ctx := t.Context()
			want, wantErr := c.do(ctx, svc)
			got, gotErr := c.do(ctx, an)
			if diff := cmp.Diff(want, got, eventPhaseIgnored); diff != "" {
				t.Errorf("plugin answer differs from the service's (-service +plugin):\n%s", diff)
			}
			if (wantErr == nil) != (gotErr == nil) {
				t.Fatalf("service error %v, plugin error %v", wantErr, gotErr)
			}
			if wantErr == nil {
				return
			}
			if errors.Is(wantErr, service.ErrBadRequest) != errors.Is(gotErr, service.ErrBadRequest) {
				t.Errorf("errors.Is(ErrBadRequest): service %v, plugin %v", wantErr, gotErr)
			}
			var pe *Error
			if !errors.As(gotErr, &pe) || pe.Message != wantErr.Error() {
				t.Errorf("plugin error %v, want an *Error carrying %q", gotErr, wantErr.Error())
			}
		})
	}
}

// TestInProcessDecisions pins what the podinfo data decides, so that a
// service and plugin broken in the same way cannot pass the comparison above.
func TestInProcessDecisions(t *testing.T) {
	tests := []struct {
		name       string
		errPerSec  float64
		weight     int
		wantAction analysis.Action
		wantWeight int
		wantFailed int
	}{
		{"healthy advances", 1, 10, analysis.ActionAdvance, 20, 0},
		{"5xx above 1% holds", 10, 10, analysis.ActionHold, 10, 1},
		{"healthy at max weight promotes", 1, 50, analysis.ActionPromote, 50, 0}, // Promoting keeps the weight
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			an := inProcess(t, newService(t, writeData(t, t.TempDir(), podinfoSeries(tt.errPerSec))))
			req := decideRequest()
			req.Status.CanaryWeight = tt.weight
			d, err := an.Decide(t.Context(), req)
			if err != nil {
				t.Fatal(err)
			}
			if d.Action != tt.wantAction || d.Status.CanaryWeight != tt.wantWeight || d.Status.FailedChecks != tt.wantFailed {
				t.Errorf("action %s weight %d failedChecks %d, want %s %d %d (reasons %q)",
					d.Action, d.Status.CanaryWeight, d.Status.FailedChecks, tt.wantAction, tt.wantWeight, tt.wantFailed, d.Reasons)
			}
		})
	}
}

// TestWireGolden pins the JSON that crosses the process boundary: a change
// here breaks hosts built against ProtocolVersion 1.
func TestWireGolden(t *testing.T) {
	an := inProcess(t, newService(t, writeData(t, t.TempDir(), podinfoSeries(1))))
	req := decideRequest()
	d, err := an.Decide(t.Context(), req)
	if err != nil {
		t.Fatal(err)
	}
	q, err := an.Query(t.Context(), service.QueryRequest{Canary: podinfoCanary(), MetricTemplates: req.MetricTemplates})
	if err != nil {
		t.Fatal(err)
	}
	var codec jsonCodec
	var buf bytes.Buffer
	for _, v := range []any{req, d, q} {
		b, err := codec.Marshal(v)
		if err != nil {
			t.Fatal(err)
		}
		if err := json.Indent(&buf, b, "", "  "); err != nil {
			t.Fatal(err)
		}
		buf.WriteByte('\n')
	}
	golden := filepath.Join("testdata", "wire.golden.json")
	if *update {
		if err := os.WriteFile(golden, buf.Bytes(), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	want, err := os.ReadFile(golden)
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(string(want), buf.String()); diff != "" {
		t.Errorf("wire JSON changed (-golden +got); run go test -update if intended:\n%s", diff)
	}
}

type failing struct{ err error }

func (f failing) Decide(context.Context, service.DecideRequest) (analysis.Decision, error) {
	return analysis.Decision{}, f.err
}

func (f failing) Query(context.Context, service.QueryRequest) (service.QueryResponse, error) {
	return service.QueryResponse{}, f.err
}

func TestErrorsCrossTheBoundary(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		code     codes.Code
		sentinel error
	}{
		{"bad request", errors.Join(errors.New("x"), service.ErrBadRequest), codes.InvalidArgument, service.ErrBadRequest},
		{"deadline", context.DeadlineExceeded, codes.DeadlineExceeded, context.DeadlineExceeded},
		{"canceled", context.Canceled, codes.Canceled, context.Canceled},
		{"unavailable", ErrUnavailable, codes.Unavailable, ErrUnavailable},
		{"other", errors.New("engine exploded"), codes.Unknown, nil},
	}
	sentinels := []error{service.ErrBadRequest, context.DeadlineExceeded, context.Canceled, ErrUnavailable}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			an := inProcess(t, failing{tt.err})
			_, derr := an.Decide(t.Context(), decideRequest())
			_, qerr := an.Query(t.Context(), service.QueryRequest{})
			for _, err := range []error{derr, qerr} {
				var pe *Error
				if !errors.As(err, &pe) {
					t.Fatalf("error %v (%T) is not an *Error", err, err)
				}
				if pe.Code != tt.code || pe.Message != tt.err.Error() {
					t.Errorf("got {%s %q}, want {%s %q}", pe.Code, pe.Message, tt.code, tt.err.Error())
				}
				for _, s := range sentinels {
					if got, want := errors.Is(err, s), s == tt.sentinel; got != want {
						t.Errorf("errors.Is(%v, %v) = %t, want %t", err, s, got, want)
					}
				}
			}
		})
	}
}

// TestContextPropagates checks that the caller's deadline and cancellation
// reach the plugin's handler: the handler's context carries the caller's
// deadline, and ends when the caller's does.
func TestContextPropagates(t *testing.T) {
	const timeout = 200 * time.Millisecond
	tests := []struct {
		name         string
		ctx          func(context.Context) (context.Context, context.CancelFunc)
		want         error
		wantDeadline bool
	}{
		{"deadline", func(ctx context.Context) (context.Context, context.CancelFunc) {
			return context.WithTimeout(ctx, timeout)
		}, context.DeadlineExceeded, true},
		{"cancel", func(ctx context.Context) (context.Context, context.CancelFunc) {
			ctx, cancel := context.WithCancel(ctx)
			time.AfterFunc(timeout, cancel)
			return ctx, cancel
		}, context.Canceled, false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			b := blocking{done: make(chan ended, 2)}
			an := inProcess(t, b)
			for _, do := range []func(context.Context) error{
				func(ctx context.Context) error { _, err := an.Decide(ctx, decideRequest()); return err },
				func(ctx context.Context) error { _, err := an.Query(ctx, service.QueryRequest{}); return err },
			} {
				ctx, cancel := tt.ctx(t.Context())
				callerDeadline, _ := ctx.Deadline()
				err := do(ctx)
				cancel()
				if !errors.Is(err, tt.want) {
					t.Errorf("client error %v, want %v", err, tt.want)
				}
				select {
				case got := <-b.done:
					// A deadline ends the handler's context by its own timer or by
					// the client's cancellation, whichever comes first.
					if got.err == nil || (got.err != tt.want && got.err != context.Canceled) {
						t.Errorf("plugin handler's context ended with %v, want %v", got.err, tt.want)
					}
					if got.hasDeadline != tt.wantDeadline {
						t.Errorf("plugin handler's context has a deadline: %t, want %t", got.hasDeadline, tt.wantDeadline)
					}
					if tt.wantDeadline && got.deadline.Sub(callerDeadline).Abs() > timeout/2 {
						t.Errorf("plugin deadline %s, caller deadline %s", got.deadline, callerDeadline)
					}
				case <-time.After(10 * time.Second):
					t.Fatal("the plugin handler's context never ended")
				}
			}
		})
	}
}

// reattached serves impl the way `augur plugin` does (plugin.Serve, in test
// mode) and connects a Client to it through a reattach config.
func reattached(t *testing.T, impl Analyzer) *Client {
	t.Helper()
	return reattachedTB(t, impl)
}

func reattachedTB(t testing.TB, impl Analyzer) *Client {
	t.Helper()
	cfg, err := serveConfig(ServeOptions{Analyzer: impl})
	if err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	reattach := make(chan *plugin.ReattachConfig, 1)
	closed := make(chan struct{})
	cfg.Test = &plugin.ServeTestConfig{Context: ctx, ReattachConfigCh: reattach, CloseCh: closed}
	go plugin.Serve(cfg)
	var rc *plugin.ReattachConfig
	select {
	case rc = <-reattach:
	case <-time.After(10 * time.Second):
		t.Fatal("plugin.Serve sent no reattach config")
	}
	c, err := start(ctx, &plugin.ClientConfig{Reattach: rc}, ClientOptions{Path: "in-process"})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() {
		c.Close()
		cancel()
		<-closed
	})
	return c
}

func TestServeReattach(t *testing.T) {
	svc := newService(t, writeData(t, t.TempDir(), podinfoSeries(1)))
	c := reattached(t, svc)
	want, err := svc.Decide(t.Context(), decideRequest())
	if err != nil {
		t.Fatal(err)
	}
	got, err := c.Decide(t.Context(), decideRequest())
	if err != nil {
		t.Fatal(err)
	}
	if diff := cmp.Diff(want, got, eventPhaseIgnored); diff != "" {
		t.Errorf("(-service +plugin):\n%s", diff)
	}
}

// TestConcurrentCalls runs many calls at once over one connection (-race).
func TestConcurrentCalls(t *testing.T) {
	svc := newService(t, writeData(t, t.TempDir(), podinfoSeries(1)))
	c := reattached(t, svc)
	want, err := svc.Query(t.Context(), service.QueryRequest{Canary: podinfoCanary(), MetricTemplates: []analysis.MetricTemplate{errorRateTemplate()}})
	if err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	errs := make(chan error, 32)
	for range 32 {
		wg.Go(func() {
			got, err := c.Query(t.Context(), service.QueryRequest{Canary: podinfoCanary(), MetricTemplates: []analysis.MetricTemplate{errorRateTemplate()}})
			if err != nil {
				errs <- err
				return
			}
			if diff := cmp.Diff(want, got, eventPhaseIgnored); diff != "" {
				errs <- errors.New(diff)
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func TestServeRefusesWithoutCookie(t *testing.T) {
	t.Setenv(MagicCookieKey, "")
	err := Serve(ServeOptions{Analyzer: failing{}})
	if !errors.Is(err, ErrNotPluginHost) {
		t.Errorf("Serve without the cookie: %v, want ErrNotPluginHost", err)
	}
}

func TestStartValidates(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	cancel()
	tests := []struct {
		name string
		ctx  context.Context
		opts ClientOptions
		want error
	}{
		{"no path", t.Context(), ClientOptions{}, nil},
		{"cancelled context", ctx, ClientOptions{Path: "/bin/true"}, context.Canceled},
		{"not a plugin", t.Context(), ClientOptions{Path: "/bin/true"}, nil},
		{"missing binary", t.Context(), ClientOptions{Path: filepath.Join(t.TempDir(), "nope")}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := Start(tt.ctx, tt.opts)
			if err == nil {
				c.Close()
				t.Fatal("Start succeeded")
			}
			if tt.want != nil && !errors.Is(err, tt.want) {
				t.Errorf("error %v, want %v", err, tt.want)
			}
		})
	}
}

// eventPhaseIgnored drops analysis.Event.Phase from comparisons: it is not
// part of the JSON answer (the engine uses it for event hooks, which run
// where the engine runs), so no transport carries it.
var eventPhaseIgnored = cmpopts.IgnoreFields(analysis.Event{}, "Phase")

package server

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/engine"
	"github.com/augurproj/augur/metrics"
	"github.com/augurproj/augur/metrics/metricstest"
	"github.com/augurproj/augur/service"
	"github.com/augurproj/augur/webhooks"
)

func ptr[T any](v T) *T { return &v }

func TestParseMetadata(t *testing.T) {
	tests := []struct {
		name string
		md   map[string]string
		want checkSpec
		err  string
	}{
		{name: "none", md: nil, want: checkSpec{}},
		{name: "query", md: map[string]string{"query": "sum(up)", "max": "1", "interval": "2m", "var.app": "x"},
			want: checkSpec{metrics: []analysis.Metric{{Name: "query", Query: "sum(up)", Interval: "2m",
				ThresholdRange: &analysis.ThresholdRange{Max: ptr(1.0)}, TemplateVariables: map[string]string{"app": "x"}}}}},
		{name: "query-named", md: map[string]string{"query": "sum(up)", "name": "error-rate", "min": "-1.5", "max": "1e3"},
			want: checkSpec{metrics: []analysis.Metric{{Name: "error-rate", Query: "sum(up)", Interval: "1m",
				ThresholdRange: &analysis.ThresholdRange{Min: ptr(-1.5), Max: ptr(1000.0)}}}}},
		{name: "template-namespaced", md: map[string]string{"template": "istio-system/not-found-percentage", "max": "5"},
			want: checkSpec{metrics: []analysis.Metric{{Name: "not-found-percentage", Interval: "1m",
				TemplateRef:    &analysis.CrossNamespaceObjectReference{Name: "not-found-percentage", Namespace: "istio-system"},
				ThresholdRange: &analysis.ThresholdRange{Max: ptr(5.0)}}}}},
		{name: "template-local", md: map[string]string{"template": "latency", "min": "0", "target": "app", "service": "app-svc"},
			want: checkSpec{target: "app", service: "app-svc", metrics: []analysis.Metric{{Name: "latency", Interval: "1m",
				TemplateRef:    &analysis.CrossNamespaceObjectReference{Name: "latency"},
				ThresholdRange: &analysis.ThresholdRange{Min: ptr(0.0)}}}}},
		{name: "metrics-yaml", md: map[string]string{"metrics": "- name: request-success-rate\n  thresholdRange: {min: 99}\n  interval: 1m\n- name: rps\n  query: sum(up)\n  thresholdRange:\n    min: 1\n",
			"meshProvider": "linkerd", "metricsServer": "http://prom:9090"},
			want: checkSpec{meshProvider: "linkerd", metricsServer: "http://prom:9090", metrics: []analysis.Metric{
				{Name: "request-success-rate", Interval: "1m", ThresholdRange: &analysis.ThresholdRange{Min: ptr(99.0)}},
				{Name: "rps", Query: "sum(up)", ThresholdRange: &analysis.ThresholdRange{Min: ptr(1.0)}}}}},
		{name: "metrics-json", md: map[string]string{"metrics": `[{"name":"request-duration","thresholdRange":{"max":500}}]`},
			want: checkSpec{metrics: []analysis.Metric{{Name: "request-duration", ThresholdRange: &analysis.ThresholdRange{Max: ptr(500.0)}}}}},
		{name: "own-with-target", md: map[string]string{"target": "other"}, want: checkSpec{target: "other"}},
		{name: "token-ignored", md: map[string]string{"token": "s3cret", "query": "up", "max": "1"},
			want: checkSpec{metrics: []analysis.Metric{{Name: "query", Query: "up", Interval: "1m", ThresholdRange: &analysis.ThresholdRange{Max: ptr(1.0)}}}}},

		{name: "typo", md: map[string]string{"qurey": "up", "max": "1"}, err: `metadata.qurey: unknown key (did you mean "query"?)`},
		{name: "unknown", md: map[string]string{"colour": "blue"}, err: `metadata.colour: unknown key (known: query, template`},
		{name: "two-modes", md: map[string]string{"query": "up", "template": "t", "max": "1"}, err: "give one of query, template and metrics, not query and template"},
		{name: "bounds-without-query", md: map[string]string{"max": "1"}, err: "give query or template too"},
		{name: "bounds-with-metrics", md: map[string]string{"metrics": "[]", "max": "1"}, err: "with metrics, put them in the list entries"},
		{name: "no-bounds", md: map[string]string{"query": "up"}, err: "metadata: give min, max or both"},
		{name: "nan", md: map[string]string{"query": "up", "min": "NaN"}, err: `metadata.min: "NaN" is not a finite number`},
		{name: "inf", md: map[string]string{"query": "up", "max": "+Inf"}, err: `metadata.max: "+Inf" is not a finite number`},
		{name: "not-a-number", md: map[string]string{"query": "up", "max": "five"}, err: `metadata.max: "five" is not a finite number`},
		{name: "min-above-max", md: map[string]string{"query": "up", "min": "2", "max": "1"}, err: "metadata.min/max: min 2 is greater than max 1"},
		{name: "bad-interval", md: map[string]string{"query": "up", "max": "1", "interval": "1 minute"}, err: "metadata.interval: "},
		{name: "builtin-name", md: map[string]string{"query": "up", "max": "1", "name": "request-duration"}, err: `metadata.name: "request-duration" is a Flagger builtin metric name`},
		{name: "empty-query", md: map[string]string{"query": " ", "max": "1"}, err: "metadata.query: empty"},
		{name: "bad-template", md: map[string]string{"template": "a/b/c", "max": "1"}, err: `metadata.template: "a/b/c": want namespace/name or name`},
		{name: "empty-var", md: map[string]string{"query": "up", "max": "1", "var.": "x"}, err: "metadata.var.: want var.<name>"},
		{name: "metrics-not-yaml", md: map[string]string{"metrics": "- name: [oops"}, err: "metadata.metrics: not YAML"},
		{name: "metrics-not-list", md: map[string]string{"metrics": "name: x"}, err: "metadata.metrics: "},
		{name: "metrics-empty", md: map[string]string{"metrics": "[]"}, err: "metadata.metrics: want at least one metric"},
		{name: "metrics-bad-entry", md: map[string]string{"metrics": "- name: x\n  thresholdRange: {mxa: 1}\n"}, err: `metadata.metrics[0].thresholdRange.mxa: unknown field "mxa" (did you mean "max"?)`},
		{name: "metrics-unusable", md: map[string]string{"metrics": "- name: x\n"}, err: `metadata.metrics[0]: metric "x" is not builtin`},
		{name: "metrics-duplicate", md: map[string]string{"metrics": "- name: request-duration\n- name: request-duration\n"}, err: "metadata.metrics[1].name"},
		{name: "bad-mesh", md: map[string]string{"meshProvider": "linkred"}, err: `metadata.meshProvider: "linkred" is not one of`},
		{name: "bad-server", md: map[string]string{"metricsServer": "prometheus:9090"}, err: `metadata.metricsServer: "prometheus:9090" is not an absolute`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseMetadata(tc.md)
			if tc.err != "" {
				if err == nil {
					t.Fatalf("want error containing %q, got %+v", tc.err, got)
				}
				if !errors.Is(err, service.ErrBadRequest) {
					t.Errorf("error %v does not wrap ErrBadRequest", err)
				}
				if !strings.Contains(err.Error(), tc.err) {
					t.Errorf("error %q does not contain %q", err, tc.err)
				}
				if strings.Contains(err.Error(), "\n") {
					t.Errorf("error is not one line: %q", err)
				}
				return
			}
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff(tc.want, got, cmp.AllowUnexported(checkSpec{})); diff != "" {
				t.Errorf("(-want +got):\n%s", diff)
			}
		})
	}
}

// flaggerBody is exactly the JSON Flagger's CallWebhook marshals.
func flaggerBody(t *testing.T, name, namespace string, md map[string]string) string {
	t.Helper()
	return mustJSON(t, webhooks.Payload{Name: name, Namespace: namespace, Phase: "Progressing", Checksum: "6d5bd4c9f", Metadata: md})
}

const rpsQuery = `sum(rate(istio_requests_total{destination_workload="{{ target }}",destination_workload_namespace="{{ namespace }}"}[{{ interval }}]))`

func TestFlaggerCheck(t *testing.T) {
	h := podinfoHarness(t, "healthy.om", nil)
	tests := []struct {
		name      string
		canary    string // namespace/name
		md        map[string]string
		code      int
		raw       string // body, instead of a payload
		substring string
	}{
		{name: "own-metrics", canary: "test/podinfo", code: 200, substring: "passed: request-success-rate = 100"},
		{name: "query-pass", canary: "test/podinfo", md: map[string]string{"query": rpsQuery, "min": "1", "name": "rps"}, code: 200, substring: "passed: rps = 7.91"},
		{name: "query-fail", canary: "test/podinfo", md: map[string]string{"query": rpsQuery, "max": "1", "name": "rps"}, code: 403, substring: "rps = 7.9111111111111105 is above the maximum 1"},
		{name: "template", canary: "test/podinfo", md: map[string]string{"template": "istio-system/not-found-percentage", "max": "5"}, code: 200, substring: "not-found-percentage = 0"},
		{name: "template-missing", canary: "test/podinfo", md: map[string]string{"template": "nope", "max": "5"}, code: 400, substring: "canary test/podinfo: metric nope: MetricTemplate test/nope not found"},
		{name: "metrics-list", canary: "test/podinfo", md: map[string]string{"metrics": "- name: request-duration\n  thresholdRange: {max: 100}\n- name: request-success-rate\n  thresholdRange: {min: 99}\n"},
			code: 403, substring: "request-duration = 243ms (243.0000000000001ms truncated to whole milliseconds) is above the maximum 100ms"},
		{name: "unknown-canary-target", canary: "test/podinfo-webhook", md: map[string]string{"query": rpsQuery, "min": "1", "target": "podinfo"}, code: 200, substring: "passed: query = 7.91"},
		{name: "unknown-canary-no-data", canary: "test/other", md: map[string]string{"query": rpsQuery, "min": "1"}, code: 403, substring: "query has no value (no-values)"},
		{name: "unknown-canary-own", canary: "test/other", code: 400, substring: "augur does not know Canary test/other"},
		{name: "malformed", canary: "test/podinfo", md: map[string]string{"query": "up", "min": "x"}, code: 400, substring: `augur: malformed metadata: metadata.min: "x" is not a finite number`},
		{name: "metadata-number", raw: `{"name":"podinfo","namespace":"test","metadata":{"min":1}}`, code: 400, substring: "metadata.min: want a string"},
		{name: "no-name", raw: `{"namespace":"test"}`, code: 400, substring: "name: required"},
		{name: "not-json", raw: `name=podinfo`, code: 400, substring: "augur: request body: invalid character"},
		{name: "extra-payload-fields", raw: `{"name":"podinfo","namespace":"test","phase":"Progressing","checksum":"1","metadata":{},"future":true}`, code: 200, substring: "passed"},
		{name: "render-error", canary: "test/podinfo", md: map[string]string{"query": "{{ nope }}", "max": "1"}, code: 403, substring: "query has no value (render)"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			b := tc.raw
			if b == "" {
				ns, name, _ := strings.Cut(tc.canary, "/")
				b = flaggerBody(t, name, ns, tc.md)
			}
			a := do(t, http.MethodPost, h.url+"/flagger/v1/check", b, nil)
			if a.code != tc.code {
				t.Fatalf("status %d, want %d: %s", a.code, tc.code, a.body)
			}
			if !strings.Contains(a.body, tc.substring) {
				t.Errorf("answer %q does not contain %q", a.body, tc.substring)
			}
			if strings.Count(a.body, "\n") != 1 || !strings.HasSuffix(a.body, "\n") {
				t.Errorf("answer is not one line: %q", a.body)
			}
			if ct := a.header.Get("Content-Type"); !strings.HasPrefix(ct, "text/plain") {
				t.Errorf("Content-Type %q", ct)
			}
			golden(t, "check/"+tc.name+".txt", fmt.Sprintf("%d %s", a.code, a.body))
		})
	}
}

func TestOneLine(t *testing.T) {
	long := strings.Repeat("é", maxReason)
	tests := []struct{ in, want string }{
		{"a\nb\t c  ", "a b c"},
		{"", ""},
		{long, strings.Repeat("é", (maxReason-len("…"))/2) + "…"},
	}
	for _, tc := range tests {
		got := oneLine(tc.in)
		if got != tc.want {
			t.Errorf("oneLine(%.20q) = %.40q, want %.40q", tc.in, got, tc.want)
		}
		if len(got) > maxReason {
			t.Errorf("oneLine gave %d bytes", len(got))
		}
	}
}

// TestFlaggerClient calls the check endpoint through augur's webhooks
// client, which behaves as Flagger's (POST JSON, <=202 passes, a 4xx body
// is the error, per-attempt timeout), and through a whole tick whose
// rollout webhook is augur's own endpoint: the event is Flagger's.
func TestFlaggerClient(t *testing.T) {
	p := &metricstest.Provider{}
	p.Set("sum(up)", metricstest.Result{Value: 3})
	p.Set("slow", metricstest.Result{Value: 1})
	slowReg := &metrics.Registry{}
	slow := &metricstest.Provider{Latency: 2 * time.Second}
	slow.SetDefault(metricstest.Result{Value: 1})
	slowReg.Register("prometheus", func(cfg metrics.Config) (metrics.Provider, error) {
		if strings.Contains(cfg.Address, "slow") {
			return slow, nil
		}
		return p, nil
	})
	h := newHarness(t, harnessConfig{registry: slowReg, set: podinfoFiles(t)})
	client := webhooks.New(webhooks.Options{})
	ctx := context.Background()
	hook := func(md map[string]string, timeout time.Duration) webhooks.Hook {
		return webhooks.Hook{Name: "augur", URL: h.url + "/flagger/v1/check", Type: "rollout", Timeout: timeout, Metadata: md}
	}
	payload := func(md map[string]string) webhooks.Payload {
		return webhooks.Payload{Name: "podinfo", Namespace: "test", Phase: "Progressing", Checksum: "abc", Metadata: md}
	}

	pass := map[string]string{"query": "sum(up)", "min": "1"}
	if err := client.Call(ctx, hook(pass, time.Second), payload(pass)); err != nil {
		t.Errorf("passing check: %v", err)
	}
	fail := map[string]string{"query": "sum(up)", "max": "1", "name": "errors"}
	err := client.Call(ctx, hook(fail, time.Second), payload(fail))
	var se *webhooks.StatusError
	if !errors.As(err, &se) || se.Code != http.StatusForbidden || !strings.Contains(err.Error(), "errors = 3 is above the maximum 1") {
		t.Errorf("failing check: %v", err)
	}
	slowMD := map[string]string{"query": "slow", "min": "1", "metricsServer": "http://slow:9090"}
	err = client.Call(ctx, hook(slowMD, 200*time.Millisecond), payload(slowMD))
	if err == nil || !strings.Contains(err.Error(), "timeout") && !strings.Contains(err.Error(), "deadline") {
		t.Errorf("a check slower than the hook's timeout: %v", err)
	}

	// A tick of another augur whose rollout webhook is this server.
	canary := podinfoFiles(t).Canaries[0]
	canary.Spec.Analysis.Metrics = nil
	canary.Spec.Analysis.Webhooks = []analysis.Webhook{{Name: "augur-check", Type: analysis.HookRollout, URL: h.url + "/flagger/v1/check",
		Timeout: "5s", Metadata: &map[string]string{"query": "sum(up)", "max": "1", "name": "error-rate"}}}
	eng, err := engine.New(engine.Options{Registry: fakeRegistry(p), Hooks: client})
	if err != nil {
		t.Fatal(err)
	}
	d, err := eng.Tick(ctx, engine.TickRequest{Canary: canary, Status: analysis.CanaryStatus{Phase: analysis.PhaseProgressing, CanaryWeight: 10}, Now: time.Now()})
	if err != nil {
		t.Fatal(err)
	}
	want := "Halt podinfo.test advancement external check augur-check failed error-rate = 3 is above the maximum 1"
	if d.Action != analysis.ActionHold || len(d.Events) == 0 || strings.TrimSpace(d.Events[0].Message) != want {
		t.Errorf("tick through the webhook: action %s, events %+v; want hold with %q", d.Action, d.Events, want)
	}
}

func TestGate(t *testing.T) {
	p := &metricstest.Provider{}
	p.Set("good", metricstest.Result{Value: 1})
	p.Set("bad", metricstest.Result{Value: 9})
	now := time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)
	h := fakeHarness(t, p, func(o *Options) {
		o.MaxGates = 2
		o.Now = func() time.Time { return now }
	})
	call := func(path, name, checksum string, md map[string]string) answer {
		b := mustJSON(t, webhooks.Payload{Name: name, Namespace: "test", Phase: "Progressing", Checksum: checksum, Metadata: md})
		return do(t, http.MethodPost, h.url+path, b, nil)
	}
	steps := []struct {
		path, name, checksum string
		md                   map[string]string
		code                 int
		substring            string
	}{
		{"/flagger/v1/gate", "podinfo", "rev1", nil, 403, "waiting for approval: gate test/podinfo is closed"},
		{"/flagger/v1/gate/open", "podinfo", "", nil, 202, "gate test/podinfo open"},
		{"/flagger/v1/gate", "podinfo", "rev1", nil, 200, "approved: gate test/podinfo is open"},
		{"/flagger/v1/gate", "podinfo", "rev1", map[string]string{"query": "good", "max": "1"}, 200, "approved: gate test/podinfo is open; passed: query = 1"},
		{"/flagger/v1/gate", "podinfo", "rev1", map[string]string{"query": "bad", "max": "1"}, 403, "query = 9 is above the maximum 1"},
		{"/flagger/v1/gate", "podinfo", "rev2", nil, 403, "was opened for revision rev1, this is revision rev2"},
		{"/flagger/v1/gate", "podinfo", "rev2", nil, 403, "is closed"},
		{"/flagger/v1/gate/open", "podinfo", "rev3", nil, 202, "gate test/podinfo open for revision rev3"},
		{"/flagger/v1/gate", "podinfo", "rev2", nil, 403, "was opened for revision rev3"},
		{"/flagger/v1/gate/open", "podinfo", "", nil, 202, "open"},
		{"/flagger/v1/gate/close", "podinfo", "", nil, 202, "gate test/podinfo closed"},
		{"/flagger/v1/gate", "podinfo", "rev2", nil, 403, "is closed"},
		{"/flagger/v1/gate/open", "a", "", nil, 202, "open"},
		{"/flagger/v1/gate/open", "b", "", nil, 202, "open"},
		{"/flagger/v1/gate/open", "c", "", nil, 503, "too many open gates (2)"},
		{"/flagger/v1/gate/open", "a", "x", nil, 202, "open for revision x"},
		{"/flagger/v1/gate", "podinfo", "rev1", map[string]string{"query": "good"}, 400, "malformed metadata"},
	}
	for i, s := range steps {
		a := call(s.path, s.name, s.checksum, s.md)
		if a.code != s.code || !strings.Contains(a.body, s.substring) {
			t.Fatalf("step %d %s %s (%s): %d %q; want %d containing %q", i, s.path, s.name, s.checksum, a.code, a.body, s.code, s.substring)
		}
	}
	a := do(t, http.MethodGet, h.url+"/flagger/v1/gate/test/a", "", nil)
	want := `{"namespace":"test","name":"a","open":true,"checksum":"x","openedAt":"2026-11-01T10:00:00Z"}` + "\n"
	if a.code != 200 || a.body != want {
		t.Errorf("GET gate: %d %s, want %s", a.code, a.body, want)
	}
	a = do(t, http.MethodGet, h.url+"/flagger/v1/gate/test/podinfo", "", nil)
	if want := `{"namespace":"test","name":"podinfo","open":false}` + "\n"; a.code != 200 || a.body != want {
		t.Errorf("GET closed gate: %d %s, want %s", a.code, a.body, want)
	}
}

// panicking is a CanarySource that panics, to test the recovery path.
type panicking struct{}

func (panicking) Canary(context.Context, string, string) (analysis.Canary, error) {
	panic("source exploded")
}

// failing is a CanarySource whose cluster is unreachable.
type failing struct{}

func (failing) Canary(context.Context, string, string) (analysis.Canary, error) {
	return analysis.Canary{}, errors.New("dial tcp 127.0.0.1:6443: connection refused")
}

func TestCanarySources(t *testing.T) {
	p := &metricstest.Provider{}
	p.SetDefault(metricstest.Result{Value: 1})
	t.Run("unreachable", func(t *testing.T) {
		h := fakeHarness(t, p, func(o *Options) { o.Canaries = []CanarySource{failing{}} })
		a := do(t, http.MethodPost, h.url+"/flagger/v1/check", flaggerBody(t, "podinfo", "test", nil), nil)
		if a.code != 403 || !strings.Contains(a.body, "reading Canary test/podinfo: dial tcp 127.0.0.1:6443: connection refused") {
			t.Errorf("%d %q", a.code, a.body)
		}
	})
	t.Run("first-that-knows", func(t *testing.T) {
		other := analysis.Canary{Metadata: analysis.ObjectMeta{Name: "podinfo", Namespace: "test"}}
		set := podinfoFiles(t)
		h := fakeHarness(t, p, func(o *Options) {
			o.Canaries = []CanarySource{StaticCanaries{}, StaticCanaries(set.Canaries), StaticCanaries{other}}
		})
		a := do(t, http.MethodPost, h.url+"/flagger/v1/check", flaggerBody(t, "podinfo", "test", nil), nil)
		if a.code != 403 || !strings.Contains(a.body, "request-success-rate = 1 is below the minimum 99") {
			t.Errorf("%d %q", a.code, a.body)
		}
	})
	t.Run("known-without-metrics", func(t *testing.T) {
		bare := analysis.Canary{Metadata: analysis.ObjectMeta{Name: "bare", Namespace: "test"}}
		h := fakeHarness(t, p, func(o *Options) { o.Canaries = []CanarySource{StaticCanaries{bare}} })
		a := do(t, http.MethodPost, h.url+"/flagger/v1/check", flaggerBody(t, "bare", "test", nil), nil)
		if a.code != 400 || a.body != "augur: Canary test/bare has no analysis.metrics: give query, template or metrics in the webhook metadata\n" {
			t.Errorf("%d %q", a.code, a.body)
		}
	})
	t.Run("panic", func(t *testing.T) {
		h := fakeHarness(t, p, func(o *Options) { o.Canaries = []CanarySource{panicking{}} })
		a := do(t, http.MethodPost, h.url+"/flagger/v1/check", flaggerBody(t, "podinfo", "test", nil), nil)
		if a.code != 500 || a.body != `{"error":"internal error"}`+"\n" {
			t.Errorf("%d %q", a.code, a.body)
		}
		if !strings.Contains(h.logs.String(), "source exploded") {
			t.Errorf("the panic is not logged:\n%s", h.logs)
		}
	})
}

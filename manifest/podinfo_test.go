package manifest

import (
	"bytes"
	"encoding/json"
	"os"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/augurproj/augur/analysis"
)

func ptr[T any](v T) *T { return &v }

// wantPodinfoCanary is testdata/podinfo/canary.yaml: the walkthrough's canary.
func wantPodinfoCanary() analysis.Canary {
	return analysis.Canary{
		APIVersion: analysis.APIVersion,
		Kind:       analysis.KindCanary,
		Metadata:   analysis.ObjectMeta{Name: "podinfo", Namespace: "test"},
		Spec: analysis.CanarySpec{
			TargetRef:               analysis.CrossNamespaceObjectReference{APIVersion: "apps/v1", Kind: "Deployment", Name: "podinfo"},
			ProgressDeadlineSeconds: ptr(int32(60)),
			AutoscalerRef:           json.RawMessage(`{"apiVersion":"autoscaling/v2","kind":"HorizontalPodAutoscaler","name":"podinfo"}`),
			Service: analysis.CanaryService{Other: map[string]json.RawMessage{
				"port":          json.RawMessage(`9898`),
				"targetPort":    json.RawMessage(`9898`),
				"gateways":      json.RawMessage(`["istio-system/public-gateway"]`),
				"hosts":         json.RawMessage(`["app.example.com"]`),
				"trafficPolicy": json.RawMessage(`{"tls":{"mode":"DISABLE"}}`),
				"retries":       json.RawMessage(`{"attempts":3,"perTryTimeout":"1s","retryOn":"gateway-error,connect-failure,refused-stream"}`),
			}},
			Analysis: &analysis.Analysis{
				Interval:   "1m",
				Threshold:  5,
				MaxWeight:  50,
				StepWeight: 10,
				Metrics: []analysis.Metric{
					{Name: "request-success-rate", Interval: "1m", ThresholdRange: &analysis.ThresholdRange{Min: ptr(99.0)}},
					{Name: "request-duration", Interval: "30s", ThresholdRange: &analysis.ThresholdRange{Max: ptr(500.0)}},
					{
						Name: "not-found-percentage", Interval: "1m",
						TemplateRef:    &analysis.CrossNamespaceObjectReference{Name: "not-found-percentage", Namespace: "istio-system"},
						ThresholdRange: &analysis.ThresholdRange{Max: ptr(5.0)},
					},
				},
				Webhooks: []analysis.Webhook{
					{
						Name: "acceptance-test", Type: analysis.HookPreRollout, URL: "http://flagger-loadtester.test/", Timeout: "30s",
						Metadata: &map[string]string{"type": "bash", "cmd": "curl -sd 'test' http://podinfo-canary:9898/token | grep token"},
					},
					{
						Name: "load-test", URL: "http://flagger-loadtester.test/", Timeout: "5s",
						Metadata: &map[string]string{"cmd": "hey -z 1m -q 10 -c 2 http://podinfo-canary.test:9898/"},
					},
				},
			},
		},
	}
}

const wantPodinfoQuery = `100 - sum(
    rate(
        istio_requests_total{
          reporter="destination",
          destination_workload_namespace="{{ namespace }}",
          destination_workload="{{ target }}",
          response_code!="404"
        }[{{ interval }}]
    )
)
/
sum(
    rate(
        istio_requests_total{
          reporter="destination",
          destination_workload_namespace="{{ namespace }}",
          destination_workload="{{ target }}"
        }[{{ interval }}]
    )
) * 100
`

// TestPodinfo decodes the walkthrough's files, checks every field, validates
// and resolves them, and round-trips them through JSON.
func TestPodinfo(t *testing.T) {
	tests := []struct {
		name   string
		decode func() (*Set, error)
	}{
		{"directory", func() (*Set, error) { return DecodePaths([]string{"../testdata/podinfo"}) }},
		{"files", func() (*Set, error) {
			return DecodePaths([]string{"../testdata/podinfo/canary.yaml", "../testdata/podinfo/metrictemplate.yaml"})
		}},
		{"one stream", func() (*Set, error) {
			var b bytes.Buffer
			for _, f := range []string{"../testdata/podinfo/canary.yaml", "../testdata/podinfo/metrictemplate.yaml"} {
				data, err := os.ReadFile(f)
				if err != nil {
					return nil, err
				}
				b.WriteString("---\n")
				b.Write(data)
			}
			return Decode(&b, "<stdin>")
		}},
	}
	wantTemplate := analysis.MetricTemplate{
		APIVersion: analysis.APIVersion,
		Kind:       analysis.KindMetricTemplate,
		Metadata:   analysis.ObjectMeta{Name: "not-found-percentage", Namespace: "istio-system"},
		Spec: analysis.MetricTemplateSpec{
			Provider: analysis.MetricTemplateProvider{Type: "prometheus", Address: "http://prometheus.istio-system:9090"},
			Query:    wantPodinfoQuery,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			t.Parallel()
			set, err := tt.decode()
			if err != nil {
				t.Fatal(err)
			}
			if diff := cmp.Diff([]analysis.Canary{wantPodinfoCanary()}, set.Canaries); diff != "" {
				t.Errorf("canary (-want +got):\n%s", diff)
			}
			if diff := cmp.Diff([]analysis.MetricTemplate{wantTemplate}, set.Templates); diff != "" {
				t.Errorf("template (-want +got):\n%s", diff)
			}
			if err := Validate(set); err != nil {
				t.Errorf("validate: %v", err)
			}
			if err := Resolve(set); err != nil {
				t.Errorf("resolve: %v", err)
			}
			c := &set.Canaries[0]
			tmpl, ok := set.TemplateFor(c, &c.Spec.Analysis.Metrics[2])
			if !ok || tmpl.Metadata.Name != "not-found-percentage" {
				t.Errorf("TemplateFor = %v, %v", tmpl, ok)
			}
			out, err := EncodeJSON(set)
			if err != nil {
				t.Fatal(err)
			}
			again, err := DecodeBytes(out, "re-encoded")
			if err != nil {
				t.Fatal(err)
			}
			equalSets(t, set, again)
		})
	}
}

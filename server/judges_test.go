package server

import (
	"net/http"
	"strings"
	"testing"

	"github.com/google/go-cmp/cmp"

	"github.com/augurproj/augur/analysis"
)

func TestParseMetadataJudges(t *testing.T) {
	tests := []struct {
		name string
		md   map[string]string
		want checkSpec
		err  string
	}{
		{name: "judge keys with a query, no bounds", md: map[string]string{"query": "sum(up)", "name": "rps", "judge": "mann-whitney", "window": "10m"},
			want: checkSpec{metrics: []analysis.Metric{{Name: "rps", Query: "sum(up)", Interval: "1m"}},
				judges: map[string]map[string]string{"rps": {"judge": "mann-whitney", "window": "10m"}}}},
		{name: "judge keys with a template and bounds", md: map[string]string{"template": "latency", "max": "500", "judge": "sequential"},
			want: checkSpec{metrics: []analysis.Metric{{Name: "latency", Interval: "1m", TemplateRef: &analysis.CrossNamespaceObjectReference{Name: "latency"},
				ThresholdRange: &analysis.ThresholdRange{Max: ptr(500.0)}}},
				judges: map[string]map[string]string{"latency": {"judge": "sequential"}}}},
		{name: "judges for the Canary's own metrics", md: map[string]string{"judges": "request-duration: {judge: histogram, alpha: 0.01, critical: true}\nrequest-success-rate: {}\n"},
			want: checkSpec{judges: map[string]map[string]string{"request-duration": {"judge": "histogram", "alpha": "0.01", "critical": "true"},
				"request-success-rate": {}}}},
		{name: "judge keys need query or template", md: map[string]string{"judge": "histogram"}, err: "the judge keys (judge) go with query or template; for the metrics list or the Canary's own metrics, use judges"},
		{name: "judge keys and judges", md: map[string]string{"query": "up", "judge": "histogram", "judges": "query: {}"}, err: "give the judge keys directly or judges, not both"},
		{name: "judges not a map", md: map[string]string{"judges": "- a"}, err: "metadata.judges: want a map from metric name to {key: value}"},
		{name: "judges with a list value", md: map[string]string{"judges": "m: {window: [1, 2]}"}, err: "metadata.judges.m.window: want a string, number or boolean"},
		{name: "misspelt judge key", md: map[string]string{"query": "up", "min": "1", "windw": "5m"}, err: `metadata.windw: unknown key (did you mean "window"?)`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			got, err := parseMetadata(tc.md)
			if tc.err != "" {
				if err == nil || !strings.Contains(err.Error(), tc.err) {
					t.Fatalf("err = %v, want %q", err, tc.err)
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

// TestFlaggerCheckJudged: Flagger's rollout webhook asks augur to judge the
// canary against its primary on the recorded datasets.
func TestFlaggerCheckJudged(t *testing.T) {
	duration := "- name: request-duration\n  thresholdRange: {max: 500}\n  interval: 30s\n"
	mean := `sum(rate(istio_request_duration_milliseconds_sum{destination_workload="{{ target }}"}[1m])) / ` +
		`sum(rate(istio_request_duration_milliseconds_count{destination_workload="{{ target }}"}[1m]))`
	tests := []struct {
		name, data string
		md         map[string]string
		code       int
		substring  []string
	}{
		{"the histogram judge fails the regression inside the threshold", "latency-regression.om",
			map[string]string{"metrics": duration, "judges": "request-duration: {judge: histogram, window: 10m}"}, 403,
			[]string{"is within [-Inf, 500ms]", "judged against the primary by histogram on histogram buckets, fails: High"}},
		{"the histogram judge passes identical sides", "identical.om",
			map[string]string{"metrics": duration, "judges": "request-duration: {judge: histogram, window: 10m}"}, 200,
			[]string{"passed: request-duration = ", "judged against the primary by histogram on histogram buckets, passes: Pass"}},
		{"judge keys on a query without bounds", "latency-regression.om",
			map[string]string{"query": mean, "name": "latency-mean", "judge": "mann-whitney", "direction": "increase", "window": "20m"}, 403,
			[]string{"latency-mean judged against the primary by mann-whitney on samples, fails: High"}},
		{"an inconclusive judge refuses and says so", "identical.om",
			map[string]string{"query": mean, "name": "latency-mean", "judge": "mann-whitney", "window": "2m"}, 403,
			[]string{"inconclusive: latency-mean judged against the primary by mann-whitney on samples, is inconclusive: Nodata"}},
		{"a bad judge value is a malformed call", "identical.om",
			map[string]string{"judges": "request-duration: {judge: histogram, alpha: 2}"}, 400,
			[]string{`metric "request-duration": invalid judge configuration: key "alpha": value 2`}},
		{"judges of a metric the Canary lacks", "identical.om",
			map[string]string{"judges": "latency: {judge: histogram}"}, 400, []string{`judges: the canary has no metric "latency"`}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := podinfoHarness(t, tc.data, nil)
			a := do(t, http.MethodPost, h.url+"/flagger/v1/check", flaggerBody(t, "podinfo", "test", tc.md), nil)
			if a.code != tc.code {
				t.Fatalf("status %d, want %d: %s", a.code, tc.code, a.body)
			}
			for _, s := range tc.substring {
				if !strings.Contains(a.body, s) {
					t.Errorf("answer %q does not contain %q", a.body, s)
				}
			}
		})
	}
}

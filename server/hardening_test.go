package server

import (
	"fmt"
	"net/http"
	"runtime"
	"strings"
	"testing"
	"time"
)

// TestNestedDuplicateKeysAre400: a member given twice at any depth is a
// 400 naming it, never last-wins ("deadlineExceeded":true,"deadlineExceeded":false
// promoted).
func TestNestedDuplicateKeysAre400(t *testing.T) {
	h := podinfoHarness(t, "healthy.om", nil)
	c := mustJSON(t, podinfoCanaryJSON(t))
	tests := []struct{ path, body, want string }{
		{"/v1/decide", `{"canary":` + c + `,"readiness":{"deadlineExceeded":true,"deadlineExceeded":false}}`, `readiness: field "deadlineExceeded" given twice`},
		{"/v1/decide", `{"canary":` + c + `,"status":{"phase":"Progressing","canaryWeight":10,"canaryWeight":50}}`, `status: field "canaryWeight" given twice`},
		{"/v1/decide", `{"canary":` + c + `,"values":{"request-success-rate":{"value":50,"value":100}}}`, `values.request-success-rate: field "value" given twice`},
		{"/v1/query", `{"canary":` + c + `,"judges":{"m":{"judge":"a","judge":"b"}}}`, `judges.m: field "judge" given twice`},
		{"/flagger/v1/check", `{"name":"podinfo","namespace":"test","metadata":{"max":"1","max":"100000","query":"up"}}`, `metadata: field "max" given twice`},
	}
	for _, tc := range tests {
		a := do(t, http.MethodPost, h.url+tc.path, tc.body, nil)
		if a.code != http.StatusBadRequest || !strings.Contains(strings.ReplaceAll(a.body, `\"`, `"`), tc.want) {
			t.Errorf("%s %.80s: %d %s, want 400 %q", tc.path, tc.body, a.code, a.body, tc.want)
		}
	}
}

// TestStatusOutOfRangeIs400: a status the CRD would not hold is refused,
// not acted on (canaryWeight 1000 promoted).
func TestStatusOutOfRangeIs400(t *testing.T) {
	h := podinfoHarness(t, "healthy.om", nil)
	c := mustJSON(t, podinfoCanaryJSON(t))
	for status, want := range map[string]string{
		`{"phase":"Progressing","canaryWeight":1000}`:                 "status.canaryWeight: 1000 is not within 0..100",
		`{"phase":"Progressing","canaryWeight":10,"failedChecks":-3}`: "status.failedChecks: -3 is negative",
		`{"phase":"Promoted"}`:                                        `status.phase: unknown phase "Promoted"`,
	} {
		a := do(t, http.MethodPost, h.url+"/v1/decide", `{"canary":`+c+`,"status":`+status+`}`, nil)
		if a.code != http.StatusBadRequest || !strings.Contains(strings.ReplaceAll(a.body, `\"`, `"`), want) {
			t.Errorf("status %s: %d %s, want 400 %q", status, a.code, a.body, want)
		}
	}
}

// manyKeys is a JSON object member list of n distinct keys.
func manyKeys(n int) string {
	var b strings.Builder
	for i := range n {
		if i > 0 {
			b.WriteByte(',')
		}
		fmt.Fprintf(&b, `"k%d":1`, i)
	}
	return b.String()
}

// TestManyKeysAreCheap: the duplicate-key check is linear and runs after
// authentication: a 60,000-key body (12 s of CPU before) costs little,
// with or without the token. Generous bounds: the point is "bounded".
func TestManyKeysAreCheap(t *testing.T) {
	if testing.Short() {
		t.Skip("abuse test")
	}
	const token = "abuse-token-123"
	h := podinfoHarness(t, "healthy.om", func(o *Options) { o.Token = token })
	keys := manyKeys(60000)
	tests := []struct {
		name, path, body string
		header           map[string]string
		code             int
	}{
		{"flagger-no-token", "/flagger/v1/check", `{"name":"podinfo","namespace":"test",` + keys + `}`, nil, http.StatusUnauthorized},
		{"flagger-metadata-keys-no-token", "/flagger/v1/check", `{"name":"podinfo","namespace":"test","metadata":{` + keys + `}}`, nil, http.StatusUnauthorized},
		{"flagger-token", "/flagger/v1/check", `{"name":"podinfo","namespace":"test","metadata":{"token":"` + token + `"},` + keys + `}`, nil, 0},
		{"decide-nested-keys", "/v1/decide", `{"values":{` + keys + `}}`, map[string]string{"Authorization": "Bearer " + token}, http.StatusBadRequest},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			var before, after runtime.MemStats
			runtime.ReadMemStats(&before)
			start := time.Now()
			a := do(t, http.MethodPost, h.url+tc.path, tc.body, tc.header)
			took := time.Since(start)
			runtime.ReadMemStats(&after)
			if tc.code != 0 && a.code != tc.code {
				t.Fatalf("%d %.200s, want %d", a.code, a.body, tc.code)
			}
			if len(a.body) > 64<<10 {
				t.Errorf("answer of %d bytes", len(a.body))
			}
			if took > slowdown*5*time.Second {
				t.Errorf("took %s", took)
			}
			if grew := after.TotalAlloc - before.TotalAlloc; grew > 1<<30 {
				t.Errorf("allocated %d MiB", grew>>20)
			}
		})
	}
}

// TestMetricSeriesBounded: invented metric names do not grow /metrics
// without bound.
func TestMetricSeriesBounded(t *testing.T) {
	m := NewMetrics(0, nil)
	for i := range 1000 {
		m.trackMetric("test", "podinfo", fmt.Sprintf("m%d", i))
	}
	n := 0
	for i := range 1000 {
		if m.trackMetric("test", "podinfo", fmt.Sprintf("m%d", i)) {
			n++
		}
	}
	if n != MaxMetricSeriesPerCanary {
		t.Errorf("%d metric series, want %d", n, MaxMetricSeriesPerCanary)
	}
}

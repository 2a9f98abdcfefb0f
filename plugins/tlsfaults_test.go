package plugins

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/engine"
	"github.com/augurproj/augur/metrics"
	"github.com/augurproj/augur/metrics/metricstest"
	"github.com/augurproj/augur/metrics/prometheus"
	"github.com/augurproj/augur/service"
)

// tlsProblem is the text a decision must hold for each TLS fault mode.
var tlsProblem = map[string]string{
	metricstest.TLSSelfSigned: "certificate signed by unknown authority",
	metricstest.TLSExpired:    "certificate has expired",
}

// TestTLSFaultsNeverAdvance: a Prometheus behind a certificate that fails
// verification (self-signed; expired), decided through the go-plugin
// transport: never advance or promote, the reasons name the TLS problem, no
// request gets past the handshake, no planted credential in the answer. The
// control skips verification on the same server and must advance.
func TestTLSFaultsNeverAdvance(t *testing.T) {
	const key, pass = "plugin-TLS-KEY-5e1f", "plugin-TLS-PASS-6a2b"
	reg := &metrics.Registry{}
	prometheus.Register(reg)
	eng, err := engine.New(engine.Options{Registry: reg, QueryTimeout: 5 * time.Second})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := service.New(service.Options{Engine: eng})
	if err != nil {
		t.Fatal(err)
	}
	client := inProcess(t, svc)
	for _, mode := range metricstest.TLSFaultModes {
		for _, skipVerify := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/insecureSkipVerify=%t", mode, skipVerify), func(t *testing.T) {
				ts, reached := metricstest.TLSFaultServer(t, mode, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
					fmt.Fprint(w, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1700000000,"50"]}]}}`)
				}))
				req := decideRequest()
				req.Canary.Spec.Analysis.Metrics = []analysis.Metric{{Name: "faulty", ThresholdRange: &analysis.ThresholdRange{Min: ptr(0.0), Max: ptr(100.0)},
					TemplateRef: &analysis.CrossNamespaceObjectReference{Name: "faulty", Namespace: "test"}}}
				tmpl := errorRateTemplate()
				tmpl.Metadata.Name = "faulty"
				tmpl.Spec.Query = "up"
				tmpl.Spec.Provider.Address = strings.Replace(ts.URL, "https://", "https://user:"+pass+"@", 1)
				tmpl.Spec.Provider.Headers = map[string][]string{"X-Api-Key": {key}}
				tmpl.Spec.Provider.InsecureSkipVerify = skipVerify
				req.MetricTemplates = []analysis.MetricTemplate{tmpl}
				ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
				defer cancel()
				d, err := client.Decide(ctx, req)
				if err != nil {
					t.Fatal(err)
				}
				b, _ := json.Marshal(d)
				advanced := d.Action == analysis.ActionAdvance || d.Action == analysis.ActionPromote
				if advanced != skipVerify {
					t.Errorf("action %s: %s", d.Action, b)
				}
				if !skipVerify {
					if !strings.Contains(string(b), tlsProblem[mode]) {
						t.Errorf("the answer does not name the TLS problem %q: %s", tlsProblem[mode], b)
					}
					if n := reached.Load(); n != 0 {
						t.Errorf("%d requests got past the handshake", n)
					}
				}
				for _, s := range []string{key, pass} {
					if strings.Contains(string(b), s) {
						t.Errorf("leaks %q: %s", s, b)
					}
				}
			})
		}
	}
}

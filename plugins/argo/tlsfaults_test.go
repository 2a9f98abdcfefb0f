package argo

import (
	"fmt"
	"net/http"
	"strings"
	"testing"

	"github.com/argoproj/argo-rollouts/pkg/apis/rollouts/v1alpha1"

	"github.com/augurproj/augur/metrics/metricstest"
)

// TestTLSFaultsNeverSucceed: a Prometheus behind a certificate that fails
// verification (self-signed; expired), measured through the plugin: never
// Successful (Argo would promote), the message names the TLS problem, no
// request gets past the handshake, no planted credential in the
// measurement or the metadata. The control skips verification on the same
// server and must succeed.
func TestTLSFaultsNeverSucceed(t *testing.T) {
	const key, pass = "argo-TLS-KEY-19cd", "argo-TLS-PASS-2ae0"
	problem := map[string]string{
		metricstest.TLSSelfSigned: "certificate signed by unknown authority",
		metricstest.TLSExpired:    "certificate has expired",
	}
	p := newProvider(t)
	for _, mode := range metricstest.TLSFaultModes {
		for _, skipVerify := range []bool{false, true} {
			t.Run(fmt.Sprintf("%s/insecureSkipVerify=%t", mode, skipVerify), func(t *testing.T) {
				ts, reached := metricstest.TLSFaultServer(t, mode, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
					w.Header().Set("Content-Type", "application/json")
					fmt.Fprint(w, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1700000000,"50"]}]}}`)
				}))
				addr := strings.Replace(ts.URL, "https://", "https://user:"+pass+"@", 1)
				cfg := obj{"address": addr, "query": "up", "headers": obj{"X-Api-Key": []string{key}}, "timeout": "5s",
					"insecureSkipVerify": skipVerify}
				m := metric(t, "tls-fault", cfg, "result[0] >= 0 && result[0] <= 100", "")
				got := p.Run(analysisRun("test"), m)
				if (got.Phase == v1alpha1.AnalysisPhaseSuccessful) != skipVerify {
					t.Errorf("phase %s: %s", got.Phase, got.Message)
				}
				if !skipVerify {
					if !strings.Contains(got.Message, problem[mode]) {
						t.Errorf("message does not name the TLS problem %q: %q", problem[mode], got.Message)
					}
					if n := reached.Load(); n != 0 {
						t.Errorf("%d requests got past the handshake", n)
					}
				}
				for _, text := range measurementTexts(got, p.GetMetadata(m)) {
					for _, s := range []string{key, pass} {
						if strings.Contains(text, s) {
							t.Errorf("leaks %q: %q", s, text)
						}
					}
				}
			})
		}
	}
}

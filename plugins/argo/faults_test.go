package argo

import (
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/argoproj/argo-rollouts/pkg/apis/rollouts/v1alpha1"
)

// TestFaultsNeverSucceed: Prometheus fault modes over a real loopback
// server, measured through the plugin: never Successful (Argo would
// promote), never a planted credential in the measurement, in bounded time.
func TestFaultsNeverSucceed(t *testing.T) {
	const key, pass = "argo-KEY-77aa", "argo-PASS-88bb"
	var ts *httptest.Server
	ts = httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		mode, _, _ := strings.Cut(strings.TrimPrefix(r.URL.Path, "/"), "/")
		var echo strings.Builder
		for k, vs := range r.Header {
			fmt.Fprintf(&echo, "%s=%s ", k, strings.Join(vs, ","))
		}
		vector := func(v string) string {
			return `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1700000000,"` + v + `"]}]}}`
		}
		switch mode {
		case "healthy":
			fmt.Fprint(w, vector("50"))
		case "401-echo":
			http.Error(w, "unauthorized: "+echo.String(), http.StatusUnauthorized)
		case "500":
			w.WriteHeader(http.StatusInternalServerError)
		case "envelope-echo":
			w.WriteHeader(http.StatusUnprocessableEntity)
			fmt.Fprint(w, `{"status":"error","errorType":"execution","error":"`+echo.String()+`"}`)
		case "truncated":
			w.Header().Set("Content-Length", "500")
			fmt.Fprint(w, vector("50")[:40])
		case "garbage":
			fmt.Fprint(w, "not json")
		case "nan":
			fmt.Fprint(w, vector("NaN"))
		case "inf":
			fmt.Fprint(w, vector("+Inf"))
		case "hang":
			<-r.Context().Done()
		case "huge-body":
			fmt.Fprint(w, `{"status":"success","data":{"resultType":"vector","result":[]},"x":"`)
			chunk := strings.Repeat("x", 1<<20)
			for range 40 {
				if _, err := fmt.Fprint(w, chunk); err != nil {
					return
				}
			}
		case "redirect-loop":
			http.Redirect(w, r, r.URL.RequestURI(), http.StatusFound)
		}
	}))
	t.Cleanup(ts.Close)
	p := newProvider(t)
	for _, mode := range []string{"healthy", "401-echo", "500", "envelope-echo", "truncated", "garbage", "nan", "inf", "hang", "huge-body", "redirect-loop", "unparsable-address"} {
		t.Run(mode, func(t *testing.T) {
			addr := strings.Replace(ts.URL, "http://", "http://user:"+pass+"@", 1) + "/" + mode
			if mode == "unparsable-address" {
				addr = "http://user:" + pass + "@host:badport"
			}
			cfg := obj{"address": addr, "query": "up", "headers": obj{"X-Api-Key": []string{key}}, "timeout": "2s"}
			m := metric(t, "fault", cfg, "result[0] >= 0 && result[0] <= 100", "")
			start := time.Now()
			got := p.Run(analysisRun("test"), m)
			if took := time.Since(start); took > 30*time.Second {
				t.Errorf("took %s", took)
			}
			if (got.Phase == v1alpha1.AnalysisPhaseSuccessful) != (mode == "healthy") {
				t.Errorf("phase %s: %s", got.Phase, got.Message)
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

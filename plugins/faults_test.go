package plugins

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/engine"
	"github.com/augurproj/augur/metrics"
	"github.com/augurproj/augur/metrics/prometheus"
	"github.com/augurproj/augur/service"
)

// TestFaultsNeverAdvance: Prometheus fault modes over a real loopback
// server, decided through the go-plugin transport: never advance or
// promote, never a planted credential in the answer, in bounded time.
func TestFaultsNeverAdvance(t *testing.T) {
	const key, pass = "plugin-KEY-31ce", "plugin-PASS-42df"
	ts := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
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
		case "envelope-echo":
			w.WriteHeader(http.StatusUnprocessableEntity)
			fmt.Fprint(w, `{"status":"error","errorType":"execution","error":"`+echo.String()+`"}`)
		case "truncated":
			w.Header().Set("Content-Length", "500")
			fmt.Fprint(w, vector("50")[:40])
		case "nan":
			fmt.Fprint(w, vector("NaN"))
		case "inf":
			fmt.Fprint(w, vector("+Inf"))
		case "hang":
			<-r.Context().Done()
		case "several-series":
			fmt.Fprint(w, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"1"},"value":[1,"50"]},{"metric":{"a":"2"},"value":[1,"50"]}]}}`)
		}
	}))
	t.Cleanup(ts.Close)
	reg := &metrics.Registry{}
	prometheus.Register(reg)
	eng, err := engine.New(engine.Options{Registry: reg, QueryTimeout: time.Second})
	if err != nil {
		t.Fatal(err)
	}
	svc, err := service.New(service.Options{Engine: eng})
	if err != nil {
		t.Fatal(err)
	}
	client := inProcess(t, svc)
	for _, mode := range []string{"healthy", "401-echo", "envelope-echo", "truncated", "nan", "inf", "hang", "several-series"} {
		t.Run(mode, func(t *testing.T) {
			req := decideRequest()
			req.Canary.Spec.Analysis.Metrics = []analysis.Metric{{Name: "faulty", ThresholdRange: &analysis.ThresholdRange{Min: ptr(0.0), Max: ptr(100.0)},
				TemplateRef: &analysis.CrossNamespaceObjectReference{Name: "faulty", Namespace: "test"}}}
			tmpl := errorRateTemplate()
			tmpl.Metadata.Name = "faulty"
			tmpl.Spec.Query = "up"
			tmpl.Spec.Provider.Address = strings.Replace(ts.URL, "http://", "http://user:"+pass+"@", 1) + "/" + mode
			tmpl.Spec.Provider.Headers = map[string][]string{"X-Api-Key": {key}}
			req.MetricTemplates = []analysis.MetricTemplate{tmpl}
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			d, err := client.Decide(ctx, req)
			if err != nil {
				t.Fatal(err)
			}
			advanced := d.Action == analysis.ActionAdvance || d.Action == analysis.ActionPromote
			if advanced != (mode == "healthy") {
				t.Errorf("action %s: %v", d.Action, d.Reasons)
			}
			b, _ := json.Marshal(d)
			for _, s := range []string{key, pass} {
				if strings.Contains(string(b), s) {
					t.Errorf("leaks %q: %s", s, b)
				}
			}
		})
	}
}

package providers

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	flaggerv1 "github.com/fluxcd/flagger/pkg/apis/flagger/v1beta1"
	fp "github.com/fluxcd/flagger/pkg/metrics/providers"
	"k8s.io/client-go/dynamic"
	"k8s.io/client-go/rest"

	"github.com/augurproj/augur/kube/clustermetrics"
	"github.com/augurproj/augur/metrics"
)

// apiServer is a loopback stand-in for the Kubernetes API as the keptn and
// externalmetrics providers use it: KeptnMetric GETs, Analysis create / get /
// delete (completed at once, passed when its args say verdict=good) and
// external metrics lists. It records every Analysis it was given.
type apiServer struct {
	*httptest.Server
	mu       sync.Mutex
	analyses map[string]map[string]any
	created  []map[string]any
	deleted  []string
}

var keptnMetrics = map[string]string{
	"apps/rate":    `{"value":"0.995"}`,
	"apps/neg":     `{"value":"-12.5e3"}`,
	"apps/text":    `{"value":"high"}`,
	"apps/empty":   `{"value":""}`,
	"apps/nan":     `{"value":"NaN"}`,
	"apps/inf":     `{"value":"+Inf"}`,
	"apps/number":  `{"value":3}`,
	"apps/nostate": `{}`,
}

var externalItems = map[string]string{
	"apps/queue":    `{"metricName":"queue","value":"2500m"},{"metricName":"queue","value":"9"}`,
	"default/queue": `{"metricName":"queue","value":"4"}`,
	"apps/big":      `{"metricName":"big","value":"12Ki"}`,
	"apps/empty":    ``,
}

func newAPIServer(t *testing.T) *apiServer {
	s := &apiServer{analyses: map[string]map[string]any{}}
	s.Server = httptest.NewTLSServer(http.HandlerFunc(s.serve))
	t.Cleanup(s.Close)
	return s
}

func kubeStatus(w http.ResponseWriter, code int, msg string) {
	w.Header().Set("Content-Type", "application/json")
	w.WriteHeader(code)
	fmt.Fprintf(w, `{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure","message":%q,"code":%d}`, msg, code)
}

func (s *apiServer) serve(w http.ResponseWriter, r *http.Request) {
	const keptn, ext = "/apis/metrics.keptn.sh/v1beta1/namespaces/", "/apis/external.metrics.k8s.io/v1beta1/namespaces/"
	w.Header().Set("Content-Type", "application/json")
	switch p := r.URL.Path; {
	case strings.HasPrefix(p, keptn):
		parts := strings.Split(strings.TrimPrefix(p, keptn), "/")
		if len(parts) < 2 {
			kubeStatus(w, 404, "not found")
			return
		}
		ns, res := parts[0], parts[1]
		name := ""
		if len(parts) > 2 {
			name = parts[2]
		}
		switch {
		case res == "keptnmetrics" && r.Method == http.MethodGet:
			st, ok := keptnMetrics[ns+"/"+name]
			if !ok {
				kubeStatus(w, 404, fmt.Sprintf("keptnmetrics.metrics.keptn.sh %q not found", name))
				return
			}
			fmt.Fprintf(w, `{"apiVersion":"metrics.keptn.sh/v1beta1","kind":"KeptnMetric","metadata":{"name":%q,"namespace":%q},"status":%s}`, name, ns, st)
		case res == "analyses" && r.Method == http.MethodPost:
			var obj map[string]any
			b, _ := io.ReadAll(r.Body)
			if err := json.Unmarshal(b, &obj); err != nil {
				kubeStatus(w, 400, err.Error())
				return
			}
			spec, _ := obj["spec"].(map[string]any)
			args, _ := spec["args"].(map[string]any)
			obj["status"] = map[string]any{"state": "Completed", "pass": args["verdict"] == "good"}
			md, _ := obj["metadata"].(map[string]any)
			s.mu.Lock()
			s.analyses[ns+"/"+fmt.Sprint(md["name"])] = obj
			s.created = append(s.created, obj)
			s.mu.Unlock()
			w.WriteHeader(http.StatusCreated)
			json.NewEncoder(w).Encode(obj)
		case res == "analyses" && r.Method == http.MethodGet:
			s.mu.Lock()
			obj, ok := s.analyses[ns+"/"+name]
			s.mu.Unlock()
			if !ok {
				kubeStatus(w, 404, "not found")
				return
			}
			json.NewEncoder(w).Encode(obj)
		case res == "analyses" && r.Method == http.MethodDelete:
			s.mu.Lock()
			delete(s.analyses, ns+"/"+name)
			s.deleted = append(s.deleted, ns+"/"+name)
			s.mu.Unlock()
			fmt.Fprint(w, `{"kind":"Status","apiVersion":"v1","status":"Success"}`)
		default:
			kubeStatus(w, 405, "unexpected "+r.Method)
		}
	case strings.HasPrefix(p, ext):
		ns, metric, _ := strings.Cut(strings.TrimPrefix(p, ext), "/")
		key := ns + "/" + metric
		if sel := r.URL.Query().Get("labelSelector"); sel != "" {
			key += "?" + sel
		}
		items, ok := externalItems[key]
		if !ok {
			kubeStatus(w, 404, "no metric "+key)
			return
		}
		fmt.Fprintf(w, `{"kind":"ExternalMetricValueList","apiVersion":"external.metrics.k8s.io/v1beta1","metadata":{},"items":[%s]}`, items)
	default:
		kubeStatus(w, 404, "not found")
	}
}

func (s *apiServer) restConfig() *rest.Config {
	return &rest.Config{Host: s.URL, TLSClientConfig: rest.TLSClientConfig{Insecure: true}}
}

// keptnCases: the outcome both sides give, or augur's deliberate difference.
var keptnCases = []struct {
	query, flagger, augur string
}{
	{query: "keptnmetric/apps/rate", flagger: "value 0.995"},
	{query: "KeptnMetrics/APPS/Rate\n", flagger: "value 0.995"},
	{query: "keptnmetric/apps/neg/ignored/parts", flagger: "value -12500"},
	{query: "keptnmetric/apps/inf", flagger: "value +Inf"},
	{query: "keptnmetric/apps/text", flagger: "error"},
	{query: "keptnmetric/apps/empty", flagger: "error"},
	{query: "keptnmetric/apps/number", flagger: "error"},
	{query: "keptnmetric/apps/nostate", flagger: "error"},
	{query: "keptnmetric/apps/missing", flagger: "error"},
	// Flagger returns NaN, which passes every threshold; augur holds (docs/compatibility.md, keptn).
	{query: "keptnmetric/apps/nan", flagger: "value NaN", augur: "no values"},
	{query: "keptnmetric/apps", flagger: "error"},
	{query: "metric/apps/rate", flagger: "error"},
	{query: "analysis/apps/def/5m/verdict=good;service=podinfo", flagger: "value 1"},
	{query: "analyses/apps/def/5m/verdict=bad", flagger: "value 0"},
	{query: "analysis/apps/def", flagger: "value 0"},
}

func TestKeptnAgainstFlagger(t *testing.T) {
	srv := newAPIServer(t)
	fk, err := fp.NewKeptnProvider(srv.restConfig())
	if err != nil {
		t.Fatal(err)
	}
	dyn, err := dynamic.NewForConfig(srv.restConfig())
	if err != nil {
		t.Fatal(err)
	}
	ak := clustermetrics.NewKeptn(dyn)
	for _, c := range keptnCases {
		fo := outcome(fk.RunQuery(c.query))
		srv.mu.Lock()
		nf := len(srv.created)
		srv.mu.Unlock()
		ao := outcome(ak.Query(context.Background(), c.query, time.Time{}))
		if fo != c.flagger {
			t.Errorf("%q: flagger %s, the case expects %s", c.query, fo, c.flagger)
		}
		want := fo
		if c.augur != "" {
			want = c.augur
		}
		if ao != want {
			t.Errorf("%q: augur %s, want %s (flagger %s)", c.query, ao, want, fo)
		}
		srv.mu.Lock()
		if strings.HasPrefix(strings.ToLower(c.query), "analys") {
			// Both created one Analysis, with the same spec and a name of the same form.
			if len(srv.created) != nf+1 || nf < 1 {
				t.Errorf("%q: %d Analyses created, want one per side", c.query, len(srv.created))
			} else {
				f, a := srv.created[nf-1], srv.created[nf]
				if fmt.Sprint(f["spec"]) != fmt.Sprint(a["spec"]) {
					t.Errorf("%q: Analysis spec\nflagger %v\naugur   %v", c.query, f["spec"], a["spec"])
				}
				fn := f["metadata"].(map[string]any)["name"].(string)
				an := a["metadata"].(map[string]any)["name"].(string)
				if len(fn) != len(an) || fn[:len(fn)-6] != an[:len(an)-6] {
					t.Errorf("%q: Analysis names %q (flagger) and %q (augur)", c.query, fn, an)
				}
			}
		}
		srv.mu.Unlock()
	}
	// Flagger deletes in the background after returning; give it the time to.
	deadline := time.Now().Add(30 * time.Second)
	for {
		srv.mu.Lock()
		left, created, deleted := len(srv.analyses), len(srv.created), len(srv.deleted)
		srv.mu.Unlock()
		if left == 0 && deleted == created {
			break
		}
		if time.Now().After(deadline) {
			t.Fatalf("%d Analyses left, %d created, %d deleted: both sides delete theirs", left, created, deleted)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

var externalCases = []struct{ query, flagger string }{
	{query: "apps/queue", flagger: "value 2.5"},
	{query: "queue", flagger: "value 4"},
	{query: "/queue", flagger: "value 4"},
	{query: "apps/big", flagger: "value 12288"},
	{query: "apps/empty", flagger: "no values"},
	{query: "apps/missing", flagger: "error"},
	{query: "a/b/c", flagger: "error"},
	{query: "apps/", flagger: "error"},
	{query: "apps/queue?labelSelector=q%3D%3D%3D", flagger: "error"},
}

func TestExternalMetricsAgainstFlagger(t *testing.T) {
	srv := newAPIServer(t)
	externalItems["apps/queue?env in (prod),q=orders"] = `{"value":"33"}`
	externalCases := append(externalCases, struct{ query, flagger string }{
		// The selector is parsed and sent in its canonical form by both.
		"apps/queue?labelSelector=q%3Dorders%2Cenv+in+%28prod%29", "value 33"})
	fe, err := fp.NewExternalMetricsProvider(flaggerv1.MetricTemplateProvider{InsecureSkipVerify: true}, nil, srv.restConfig())
	if err != nil {
		t.Fatal(err)
	}
	ae, err := clustermetrics.NewExternal(srv.restConfig(), metrics.Config{Type: clustermetrics.ExternalType, InsecureSkipVerify: true})
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range externalCases {
		fo := outcome(fe.RunQuery(c.query))
		ao := outcome(ae.Query(context.Background(), c.query, time.Time{}))
		if fo != c.flagger || ao != fo {
			t.Errorf("%q: flagger %s, augur %s, the case expects %s", c.query, fo, ao, c.flagger)
		}
	}
	fon, ferr := fe.IsOnline()
	aerr := ae.IsOnline(context.Background())
	if fon || ferr == nil || aerr == nil {
		t.Errorf("IsOnline without kube-system/dummy-metric: flagger %v %v, augur %v; both offline", fon, ferr, aerr)
	}
	externalItems["kube-system/dummy-metric"] = ``
	fon, ferr = fe.IsOnline()
	if aerr := ae.IsOnline(context.Background()); !fon || ferr != nil || aerr != nil {
		t.Errorf("IsOnline: flagger %v %v, augur %v; both online", fon, ferr, aerr)
	}
}

package cli

import (
	"encoding/json"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"testing"
	"time"

	"github.com/augurproj/augur/metrics/metricstest"
)

// Distinctive credentials planted in the MetricTemplate the fault suite uses.
const (
	faultKey  = "fault-KEY-5ec12e7"
	faultPass = "fault-PASS-9a8b7c"
)

// faultModes are the ways a Prometheus (or what stands in front of it) can
// fail. Each is served by a real loopback server; "healthy" is the control
// (it must advance, or the suite proves nothing).
var faultModes = []string{
	"healthy", "refused", "slow", "hang", "401-echo", "403", "404", "500", "502-html", "503-envelope",
	"422-envelope", "status-error-200", "truncated", "garbage", "empty-body", "huge-body", "huge-error",
	"nan", "inf", "-inf", "several-series", "matrix", "string", "empty-vector", "redirect-loop",
	"redirect-other-host", "tls-to-http", "warning-echo", metricstest.TLSSelfSigned, metricstest.TLSExpired,
}

// faultServer answers /<mode>/api/v1/query as mode says.
func faultServer(t *testing.T) *httptest.Server {
	t.Helper()
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
		w.Header().Set("Content-Type", "application/json")
		switch mode {
		case "healthy":
			fmt.Fprint(w, vector("50"))
		case "slow":
			select {
			case <-time.After(3 * time.Second):
			case <-r.Context().Done():
			}
			fmt.Fprint(w, vector("50"))
		case "hang":
			<-r.Context().Done()
		case "401-echo":
			http.Error(w, "unauthorized: "+echo.String(), http.StatusUnauthorized)
		case "403":
			w.WriteHeader(http.StatusForbidden)
		case "404":
			http.NotFound(w, r)
		case "500":
			w.WriteHeader(http.StatusInternalServerError)
			fmt.Fprint(w, "internal error")
		case "502-html":
			w.Header().Set("Content-Type", "text/html")
			w.WriteHeader(http.StatusBadGateway)
			fmt.Fprint(w, "<html><body>bad gateway "+echo.String()+"</body></html>")
		case "503-envelope":
			w.WriteHeader(http.StatusServiceUnavailable)
			fmt.Fprint(w, `{"status":"error","errorType":"unavailable","error":"`+echo.String()+`"}`)
		case "422-envelope":
			w.WriteHeader(http.StatusUnprocessableEntity)
			fmt.Fprint(w, `{"status":"error","errorType":"execution","error":"`+echo.String()+`"}`)
		case "status-error-200":
			fmt.Fprint(w, `{"status":"error","errorType":"bad_data","error":"`+echo.String()+`"}`)
		case "truncated":
			w.Header().Set("Content-Length", "500")
			fmt.Fprint(w, vector("50")[:40])
		case "garbage":
			fmt.Fprint(w, "\x00\x01not json at all")
		case "empty-body":
		case "huge-body":
			fmt.Fprint(w, `{"status":"success","data":{"resultType":"vector","result":[]},"x":"`)
			chunk := strings.Repeat("x", 1<<20)
			for range 48 {
				if _, err := fmt.Fprint(w, chunk); err != nil {
					return
				}
			}
			fmt.Fprint(w, `"}`)
		case "huge-error":
			w.WriteHeader(http.StatusUnprocessableEntity)
			fmt.Fprint(w, `{"status":"error","errorType":"execution","error":"`+strings.Repeat("e", 8<<20)+`"}`)
		case "nan":
			fmt.Fprint(w, vector("NaN"))
		case "inf":
			fmt.Fprint(w, vector("+Inf"))
		case "-inf":
			fmt.Fprint(w, vector("-Inf"))
		case "several-series":
			fmt.Fprint(w, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{"a":"1"},"value":[1,"50"]},{"metric":{"a":"2"},"value":[1,"50"]}]}}`)
		case "matrix":
			fmt.Fprint(w, `{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"50"],[2,"50"]]}]}}`)
		case "string":
			fmt.Fprint(w, `{"status":"success","data":{"resultType":"string","result":[1,"50"]}}`)
		case "empty-vector":
			fmt.Fprint(w, `{"status":"success","data":{"resultType":"vector","result":[]}}`)
		case "redirect-loop":
			http.Redirect(w, r, r.URL.RequestURI(), http.StatusFound)
		case "redirect-other-host":
			other := strings.Replace(ts.URL, "127.0.0.1", "localhost", 1)
			http.Redirect(w, r, other+"/401-echo/api/v1/query?"+r.URL.RawQuery, http.StatusTemporaryRedirect)
		case "warning-echo":
			fmt.Fprint(w, `{"status":"success","data":{"resultType":"vector","result":[]},"warnings":["`+echo.String()+`"]}`)
		default:
			http.NotFound(w, r)
		}
	}))
	t.Cleanup(ts.Close)
	return ts
}

// faultFiles writes a Canary whose one metric (bounds 0..100) reads a
// MetricTemplate at the fault server's mode, with planted credentials.
func faultFiles(t *testing.T, base, mode string) string {
	t.Helper()
	addr := strings.Replace(base, "http://", "http://user:"+faultPass+"@", 1) + "/" + mode
	switch mode {
	case "refused":
		ln, err := net.Listen("tcp", "127.0.0.1:0")
		if err != nil {
			t.Fatal(err)
		}
		addr = "http://user:" + faultPass + "@" + ln.Addr().String()
		ln.Close()
	case "tls-to-http":
		addr = strings.Replace(addr, "http://", "https://", 1)
	case metricstest.TLSSelfSigned, metricstest.TLSExpired:
		// A healthy Prometheus behind a certificate augur must not trust:
		// the handshake fails, so no value may be read.
		ts, _ := metricstest.TLSFaultServer(t, mode, http.HandlerFunc(func(w http.ResponseWriter, _ *http.Request) {
			w.Header().Set("Content-Type", "application/json")
			fmt.Fprint(w, `{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1700000000,"50"]}]}}`)
		}))
		addr = strings.Replace(ts.URL, "https://", "https://user:"+faultPass+"@", 1)
	}
	dir := t.TempDir()
	files := fmt.Sprintf(`apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata: {name: faulty, namespace: test}
spec:
  provider:
    type: prometheus
    address: %s
    headers: {X-Api-Key: [%s]}
  query: up
---
apiVersion: flagger.app/v1beta1
kind: Canary
metadata: {name: podinfo, namespace: test}
spec:
  targetRef: {apiVersion: apps/v1, kind: Deployment, name: podinfo}
  analysis:
    interval: 1m
    threshold: 5
    maxWeight: 50
    stepWeight: 10
    metrics:
    - name: faulty
      templateRef: {name: faulty}
      thresholdRange: {min: 0, max: 100}
`, addr, faultKey)
	if err := os.WriteFile(filepath.Join(dir, "canary.yaml"), []byte(files), 0o600); err != nil {
		t.Fatal(err)
	}
	return dir
}

// TestFaultsNeverAdvance: every Prometheus fault mode × the CLI, /v1/decide
// and /flagger/v1/check: no advance, no promotion, no passing check; every
// answer in bounded time and memory, and none holds a planted credential.
func TestFaultsNeverAdvance(t *testing.T) {
	if testing.Short() {
		t.Skip("fault suite")
	}
	ts := faultServer(t)
	for _, mode := range faultModes {
		t.Run(mode, func(t *testing.T) {
			dir := faultFiles(t, ts.URL, mode)
			var outputs []string
			bounded := func(what string, f func()) {
				var before, after runtime.MemStats
				runtime.ReadMemStats(&before)
				start := time.Now()
				f()
				took := time.Since(start)
				runtime.ReadMemStats(&after)
				if took > 30*time.Second {
					t.Errorf("%s took %s", what, took)
				}
				if grew := after.TotalAlloc - before.TotalAlloc; grew > 2<<30 {
					t.Errorf("%s allocated %d MiB", what, grew>>20)
				}
			}

			// CLI: exit 0 is advance or promote.
			bounded("cli", func() {
				code, out, errOut := run(t, "", "analyze", "-f", dir, "--phase", "Progressing", "--weight", "10",
					"--query-timeout", "1s", "-o", "json")
				outputs = append(outputs, out, errOut)
				if want := mode == "healthy"; (code == ExitOK) != want {
					t.Errorf("cli: exit %d (advance: %t):\n%.2000s%.2000s", code, code == ExitOK, out, errOut)
				}
			})

			url, logs, stop := startServe(t, "-f", dir, "--query-timeout", "1s")
			defer stop()
			bounded("/v1/decide", func() {
				body := `{"canary":{"metadata":{"name":"podinfo","namespace":"test"},"spec":{"targetRef":{"apiVersion":"apps/v1","kind":"Deployment","name":"podinfo"},` +
					`"analysis":{"interval":"1m","threshold":5,"maxWeight":50,"stepWeight":10,"metrics":[{"name":"faulty","templateRef":{"name":"faulty"},"thresholdRange":{"min":0,"max":100}}]}}},` +
					`"status":{"phase":"Progressing","canaryWeight":10}}`
				resp, err := http.Post(url+"/v1/decide", "application/json", strings.NewReader(body))
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				var d struct {
					Action string `json:"action"`
				}
				raw, _ := readAll(resp)
				outputs = append(outputs, raw)
				_ = json.Unmarshal([]byte(raw), &d)
				advanced := d.Action == "advance" || d.Action == "promote"
				if advanced != (mode == "healthy") {
					t.Errorf("/v1/decide: %d action %q:\n%.2000s", resp.StatusCode, d.Action, raw)
				}
			})
			bounded("/flagger/v1/check", func() {
				resp, err := http.Post(url+"/flagger/v1/check", "application/json", strings.NewReader(`{"name":"podinfo","namespace":"test"}`))
				if err != nil {
					t.Fatal(err)
				}
				defer resp.Body.Close()
				raw, _ := readAll(resp)
				outputs = append(outputs, raw)
				if passed := resp.StatusCode == http.StatusOK; passed != (mode == "healthy") {
					t.Errorf("/flagger/v1/check: %d %s", resp.StatusCode, raw)
				}
			})
			stop()
			outputs = append(outputs, logs.String())
			all := strings.Join(outputs, "\n")
			for _, s := range []string{faultKey, faultPass} {
				if strings.Contains(all, s) {
					t.Errorf("%q leaked:\n%.3000s", s, all)
				}
			}
			if len(all) > 8<<20 {
				t.Errorf("%d bytes of output", len(all))
			}
		})
	}
}

func readAll(resp *http.Response) (string, error) {
	var b strings.Builder
	buf := make([]byte, 32<<10)
	for {
		n, err := resp.Body.Read(buf)
		b.Write(buf[:n])
		if err != nil {
			return b.String(), nil
		}
	}
}

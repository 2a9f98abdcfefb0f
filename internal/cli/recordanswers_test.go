package cli

import (
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

// answersT0 is the first evaluation time of the answers tests.
var answersT0 = time.Date(2026, 11, 1, 10, 0, 0, 0, time.UTC)

// vendorServers starts loopback Datadog and Graphite servers whose answers
// depend on the evaluation time they are asked for: Datadog's error rate is
// low for five minutes, has no point at minute 2 (no values) and climbs
// past the threshold from minute 5; Graphite's latency is fine throughout
// but for an error answer at minute 3. calls counts requests to both.
func vendorServers(t *testing.T, calls *atomic.Int32) (datadog, graphite string) {
	dd := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		to, err := strconv.ParseInt(r.URL.Query().Get("to"), 10, 64)
		if err != nil || r.Header.Get("DD-API-KEY") != "k1" {
			http.Error(w, "bad request", http.StatusBadRequest)
			return
		}
		min := (to - answersT0.Unix()) / 60
		switch {
		case min == 2:
			fmt.Fprint(w, `{"series":[]}`)
		case min >= 5:
			fmt.Fprintf(w, `{"series":[{"pointlist":[[%d000,%d.5]]}]}`, to, min)
		default:
			fmt.Fprintf(w, `{"series":[{"pointlist":[[%d000,0.%d]]}]}`, to, min+1)
		}
	}))
	t.Cleanup(dd.Close)
	gr := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		// A replay of a past time sends now=<Unix seconds>.
		now, _ := strconv.ParseInt(r.URL.Query().Get("now"), 10, 64)
		if (now-answersT0.Unix())/60 == 3 {
			http.Error(w, "graphite is restarting", http.StatusServiceUnavailable)
			return
		}
		fmt.Fprintf(w, `[{"target":"latency","datapoints":[[null,%d],[%d.25,%d]]}]`, now-60, (now-answersT0.Unix())/60, now)
	}))
	t.Cleanup(gr.Close)
	return dd.URL, gr.URL
}

func writeAnswerFiles(t *testing.T, datadog, graphite string) string {
	dir := t.TempDir()
	files := map[string]string{
		"canary.yaml": `apiVersion: flagger.app/v1beta1
kind: Canary
metadata: {name: podinfo, namespace: test}
spec:
  targetRef: {apiVersion: apps/v1, kind: Deployment, name: podinfo}
  analysis:
    interval: 1m
    threshold: 3
    maxWeight: 50
    stepWeight: 10
    metrics:
    - name: error-rate
      interval: 1m
      templateRef: {name: datadog-errors}
      thresholdRange: {max: 1}
    - name: latency
      interval: 1m
      templateRef: {name: graphite-latency}
      thresholdRange: {max: 100}
`,
		"templates.yaml": `apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata: {name: datadog-errors, namespace: test}
spec:
  provider: {type: datadog, address: ` + datadog + `, secretRef: {name: datadog}}
  query: sum:errors{service:{{ target }}}.as_count()
---
apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata: {name: graphite-latency, namespace: test}
spec:
  provider: {type: graphite, address: ` + graphite + `}
  query: target=latency.{{ target }}&from=-{{ interval }}
---
apiVersion: v1
kind: Secret
metadata: {name: datadog, namespace: test}
stringData: {datadog_api_key: k1, datadog_application_key: k2}
`,
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

// replayTicks runs a replay and returns its ticks (the JSON output without
// the source's description).
func replayTicks(t *testing.T, args ...string) (int, any) {
	t.Helper()
	code, out, errOut := run(t, "", append([]string{"replay", "-o", "json", "--start", answersT0.Format(time.RFC3339)}, args...)...)
	var doc map[string]any
	if err := json.Unmarshal([]byte(out), &doc); err != nil {
		t.Fatalf("replay %v: exit %d, not JSON: %v\nstdout: %s\nstderr: %s", args, code, err, out, errOut)
	}
	ticks, ok := doc["ticks"]
	if !ok {
		t.Fatalf("replay output has no ticks: %v", doc)
	}
	return code, ticks
}

// TestRecordAnswersReplay records a Datadog and a Graphite metric from
// loopback servers and replays the recording offline: the ticks (values,
// errors, events, decision) are those of a replay against the live
// servers, and the servers see no request during the offline replay.
func TestRecordAnswersReplay(t *testing.T) {
	var calls atomic.Int32
	dd, gr := vendorServers(t, &calls)
	dir := writeAnswerFiles(t, dd, gr)
	liveCode, live := replayTicks(t, "-f", dir, "--prometheus", "http://127.0.0.1:1")
	if calls.Load() == 0 {
		t.Fatal("the live replay did not call the servers")
	}
	lj, _ := json.Marshal(live)
	for _, want := range []string{"no values found", "503", `"value":0.2`, `"value":5.5`} {
		if !strings.Contains(string(lj), want) {
			t.Errorf("the live ticks lack %s (the case must exercise values, no values and errors): %s", want, lj)
		}
	}
	if liveCode != 3 {
		t.Fatalf("live replay exit %d, want 3 (rolled back once the error rate climbs)", liveCode)
	}

	rec := filepath.Join(t.TempDir(), "answers.json")
	code, out, errOut := run(t, "", "record", "-f", dir, "--start", answersT0.Format(time.RFC3339),
		"--end", answersT0.Add(20*time.Minute).Format(time.RFC3339), "--answers-out", rec)
	if code != 0 {
		t.Fatalf("record: exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	if !strings.Contains(errOut, "augur record: 42 answers of 2 metrics") {
		t.Errorf("record stderr: %s", errOut)
	}
	b, err := os.ReadFile(rec)
	if err != nil {
		t.Fatal(err)
	}
	for _, secret := range []string{"k1", "k2"} {
		if strings.Contains(string(b), `"`+secret+`"`) || strings.Contains(errOut, secret) {
			t.Errorf("the recording or the log holds the key %q", secret)
		}
	}
	for _, want := range []string{`"errorKind": "no-values"`, `"errorKind": "error"`, `"value": "0.1"`, `"value": "5.5"`} {
		if !strings.Contains(string(b), want) {
			t.Errorf("the recording lacks %s", want)
		}
	}

	before := calls.Load()
	offCode, offline := replayTicks(t, "-f", dir, "--answers", rec)
	if calls.Load() != before {
		t.Errorf("the offline replay sent %d requests", calls.Load()-before)
	}
	if offCode != liveCode {
		t.Errorf("offline exit %d, live %d", offCode, liveCode)
	}
	if diff := cmp.Diff(live, offline); diff != "" {
		t.Errorf("offline ticks differ from the live ones (-live +offline):\n%s", diff)
	}

	// augur test reads the recording too (answers_file).
	test := filepath.Join(t.TempDir(), "vendors.test.yaml")
	if err := os.WriteFile(test, []byte(`manifests: [`+dir+`]
tests:
  - name: recorded vendor answers
    answers_file: `+rec+`
    start_timestamp: `+answersT0.Format(time.RFC3339)+`
    metric_tests:
      - metric: error-rate
        eval_time: 1m
        exp_value: 0.2
        exp_check: pass
      - metric: error-rate
        eval_time: 2m
        exp_error: no values found
      - metric: error-rate
        eval_time: 7m
        exp_value: 7.5
        exp_check: fail
      - metric: latency
        eval_time: 3m
        exp_check: fail
    replay_tests:
      - start: 0m
        exp_result: Failed
`), 0o600); err != nil {
		t.Fatal(err)
	}
	before = calls.Load()
	code, out, errOut = run(t, "", "test", test)
	if code != 0 || calls.Load() != before {
		t.Errorf("augur test: exit %d, %d requests\nstdout: %s\nstderr: %s", code, calls.Load()-before, out, errOut)
	}

	// A replay outside the recorded window is an error naming the query and time, never a guess.
	code, out, _ = run(t, "", "replay", "-o", "json", "-f", dir, "--answers", rec, "--start", answersT0.Add(-time.Hour).Format(time.RFC3339), "--max-ticks", "2")
	if !strings.Contains(out, "not in the answers recording") || !strings.Contains(out, "2026-11-01T09:01:00Z") {
		t.Errorf("replay before the recording: exit %d: %s", code, out)
	}
}

package integration

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/augurproj/augur/metrics"
	"github.com/augurproj/augur/metrics/prometheus"
)

// heavyQuery takes over a second on the podinfo data (about 1.5 s on the
// project's machine, against timeouts of 200ms): a subquery evaluating a
// histogram rate every 20ms over an hour, 180k steps.
const heavyQuery = `max_over_time(sum(rate(istio_request_duration_milliseconds_bucket[5m]))[1h:20ms])`

// brokenQuery is not valid PromQL: a parenthesis is never closed.
const brokenQuery = `sum(rate(istio_requests_total{destination_workload="{{ target }}"}[{{ interval }}])`

// canaryWith writes a Canary whose one metric reads a MetricTemplate with
// the given query, and returns the file.
func canaryWith(t *testing.T, metric, query string) string {
	t.Helper()
	doc := fmt.Sprintf(`apiVersion: flagger.app/v1beta1
kind: Canary
metadata:
  name: podinfo
  namespace: test
spec:
  targetRef:
    apiVersion: apps/v1
    kind: Deployment
    name: podinfo
  service:
    port: 9898
  analysis:
    interval: 1m
    threshold: 5
    maxWeight: 50
    stepWeight: 10
    metrics:
      - name: %[1]s
        templateRef:
          name: %[1]s
        thresholdRange:
          max: 5
        interval: 1m
---
apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata:
  name: %[1]s
  namespace: test
spec:
  provider:
    type: prometheus
    address: http://prometheus.istio-system:9090
  query: %[2]q
`, metric, query)
	path := filepath.Join(t.TempDir(), metric+".yaml")
	if err := os.WriteFile(path, []byte(doc), 0o644); err != nil {
		t.Fatal(err)
	}
	return path
}

// onlyCheck decodes `augur query -o json` and returns its one check.
func onlyCheck(t *testing.T, r result) check {
	t.Helper()
	out, err := decodeQuery(r.stdout)
	if err != nil {
		t.Fatalf("%v\n%s", err, r)
	}
	if len(out) != 1 || len(out[0].Checks) != 1 {
		t.Fatalf("want one canary with one check, got %+v", out)
	}
	return out[0].Checks[0]
}

// TestIntegrationBadPromQL sends invalid PromQL to the real server: the
// provider returns the server's bad_data error, and `augur query` prints it
// against the metric's name (JSON and text) and exits 1.
func TestIntegrationBadPromQL(t *testing.T) {
	requireIntegration(t)
	root := repoRoot(t)
	bin := augurBin(t, root)
	srv := startServer(t, root, filepath.Join(root, podinfoDir, "healthy.om"))
	rendered := strings.NewReplacer("{{ target }}", "podinfo", "{{ interval }}", "1m").Replace(brokenQuery)

	// What the server itself says about the query.
	status, body := httpGet(t, srv.URL+"/api/v1/query?query="+url.QueryEscape(rendered))
	var env struct{ Status, ErrorType, Error string }
	if err := json.Unmarshal([]byte(body), &env); err != nil {
		t.Fatalf("server answer %q: %v", body, err)
	}
	if status != 400 || env.Status != "error" || env.ErrorType != "bad_data" || env.Error == "" {
		t.Fatalf("server answered %d %s, want 400 with a bad_data error", status, body)
	}
	serverText := "bad_data: " + env.Error

	t.Run("provider", func(t *testing.T) {
		p, err := prometheus.New(metrics.Config{Address: srv.URL})
		if err != nil {
			t.Fatal(err)
		}
		_, err = p.Query(t.Context(), rendered, windowStart)
		var apiErr *prometheus.APIError
		if !errors.As(err, &apiErr) {
			t.Fatalf("error %v is not an *prometheus.APIError", err)
		}
		if apiErr.StatusCode != 400 || apiErr.Type != "bad_data" || apiErr.Message != env.Error {
			t.Errorf("APIError %+v, want status 400, bad_data, %q", *apiErr, env.Error)
		}
		if !strings.Contains(err.Error(), fmt.Sprintf("%q", rendered)) || !strings.Contains(err.Error(), serverText) {
			t.Errorf("error %q does not carry the query and %q", err, serverText)
		}
	})

	file := canaryWith(t, "broken-query", brokenQuery)
	args := []string{"query", "-f", file, "--prometheus", srv.URL, "--at", windowStart.Add(5 * time.Minute).Format(time.RFC3339)}
	t.Run("cli-json", func(t *testing.T) {
		r := runAugur(t, bin, root, append(args, "-o", "json")...)
		if r.code != 1 {
			t.Fatalf("exit code %d, want 1 (a failed check)\n%s", r.code, r)
		}
		c := onlyCheck(t, r)
		if c.Metric != "broken-query" || c.Passed || c.Value != "" || !strings.Contains(c.Error, serverText) {
			t.Errorf("check %+v, want broken-query failed with an error containing %q", c, serverText)
		}
	})
	t.Run("cli-text", func(t *testing.T) {
		r := runAugur(t, bin, root, args...)
		if r.code != 1 {
			t.Fatalf("exit code %d, want 1\n%s", r.code, r)
		}
		line := lineWith(string(r.stdout), "broken-query")
		if !strings.Contains(line, "FAIL") || !strings.Contains(line, serverText) {
			t.Errorf("the broken-query line %q does not say FAIL and %q\nstdout:\n%s", line, serverText, r.stdout)
		}
	})
}

// lineWith returns the first line of s that contains sub.
func lineWith(s, sub string) string {
	for line := range strings.Lines(s) {
		if strings.Contains(line, sub) {
			return strings.TrimSpace(line)
		}
	}
	return ""
}

// TestIntegrationQueryTimeout sends a query that takes seconds on the real
// server with a timeout far below that: the provider and `augur query` say it
// timed out, and the server still answers the next query.
func TestIntegrationQueryTimeout(t *testing.T) {
	requireIntegration(t)
	root := repoRoot(t)
	bin := augurBin(t, root)
	srv := startServer(t, root, filepath.Join(root, podinfoDir, "healthy.om"))
	at := windowEnd

	t.Run("provider", func(t *testing.T) {
		const timeout = 200 * time.Millisecond
		p, err := prometheus.New(metrics.Config{Address: srv.URL, Timeout: timeout})
		if err != nil {
			t.Fatal(err)
		}
		_, err = p.Query(t.Context(), heavyQuery, at)
		if err == nil {
			t.Fatal("the heavy query finished within 200ms")
		}
		if !errors.Is(err, context.DeadlineExceeded) || !strings.Contains(err.Error(), "timed out after 200ms") {
			t.Errorf("error %q, want a deadline error saying it timed out after 200ms", err)
		}
		// The server is fine afterwards.
		if _, err := p.Query(t.Context(), `sum(rate(istio_requests_total[1m]))`, at); err != nil {
			t.Errorf("a normal query after the timeout: %v", err)
		}
	})

	t.Run("cli", func(t *testing.T) {
		file := canaryWith(t, "slow-query", heavyQuery)
		r := runAugur(t, bin, root, "query", "-f", file, "--prometheus", srv.URL, "--query-timeout", "200ms",
			"--at", at.Format(time.RFC3339), "-o", "json")
		if r.code != 1 {
			t.Fatalf("exit code %d, want 1 (a failed check)\n%s", r.code, r)
		}
		c := onlyCheck(t, r)
		if c.Metric != "slow-query" || c.Passed || !strings.Contains(c.Error, "timed out after 200ms") {
			t.Errorf("check %+v, want slow-query failed with an error saying it timed out after 200ms", c)
		}
	})
}

package cli

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync/atomic"
	"testing"
)

// TestVendorTemplateWithFileSecret runs a Datadog MetricTemplate whose
// secretRef names a Secret given with -f (no cluster) against a loopback
// server speaking Datadog's query API, through `augur query`: the keys
// reach the server as Datadog's headers, the first point is the value, and
// neither key appears in any output.
func TestVendorTemplateWithFileSecret(t *testing.T) {
	const apiKey, appKey = "ddapi-4b1f-planted", "ddapp-77c2-planted"
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		calls.Add(1)
		if r.URL.Path != "/api/v1/query" || r.Header.Get("DD-API-KEY") != apiKey || r.Header.Get("DD-APPLICATION-KEY") != appKey {
			http.Error(w, "forbidden: "+r.Header.Get("DD-API-KEY"), http.StatusForbidden)
			return
		}
		_, _ = w.Write([]byte(`{"series":[{"pointlist":[[1761991440000,0.4],[1761991500000,9]]}]}`))
	}))
	defer srv.Close()

	dir := t.TempDir()
	files := map[string]string{
		"canary.yaml": `apiVersion: flagger.app/v1beta1
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
    - name: error-rate
      interval: 1m
      templateRef: {name: datadog-errors}
      thresholdRange: {max: 1}
`,
		"template.yaml": `apiVersion: flagger.app/v1beta1
kind: MetricTemplate
metadata: {name: datadog-errors, namespace: test}
spec:
  provider:
    type: datadog
    address: ` + srv.URL + `
    secretRef: {name: datadog}
  query: sum:trace.http.request.errors{service:{{ target }}}.as_count()
`,
		"secret.yaml": `apiVersion: v1
kind: Secret
metadata: {name: datadog, namespace: test}
data:
  datadog_api_key: ` + b64(apiKey) + `
stringData:
  datadog_application_key: ` + appKey + `
`,
	}
	for name, body := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(body), 0o600); err != nil {
			t.Fatal(err)
		}
	}
	code, out, errOut := run(t, "", "query", "-f", dir, "-o", "json")
	if code != 0 {
		t.Fatalf("exit %d\nstdout: %s\nstderr: %s", code, out, errOut)
	}
	if calls.Load() == 0 {
		t.Fatal("the Datadog server was not called")
	}
	if !strings.Contains(out, `"value": 0.4`) {
		t.Errorf("want the first point 0.4 in the answer:\n%s", out)
	}
	for _, s := range []string{apiKey, appKey, b64(apiKey)} {
		if strings.Contains(out+errOut, s) {
			t.Errorf("output contains a credential %q:\n%s\n%s", s, out, errOut)
		}
	}

	// Recorded data holds Prometheus series only: the vendor template is
	// an error naming its provider, never a network call.
	before := calls.Load()
	code, out, errOut = run(t, "", "query", "-f", dir, "--data", "../../testdata/podinfo/healthy.om")
	if code == 0 || calls.Load() != before {
		t.Fatalf("offline run: exit %d, %d calls to the vendor\n%s%s", code, calls.Load()-before, out, errOut)
	}
	if !strings.Contains(out+errOut, "datadog") {
		t.Errorf("offline error should name the provider:\n%s%s", out, errOut)
	}
}

func b64(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) }

// TestRenderVendorRequests: `augur render` prints each vendor template's
// request (method, URL, body, window) as it prints PromQL, sends nothing,
// and prints no credential, not even the New Relic account id of the URL.
func TestRenderVendorRequests(t *testing.T) {
	const ddAPI, ddApp, nrAccount, nrKey, inToken = "ddapi-r1-planted", "ddapp-r2-planted", "7733991", "nrkey-r3-planted", "intok-r4-planted"
	const sfToken, gcpProject, gcpKey = "sftok-r5-planted", "gcp-r6-planted", "-----BEGIN PRIVATE KEY-----r7-planted"
	var calls atomic.Int32
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { calls.Add(1) }))
	defer srv.Close()
	metric := func(name, tmpl string) string {
		return "    - name: " + name + "\n      interval: 2m\n      templateRef: {name: " + tmpl + "}\n      thresholdRange: {max: 1}\n"
	}
	tmpl := func(name, typ, secret, query string) string {
		return "---\napiVersion: flagger.app/v1beta1\nkind: MetricTemplate\nmetadata: {name: " + name + ", namespace: test}\nspec:\n  provider:\n    type: " + typ +
			"\n    address: " + srv.URL + "\n    secretRef: {name: " + secret + "}\n  query: " + query + "\n"
	}
	secret := func(name string, kv ...string) string {
		s := "---\napiVersion: v1\nkind: Secret\nmetadata: {name: " + name + ", namespace: test}\nstringData:\n"
		for i := 0; i+1 < len(kv); i += 2 {
			s += "  " + kv[i] + ": \"" + kv[i+1] + "\"\n"
		}
		return s
	}
	doc := `apiVersion: flagger.app/v1beta1
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
` + metric("dd", "dd") + metric("nr", "nr") + metric("in", "in") + metric("sf", "sf") + metric("cw", "cw") + metric("gc", "gc") +
		tmpl("dd", "datadog", "dd", "'sum:errors{service:{{ target }}}.as_count()'") +
		tmpl("nr", "newrelic", "nr", "\"SELECT count(*) FROM Transaction WHERE appName = '{{ target }}'\"") +
		tmpl("in", "influxdb", "in", "'from(bucket: \"app\") |> range(start: -2m) |> mean()'") +
		secret("dd", "datadog_api_key", ddAPI, "datadog_application_key", ddApp) +
		secret("nr", "newrelic_account_id", nrAccount, "newrelic_query_key", nrKey) +
		tmpl("sf", "splunk", "sf", "\"data('errors', filter=filter('app', '{{ target }}')).sum().publish()\"") +
		"---\napiVersion: flagger.app/v1beta1\nkind: MetricTemplate\nmetadata: {name: cw, namespace: test}\nspec:\n  provider:\n    type: cloudwatch\n    region: eu-west-1\n    address: " + srv.URL +
		"\n  query: '[{\"Id\":\"e1\",\"Expression\":\"SUM(METRICS())\"}]'\n" +
		secret("in", "token", inToken, "org", "acme-org") +
		secret("sf", "sf_token_key", sfToken) +
		tmpl("gc", "stackdriver", "gc", "\"fetch k8s_container | metric 'istio.io/service/server/request_count' | within 2m\"") +
		secret("gc", "project", gcpProject, "serviceAccountKey",
			`{\"type\":\"service_account\",\"client_email\":\"a@b.iam.gserviceaccount.com\",\"private_key\":\"`+gcpKey+`\",\"token_uri\":\"`+srv.URL+`/token\"}`)
	path := filepath.Join(t.TempDir(), "all.yaml")
	if err := os.WriteFile(path, []byte(doc), 0o600); err != nil {
		t.Fatal(err)
	}
	for _, format := range []string{"text", "json"} {
		code, out, errOut := run(t, "", "render", "-f", path, "-o", format)
		if code != 0 {
			t.Fatalf("%s: exit %d\n%s%s", format, code, out, errOut)
		}
		for _, want := range []string{
			srv.URL + "/api/v1/query?query=sum%3Aerrors%7Bservice%3Apodinfo%7D.as_count%28%29",
			"from=t-1200 to=t (Unix seconds: 20m0s",
			srv.URL + "/v1/accounts/[redacted]/query?nrql=SELECT+count%28%2A%29+FROM+Transaction+WHERE+appName+%3D+%27podinfo%27+SINCE+120+seconds+ago",
			srv.URL + "/api/v2/query?org=[redacted]",
			"range(start: -2m)",
			strings.Replace(srv.URL, "http://", "ws://", 1) + "/v2/signalflow/connect",
			"text:" + `{"type":"execute","program":"data('errors', filter=filter('app', 'podinfo')).sum().publish()","channel":"ch-1","immediate":true}`,
			"text:" + `"start": t-1200000, "stop": t (Unix ms`,
			"text:POST " + srv.URL + "/",
			"Action=GetMetricData&MaxDatapoints=20&MetricDataQueries.member.1.Expression=SUM%28METRICS%28%29%29&MetricDataQueries.member.1.Id=e1&Version=2010-08-01",
			"StartTime=t-20m0s EndTime=t",
			srv.URL + "/v3/projects/[redacted]/timeSeries:query",
			"text:" + `{"query":"fetch k8s_container | metric 'istio.io/service/server/request_count' | within 2m"}`,
		} {
			if w, textOnly := strings.CutPrefix(want, "text:"); textOnly {
				if format != "text" {
					continue
				}
				want = w
			}
			if format == "json" {
				want = strings.NewReplacer("&", `\u0026`, "<", `\u003c`, ">", `\u003e`).Replace(want)
			}
			if !strings.Contains(out, want) {
				t.Errorf("%s: output lacks %q:\n%s", format, want, out)
			}
		}
		for _, s := range []string{ddAPI, ddApp, nrAccount, nrKey, inToken, "acme-org", sfToken, gcpProject, gcpKey} {
			if strings.Contains(out+errOut, s) {
				t.Errorf("%s: output contains the credential %q", format, s)
			}
		}
	}
	if calls.Load() != 0 {
		t.Errorf("render sent %d requests", calls.Load())
	}
}

// TestRenderCloudWatchEndpoint: render names the endpoint a cloudwatch
// template without an address calls (the region's, China's own domain,
// or AWS_ENDPOINT_URL_CLOUDWATCH), and the template's address when it has
// one, with the region; nothing is sent and no AWS configuration is read
// from the machine.
func TestRenderCloudWatchEndpoint(t *testing.T) {
	dir := t.TempDir()
	for k, v := range map[string]string{
		"AWS_ENDPOINT_URL_CLOUDWATCH": "", "AWS_ENDPOINT_URL": "", "AWS_PROFILE": "", "AWS_REGION": "", "AWS_DEFAULT_REGION": "",
		"AWS_CONFIG_FILE": filepath.Join(dir, "config"), "AWS_SHARED_CREDENTIALS_FILE": filepath.Join(dir, "credentials"),
		"AWS_EC2_METADATA_DISABLED": "true",
	} {
		t.Setenv(k, v)
	}
	const file = "testdata/cloudwatch/render.yaml"
	code, out, errOut := run(t, "", "render", "-f", file)
	if code != 0 {
		t.Fatalf("exit %d\n%s%s", code, out, errOut)
	}
	golden(t, "cloudwatch/render.txt", out)

	code, out, errOut = run(t, "", "render", "-f", file, "-o", "json")
	if code != 0 {
		t.Fatalf("json: exit %d\n%s%s", code, out, errOut)
	}
	var doc struct {
		Canaries []struct {
			Metrics []struct {
				Provider renderedProvider `json:"provider"`
			} `json:"metrics"`
		} `json:"canaries"`
	}
	if err := json.Unmarshal([]byte(out), &doc); err != nil || len(doc.Canaries) != 1 {
		t.Fatalf("json: %v\n%s", err, out)
	}
	var got []renderedProvider
	for _, m := range doc.Canaries[0].Metrics {
		got = append(got, m.Provider)
	}
	want := []renderedProvider{
		{Type: "cloudwatch", Region: "eu-west-1", Endpoint: "https://monitoring.eu-west-1.amazonaws.com"},
		{Type: "cloudwatch", Region: "cn-north-1", Endpoint: "https://monitoring.cn-north-1.amazonaws.com.cn"},
		{Type: "cloudwatch", Address: "https://cloudwatch-proxy.internal:8443", Region: "us-east-1", Endpoint: "https://cloudwatch-proxy.internal:8443"},
	}
	if fmt.Sprint(got) != fmt.Sprint(want) {
		t.Errorf("json providers %+v, want %+v", got, want)
	}

	// The SDK's endpoint override replaces the region's endpoint, not a
	// template's address.
	t.Setenv("AWS_ENDPOINT_URL_CLOUDWATCH", "http://127.0.0.1:4566")
	code, out, errOut = run(t, "", "render", "-f", file)
	if code != 0 {
		t.Fatalf("override: exit %d\n%s%s", code, out, errOut)
	}
	for _, want := range []string{
		"provider: cloudwatch http://127.0.0.1:4566 (default endpoint), region eu-west-1",
		"provider: cloudwatch http://127.0.0.1:4566 (default endpoint), region cn-north-1",
		"provider: cloudwatch https://cloudwatch-proxy.internal:8443, region us-east-1",
		"request:  POST http://127.0.0.1:4566/",
	} {
		if !strings.Contains(out, want) {
			t.Errorf("AWS_ENDPOINT_URL_CLOUDWATCH: output lacks %q:\n%s", want, out)
		}
	}
}

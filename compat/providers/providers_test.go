package providers

import (
	"net/http"
	"strings"
	"testing"
	"time"
)

// shape is one answer and what both providers must make of it. When augur
// deliberately differs, augur names its outcome and why the docs row that
// documents the change.
type shape struct {
	answer
	flagger string // Flagger's outcome, asserted so that a case cannot pass by both failing alike
	augur   string // augur's outcome when it deliberately differs ("" = same as Flagger)
	why     string // the docs/compatibility.md row of the difference
}

func bad(status int, body string) answer {
	return answer{name: "status " + http.StatusText(status), status: status, body: body}
}

var shapes = map[string][]shape{
	"datadog": {
		{answer: answer{name: "value", status: 200, body: `{"series":[{"pointlist":[[1700000000000,2.5],[1700000060000,3.5]]}]}`}, flagger: "value 2.5"},
		{answer: answer{name: "empty", status: 200, body: `{"series":[]}`}, flagger: "no values"},
		{answer: answer{name: "no points", status: 200, body: `{"series":[{"pointlist":[]}]}`}, flagger: "no values"},
		{answer: answer{name: "several series", status: 200, body: `{"series":[{"pointlist":[[1,1]]},{"pointlist":[[1,2]]}]}`},
			flagger: "value 1", augur: "multiple values", why: "several series → multiple values"},
		{answer: answer{name: "null", status: 200, body: `{"series":[{"pointlist":[[1700000000000,null]]}]}`},
			flagger: "value 0", augur: "no values", why: "null → no values"},
		{answer: answer{name: "malformed", status: 200, body: `{"series":[{"pointlist":`}, flagger: "error"},
		{answer: bad(403, `{"errors":["Forbidden"]}`), flagger: "error"},
		{answer: bad(500, `oops`), flagger: "error"},
		{answer: bad(202, `{"series":[]}`), flagger: "error"},
		{answer: answer{name: "timeout", hang: true}, flagger: "timeout"},
	},
	"newrelic": {
		{answer: answer{name: "value", status: 200, body: `{"results":[{"result":12.5}]}`}, flagger: "value 12.5"},
		{answer: answer{name: "empty", status: 200, body: `{"results":[]}`}, flagger: "no values"},
		{answer: answer{name: "null", status: 200, body: `{"results":[{"result":null}]}`}, flagger: "no values"},
		{answer: answer{name: "several results", status: 200, body: `{"results":[{"result":1},{"result":2}]}`},
			flagger: "no values", augur: "multiple values", why: "several series → multiple values"},
		{answer: answer{name: "malformed", status: 200, body: `{"results":[{"result":"x"}]}`}, flagger: "error"},
		{answer: bad(401, `{"error":"invalid key"}`), flagger: "error"},
		{answer: bad(503, `busy`), flagger: "error"},
		{answer: answer{name: "timeout", hang: true}, flagger: "timeout"},
	},
	"dynatrace": {
		{answer: answer{name: "value", status: 200, body: `{"result":[{"data":[{"timestamps":[1],"values":[0.75]}]}]}`}, flagger: "value 0.75"},
		{answer: answer{name: "empty", status: 200, body: `{"result":[]}`}, flagger: "no values"},
		{answer: answer{name: "no data", status: 200, body: `{"result":[{"data":[]}]}`}, flagger: "no values"},
		{answer: answer{name: "no values", status: 200, body: `{"result":[{"data":[{"timestamps":[],"values":[]}]}]}`}, flagger: "no values"},
		{answer: answer{name: "several series", status: 200, body: `{"result":[{"data":[{"values":[1]},{"values":[2]}]}]}`},
			flagger: "value 2", augur: "multiple values", why: "several series → multiple values"},
		{answer: answer{name: "null", status: 200, body: `{"result":[{"data":[{"timestamps":[1],"values":[null]}]}]}`},
			flagger: "value 0", augur: "no values", why: "null → no values"},
		{answer: answer{name: "malformed", status: 200, body: `<html>`}, flagger: "error"},
		{answer: bad(400, `{"error":{"code":400}}`), flagger: "error"},
		{answer: bad(500, `{"error":{"code":500}}`), flagger: "error"},
		{answer: answer{name: "timeout", hang: true}, flagger: "timeout"},
	},
	"influxdb": {
		{answer: answer{name: "value", status: 200, body: flux(fluxValue("0.995"))}, flagger: "value 0.995"},
		{answer: answer{name: "first of several rows", status: 200, body: flux(fluxValue("0.5"), fluxValue("0.7"))}, flagger: "value 0.5"},
		{answer: answer{name: "several tables", status: 200, body: flux(fluxValue("0.5"), strings.Replace(fluxValue("0.7"), ",,0,", ",,1,", 1))},
			flagger: "value 0.5", augur: "multiple values", why: "several tables → multiple values"},
		{answer: answer{name: "no rows", status: 200, body: ""},
			flagger: "value 0", augur: "no values", why: "no rows → no values"},
		{answer: answer{name: "only annotations", status: 200, body: flux()},
			flagger: "value 0", augur: "no values", why: "no rows → no values"},
		{answer: answer{name: "empty value", status: 200, body: flux(fluxValue(""))}, flagger: "no values"},
		{answer: answer{name: "NaN", status: 200, body: flux(fluxValue("NaN"))},
			flagger: "value NaN", augur: "no values", why: "NaN → no values"},
		{answer: answer{name: "long value", status: 200, body: "#datatype,string,long,long\n#group,false,false,false\n#default,_result,,\n,result,table,_value\n,,0,42\n\n"}, flagger: "error"},
		{answer: answer{name: "error table", status: 200, body: "#datatype,string,string\n#group,true,true\n#default,,\n,error,reference\n,\"bucket not found\",897\n\n"},
			flagger: "value 0", augur: "error", why: "an error in the answer → error"},
		{answer: answer{name: "malformed", status: 200, body: fluxHeader + ",,0,2026-11-01T10:00:00Z,0.5\n"},
			flagger: "value 0", augur: "error", why: "an error in the answer → error"},
		{answer: bad(401, `{"code":"unauthorized","message":"unauthorized access"}`), flagger: "error"},
		{answer: bad(500, `{"code":"internal error","message":"boom"}`), flagger: "error"},
		{answer: answer{name: "timeout", hang: true}, flagger: "timeout"},
	},
	"graphite": {
		{answer: answer{name: "value", status: 200, body: `[{"target":"a","datapoints":[[1,100],[2,160],[null,220]]}]`}, flagger: "value 2"},
		{answer: answer{name: "string value", status: 200, body: `[{"target":"a","datapoints":[["3.5",100]]}]`}, flagger: "value 3.5"},
		{answer: answer{name: "empty", status: 200, body: `[]`}, flagger: "no values"},
		{answer: answer{name: "null", status: 200, body: `[{"target":"a","datapoints":[[null,100],[null,160]]}]`}, flagger: "no values"},
		{answer: answer{name: "several targets", status: 200, body: `[{"target":"a","datapoints":[[1,100]]},{"target":"b","datapoints":[[2,100]]}]`},
			flagger: "value 2", augur: "multiple values", why: "several series → multiple values"},
		{answer: answer{name: "one target with values", status: 200, body: `[{"target":"a","datapoints":[[1,100]]},{"target":"b","datapoints":[[null,100]]}]`}, flagger: "value 1"},
		{answer: answer{name: "malformed", status: 200, body: `[{"target":"a","datapoints":[[1]]}]`}, flagger: "error"},
		{answer: bad(404, `not found`), flagger: "error"},
		{answer: bad(500, `boom`), flagger: "error"},
		{answer: answer{name: "timeout", hang: true}, flagger: "timeout"},
	},
}

// Annotated CSV answers as InfluxDB v2 writes them.
const (
	fluxHeader = "#datatype,string,long,dateTime:RFC3339,dateTime:RFC3339,double,string,string\n" +
		"#group,false,false,true,true,false,true,true\n" +
		"#default,_result,,,,,,\n" +
		",result,table,_start,_stop,_value,_field,_measurement\n"
	fluxRow = ",,0,2026-11-01T10:00:00Z,2026-11-01T10:05:00Z,%s,ratio,http\n"
)

func flux(rows ...string) string {
	s := fluxHeader
	for _, r := range rows {
		s += r
	}
	return s + "\n"
}

func fluxValue(v string) string { return strings.Replace(fluxRow, "%s", v, 1) }

// queries are the rendered queries each vendor's request is compared on.
var queries = map[string][]string{
	"datadog":   {"sum:requests.error.rate{service:podinfo,env:prod}.as_count()/sum:requests.rate{service:podinfo}.as_count()", "avg:p99{a:b}"},
	"newrelic":  {"SELECT filter(sum(nginx_ingress_controller_requests), WHERE status >= '500') / sum(nginx_ingress_controller_requests) * 100 FROM Metric WHERE metricName = 'x'", "SELECT count(*) FROM Transaction"},
	"dynatrace": {"builtin:service.errors.total.rate:filter(eq(\"dt.entity.service\",\"SERVICE-1\")):avg", "builtin:apps.web.actionCount.category"},
	"influxdb": {
		`from(bucket: "app") |> range(start: -5m) |> filter(fn: (r) => r._measurement == "http" and r._field == "ratio") |> mean()`,
		"import \"math\"\nfrom(bucket: \"app\")\n  |> range(start: -1m)\n  |> filter(fn: (r) => r.status =~ /^5/ and r.app == \"<podinfo>&\")\n  |> count()\n  |> map(fn: (r) => ({r with _value: float(v: r._value)}))",
	},
	"graphite": {
		"target=summarize(sumSeries(app.http.5xx),'5min','sum',false)&from=-5min&until=now",
		"target=asPercent(app.errors, app.requests)\n    &from=-1min",
		"target=a.b.c&target=d.e.f&from=-10min&until=-1min&maxDataPoints=5",
	},
}

// TestAnswers points both providers at the same answer and requires the same
// outcome, or the documented deliberate difference.
func TestAnswers(t *testing.T) {
	for typ, list := range shapes {
		v := sides[typ]
		for _, s := range list {
			t.Run(typ+"/"+s.name, func(t *testing.T) {
				t.Parallel()
				b := newBackend(t, s.answer)
				q := queries[typ][0]
				fo := outcome(v.flagger(t, b.srv.URL, "1m")(q))
				ao := outcome(v.augur(t, b.srv.URL, time.Minute)(q))
				reqs := b.take()
				if len(reqs) != 2 {
					t.Fatalf("server saw %d requests, want 2 (one per provider)", len(reqs))
				}
				sameRequest(t, v, reqs[0], reqs[1])
				if fo != s.flagger {
					t.Errorf("flagger: %s, the case expects %s", fo, s.flagger)
				}
				want := fo
				if s.augur != "" {
					want = s.augur
					if s.why == "" {
						t.Fatalf("a deliberate difference must name its docs/compatibility.md row")
					}
				}
				if ao != want {
					t.Errorf("augur: %s, want %s (flagger: %s)", ao, want, fo)
				}
			})
		}
	}
}

// TestRequests requires the same request for every query, metric interval and
// address form (with and without a path prefix).
func TestRequests(t *testing.T) {
	intervals := []string{"30s", "1m", "90s", "5m", "1h"}
	for typ, v := range sides {
		for _, q := range queries[typ] {
			for _, iv := range intervals {
				for _, prefix := range []string{"", "/proxy/vendor"} {
					d, err := time.ParseDuration(iv)
					if err != nil {
						t.Fatal(err)
					}
					b := newBackend(t, answer{name: "value", status: 200, body: okBody[typ]})
					fo := outcome(v.flagger(t, b.srv.URL+prefix, iv)(q))
					ao := outcome(v.augur(t, b.srv.URL+prefix, d)(q))
					reqs := b.take()
					if len(reqs) != 2 {
						t.Fatalf("%s %q interval %s prefix %q: server saw %d requests, want 2", typ, q, iv, prefix, len(reqs))
					}
					t.Run("", func(t *testing.T) {
						t.Logf("%s %q interval %s prefix %q", typ, q, iv, prefix)
						sameRequest(t, v, reqs[0], reqs[1])
						if fo != ao || fo == "error" {
							t.Errorf("outcome: flagger %s, augur %s", fo, ao)
						}
					})
				}
			}
		}
	}
}

var okBody = map[string]string{
	"datadog":   `{"series":[{"pointlist":[[1700000000000,2.5]]}]}`,
	"newrelic":  `{"results":[{"result":12.5}]}`,
	"dynatrace": `{"result":[{"data":[{"timestamps":[1],"values":[0.75]}]}]}`,
	"graphite":  `[{"target":"a","datapoints":[[1,100]]}]`,
	"influxdb":  flux(fluxValue("0.995")),
}

// TestGraphiteEdgeWhitespace asserts a deliberate difference: a multi-line
// graphite query that starts or ends with whitespace (a YAML block scalar)
// makes Flagger send " target" as the parameter name and values with a
// trailing space; augur trims the query's ends, so its request is Flagger's
// request for the trimmed query (docs/compatibility.md, graphite row).
func TestGraphiteEdgeWhitespace(t *testing.T) {
	v := sides["graphite"]
	q := "\n  target=movingAverage(app.latency.p99, '1min')\n  &from=-2min\n"
	b := newBackend(t, answer{name: "value", status: 200, body: okBody["graphite"]})
	_, _ = v.flagger(t, b.srv.URL, "1m")(q)
	_, _ = v.flagger(t, b.srv.URL, "1m")(strings.TrimSpace(q))
	if _, err := v.augur(t, b.srv.URL, time.Minute)(q); err != nil {
		t.Fatalf("augur: %v", err)
	}
	reqs := b.take()
	if len(reqs) != 3 {
		t.Fatalf("server saw %d requests, want 3", len(reqs))
	}
	if _, ok := reqs[0].Query[" target"]; !ok || reqs[0].Query.Get("from") != "-2min " {
		t.Errorf("flagger no longer mangles an untrimmed query (%v): the difference is gone, update the docs row", reqs[0].Query)
	}
	sameRequest(t, v, reqs[1], reqs[2])
}

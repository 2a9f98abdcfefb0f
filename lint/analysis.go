package lint

import (
	"fmt"
	"math"
	"regexp"
	"slices"
	"strings"
	"time"
)

// Flagger's defaults (v1.44).
const (
	flaggerInterval         = 60 * time.Second
	flaggerMinInterval      = 10 * time.Second
	flaggerMetricInterval   = time.Minute
	flaggerProgressDeadline = 600
)

// rangeFunc matches PromQL functions that need two samples in their window.
var rangeFunc = regexp.MustCompile(`\b(rate|irate|increase|delta|idelta|deriv)\s*\(`)

// builtins are Flagger's builtin metric names.
const (
	successRate = "request-success-rate"
	duration    = "request-duration"
)

// meshGroups maps a mesh provider to an API group its installation serves.
var meshGroups = map[string]string{
	"istio":   "networking.istio.io",
	"linkerd": "linkerd.io",
	"appmesh": "appmesh.k8s.aws",
	"contour": "projectcontour.io",
	"gloo":    "gloo.solo.io",
	"kuma":    "kuma.io",
	"apisix":  "apisix.apache.org",
	"traefik": "traefik.io",
	"osm":     "split.smi-spec.io",
}

// canary runs the analysis rules on a Flagger Canary.
func (c *checker) canary(o *Object) {
	const ap = "spec.analysis"
	a := c.mapAt(o, get(o.Body, "spec", "analysis"), ap)
	target := str(get(o.Body, "spec", "targetRef", "kind")) + " " + o.Namespace + "/" + str(get(o.Body, "spec", "targetRef", "name"))
	interval := flaggerInterval
	if d, ok := c.durationAt(o, a["interval"], ap+".interval"); ok {
		interval = max(d, flaggerMinInterval)
	}
	threshold := int64(1)
	if n, ok := c.intAt(o, a["threshold"], ap+".threshold"); ok && n > 0 {
		threshold = n
	}
	metrics := c.listAt(o, a["metrics"], ap+".metrics")
	hooks := c.listAt(o, a["webhooks"], ap+".webhooks")
	skip, _ := get(o.Body, "spec", "skipAnalysis").(bool)
	if skip {
		return
	}
	if len(metrics) == 0 && len(hooks) == 0 {
		c.report("analysis-without-checks", o, ap,
			"The analysis has no metrics and no webhooks, so it cannot fail: every release is promoted after the weight steps, however broken.",
			`analysis:
  metrics:
    - name: request-success-rate
      interval: 1m
      thresholdRange:
        min: 99`, target)
	}
	c.timing(o, a, interval, threshold, target)
	c.progressDeadline(o, interval, target)
	for i, m := range metrics {
		path := index(ap+".metrics", i)
		mm := c.mapAt(o, m, path)
		if mm != nil {
			c.metric(o, mm, path, target)
		}
	}
	c.loadTests(o, hooks, target)
}

// timing states the times to rollback and promotion and flags them above the limits.
func (c *checker) timing(o *Object, a map[string]any, interval time.Duration, threshold int64, target string) {
	const ap = "spec.analysis"
	steps, what := int64(0), ""
	if it, ok := c.intAt(o, a["iterations"], ap+".iterations"); ok && it > 0 {
		steps, what = it, fmt.Sprintf("%d iterations", it)
	} else if sw := c.listAt(o, a["stepWeights"], ap+".stepWeights"); len(sw) > 0 {
		steps, what = int64(len(sw)), fmt.Sprintf("%d weight steps", len(sw))
	} else {
		step, _ := c.intAt(o, a["stepWeight"], ap+".stepWeight")
		maxW, ok := c.intAt(o, a["maxWeight"], ap+".maxWeight")
		if !ok || maxW <= 0 {
			maxW = 100
		}
		if step > 0 {
			steps = (maxW + step - 1) / step
			what = fmt.Sprintf("%d weight steps of %d%% up to %d%%", steps, step, maxW)
		}
	}
	rollback := time.Duration(threshold+1) * interval
	promotion := time.Duration(steps+1) * interval
	c.report("analysis-timing", o, ap+".interval",
		fmt.Sprintf("A failing release is rolled back after about %s ((threshold %d + 1) × interval %s); a healthy one is promoted after about %s (%s, one per %s interval, plus the first tick).",
			seconds(rollback), threshold, seconds(interval), seconds(promotion), what, seconds(interval)),
		"# informational: no change needed", target)
	if rollback > c.opts.MaxTimeToRollback {
		n := max(int64(c.opts.MaxTimeToRollback/interval)-1, 1)
		c.report("rollback-too-slow", o, ap+".threshold",
			fmt.Sprintf("A bad release keeps its share of traffic for about %s before the rollback, above the %s limit.", seconds(rollback), seconds(c.opts.MaxTimeToRollback)),
			fmt.Sprintf("analysis:\n  threshold: %d", n), target)
	}
	if promotion > c.opts.MaxTimeToPromotion {
		c.report("promotion-too-slow", o, ap+".interval",
			fmt.Sprintf("A healthy release takes about %s to be promoted, above the %s limit.", seconds(promotion), seconds(c.opts.MaxTimeToPromotion)),
			"analysis:\n  stepWeights: [5, 20, 50]   # fewer, larger steps, or a shorter interval", target)
	}
}

// progressDeadline compares progressDeadlineSeconds with one interval plus
// the target's readiness.
func (c *checker) progressDeadline(o *Object, interval time.Duration, target string) {
	pds := int64(flaggerProgressDeadline)
	if n, ok := c.intAt(o, get(o.Body, "spec", "progressDeadlineSeconds"), "spec.progressDeadlineSeconds"); ok {
		pds = n
	}
	var ready time.Duration
	for _, w := range c.workloads {
		if w.canary == o {
			ready = w.readiness + time.Duration(intOr(get(w.obj.Body, "spec", "minReadySeconds"), 0))*time.Second
		}
	}
	need := interval + ready
	if time.Duration(pds)*time.Second < need {
		c.report("progress-deadline-too-short", o, "spec.progressDeadlineSeconds",
			fmt.Sprintf("Flagger rolls back without analysis when the canary pods are not ready within %ds, but checks readiness only once per %s interval and the pods need at least %s to become ready.", pds, seconds(interval), seconds(ready)),
			fmt.Sprintf("progressDeadlineSeconds: %d", int64(math.Ceil((2*need).Seconds()))), target)
	}
}

// metric checks one analysis metric's interval and thresholdRange.
func (c *checker) metric(o *Object, m map[string]any, path, target string) {
	name := c.strAt(o, m["name"], path+".name")
	builtin := (name == successRate || name == duration) && m["templateRef"] == nil
	query := c.strAt(o, m["query"], path+".query")
	var tmpl *Object
	if ref := c.mapAt(o, m["templateRef"], path+".templateRef"); ref != nil {
		ns := str(ref["namespace"])
		if ns == "" {
			ns = o.Namespace
		}
		for _, t := range c.objs {
			if t.Kind == "MetricTemplate" && isFlagger(t) && t.Namespace == ns && t.Name == str(ref["name"]) {
				tmpl = t
			}
		}
		if tmpl != nil {
			pt := str(get(tmpl.Body, "spec", "provider", "type"))
			if pt == "" || pt == "prometheus" {
				query = str(get(tmpl.Body, "spec", "query"))
			}
		}
	}
	window, set := c.durationAt(o, m["interval"], path+".interval")
	if !set {
		window = flaggerMetricInterval
	}
	needsTwo := builtin || (rangeFunc.MatchString(query) && strings.Contains(query, "interval"))
	if needsTwo && window < 2*c.opts.ScrapeInterval {
		related := []string{target}
		if tmpl != nil {
			related = append(related, tmpl.Key())
		}
		c.report("metric-interval-too-short", o, path+".interval",
			fmt.Sprintf("Metric %q queries a rate over %s, less than two %s scrapes, so the query returns no values and every check fails.", name, seconds(window), seconds(c.opts.ScrapeInterval)),
			fmt.Sprintf("interval: %s", seconds(max(time.Minute, 4*c.opts.ScrapeInterval))), related...)
	}
	c.thresholds(o, m, path, name, builtin, target)
	if c.opts.Cluster != nil && builtin {
		c.mesh(o, path, name, target)
	}
}

// thresholds checks that a thresholdRange can both pass and fail.
func (c *checker) thresholds(o *Object, m map[string]any, path, name string, builtin bool, target string) {
	rp := path + ".thresholdRange"
	r := c.mapAt(o, m["thresholdRange"], rp)
	lo, hasLo := c.numAt(o, r["min"], rp+".min")
	hi, hasHi := c.numAt(o, r["max"], rp+".max")
	if r == nil {
		// Flagger's deprecated threshold: a minimum for the success rate,
		// a maximum otherwise (0 when unset).
		t, _ := c.numAt(o, m["threshold"], path+".threshold")
		if builtin && name == successRate {
			lo, hasLo = t, true
		} else {
			hi, hasHi = t, true
		}
		rp = path + ".threshold"
	}
	never := func(rule, msg, fix string) { c.report(rule, o, rp, msg, fix, target) }
	switch {
	case hasLo && hasHi && lo > hi:
		never("threshold-never-passes", fmt.Sprintf("Metric %q must be at least %v and at most %v, which no value is, so every check fails and every release is rolled back.", name, lo, hi),
			fmt.Sprintf("thresholdRange:\n  min: %v\n  max: %v", hi, lo))
	case builtin && name == successRate && hasLo && lo > 100:
		never("threshold-never-passes", fmt.Sprintf("Metric %q is a percentage and can never reach the minimum %v, so every release is rolled back.", name, lo),
			"thresholdRange:\n  min: 99")
	case builtin && hasHi && hi < 0, builtin && name == duration && r == nil && hi <= 0:
		never("threshold-never-passes", fmt.Sprintf("Metric %q is never negative and must stay at or below %v, so every check fails and every release is rolled back.", name, hi),
			"thresholdRange:\n  max: 500")
	case builtin && name == successRate && (!hasLo || lo <= 0) && (!hasHi || hi >= 100):
		never("threshold-never-fails", fmt.Sprintf("Metric %q is a percentage between 0 and 100 and no bound excludes any of it, so the check passes whatever the error rate.", name),
			"thresholdRange:\n  min: 99")
	case builtin && name == duration && !hasHi && (!hasLo || lo <= 0):
		never("threshold-never-fails", fmt.Sprintf("Metric %q has no maximum, so the check passes however slow the canary is.", name),
			"thresholdRange:\n  max: 500")
	case r != nil && !hasLo && !hasHi:
		never("threshold-never-fails", fmt.Sprintf("Metric %q has a thresholdRange with neither min nor max, so the check passes whatever the value.", name),
			"thresholdRange:\n  max: 5")
	}
}

// mesh checks, in cluster mode, that the builtin metrics' mesh is installed.
func (c *checker) mesh(o *Object, path, name, target string) {
	p := str(get(o.Body, "spec", "provider"))
	if p == "" && (get(o.Body, "spec", "service", "gateways") != nil || get(o.Body, "spec", "service", "hosts") != nil) {
		p = "istio"
	}
	base, _, _ := strings.Cut(p, ":")
	group, ok := meshGroups[base]
	if !ok || slices.Contains(c.opts.Cluster.APIGroups, group) {
		return
	}
	c.report("mesh-telemetry-missing", o, path+".name",
		fmt.Sprintf("Builtin metric %q reads %s telemetry, but the cluster serves no %s API, so the query returns no values and every check fails.", name, base, group),
		"# install the mesh, or replace the builtin with a MetricTemplate over telemetry the cluster has:\ntemplateRef:\n  name: my-success-rate", target)
}

// urlHost matches the host of the http(s) URLs in a command.
var urlHost = regexp.MustCompile(`https?://([A-Za-z0-9.-]+)`)

// loadTests checks that rollout webhooks that generate load target the canary.
func (c *checker) loadTests(o *Object, hooks []any, target string) {
	svc := str(get(o.Body, "spec", "service", "name"))
	if svc == "" {
		svc = str(get(o.Body, "spec", "targetRef", "name"))
	}
	want := svc + "-canary"
	for i, h := range hooks {
		path := index("spec.analysis.webhooks", i)
		typ := str(get(h, "type"))
		if typ != "" && typ != "rollout" {
			continue
		}
		cmd, _ := get(h, "metadata", "cmd").(string)
		hosts := urlHost.FindAllStringSubmatch(cmd, -1)
		if len(hosts) == 0 {
			continue
		}
		ok := false
		for _, m := range hosts {
			parts := strings.Split(m[1], ".")
			ok = ok || (parts[0] == want && (len(parts) == 1 || parts[1] == o.Namespace))
		}
		if !ok {
			c.report("load-test-misses-canary", o, path+".metadata.cmd",
				fmt.Sprintf("Load test %q sends its requests to %s, not to the canary's service %s.%s, so the canary gets no traffic, its metrics have no values and every check fails.", str(get(h, "name")), hosts[0][1], want, o.Namespace),
				fmt.Sprintf("metadata:\n  cmd: \"hey -z 1m -q 10 -c 2 http://%s.%s/\"", want, o.Namespace), target)
		}
	}
}

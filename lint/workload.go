package lint

import (
	"fmt"
	"reflect"
	"regexp"
	"strconv"
	"strings"
	"time"

	yaml "go.yaml.in/yaml/v3"
)

// workload is a Deployment, StatefulSet, DaemonSet or Argo Rollout with a pod template.
type workload struct {
	obj *Object
	// replicas is the effective minimum: the HPA's minReplicas when an HPA
	// targets the workload, else spec.replicas (default 1); -1 for a DaemonSet.
	replicas int64
	hpa      *Object
	labels   map[string]string
	// primaryLabels are the labels of Flagger's <name>-primary pods when a
	// Canary targets the workload.
	primaryLabels map[string]string
	canary        *Object
	// preStop is the longest preStop pause of the containers; preStopKnown
	// is false when a hook's duration cannot be read (an HTTP hook, a script).
	preStop      time.Duration
	preStopKnown bool
	// readiness is the longest time a container takes to be ready at best.
	readiness time.Duration
}

const podSpec = "spec.template.spec"

// index finds the workloads and what they relate to.
func (c *checker) index() {
	for _, o := range c.objs {
		switch {
		case (o.Kind == "Deployment" || o.Kind == "StatefulSet" || o.Kind == "DaemonSet") && strings.HasPrefix(o.APIVersion, "apps/"),
			o.Kind == "Rollout" && isArgo(o) && get(o.Body, "spec", "template") != nil:
			c.workloads = append(c.workloads, &workload{obj: o})
		}
	}
	for _, w := range c.workloads {
		o := w.obj
		w.labels = c.labelsAt(o, get(o.Body, "spec", "template", "metadata", "labels"), "spec.template.metadata.labels")
		for _, h := range c.objs {
			if h.Kind == "HorizontalPodAutoscaler" && h.Namespace == o.Namespace &&
				str(get(h.Body, "spec", "scaleTargetRef", "kind")) == o.Kind && str(get(h.Body, "spec", "scaleTargetRef", "name")) == o.Name {
				w.hpa = h
			}
			if h.Kind == "Canary" && isFlagger(h) && h.Namespace == o.Namespace &&
				str(get(h.Body, "spec", "targetRef", "kind")) == o.Kind && str(get(h.Body, "spec", "targetRef", "name")) == o.Name {
				w.canary = h
				w.primaryLabels = primaryLabels(w.labels)
			}
		}
		switch {
		case o.Kind == "DaemonSet":
			w.replicas = -1
		case w.hpa != nil:
			w.replicas = 1
			if n, ok := c.intAt(w.hpa, get(w.hpa.Body, "spec", "minReplicas"), "spec.minReplicas"); ok {
				w.replicas = n
			}
		default:
			w.replicas = 1
			if n, ok := c.intAt(o, get(o.Body, "spec", "replicas"), "spec.replicas"); ok {
				w.replicas = n
			}
		}
	}
}

// primaryLabels are the pod labels of Flagger's primary workload: the
// selector label (app, name or app.kubernetes.io/name) gets "-primary".
func primaryLabels(labels map[string]string) map[string]string {
	out := map[string]string{}
	for k, v := range labels {
		out[k] = v
	}
	for _, k := range []string{"app", "name", "app.kubernetes.io/name"} {
		if v, ok := labels[k]; ok {
			out[k] = v + "-primary"
			break
		}
	}
	return out
}

func (c *checker) labelsAt(o *Object, v any, path string) map[string]string {
	m := c.mapAt(o, v, path)
	out := make(map[string]string, len(m))
	for k, e := range m {
		s, ok := e.(string)
		if !ok {
			c.bad(o, field(path, k), "a string")
		}
		out[k] = s
	}
	return out
}

// workload runs the zero-downtime rules on one workload.
func (c *checker) workload(w *workload) {
	o := w.obj
	spec := c.mapAt(o, get(o.Body, "spec", "template", "spec"), podSpec)
	containers := c.listAt(o, spec["containers"], podSpec+".containers")
	w.preStopKnown = true
	for i, ct := range containers {
		path := index(podSpec+".containers", i)
		m := c.mapAt(o, ct, path)
		if m != nil {
			c.container(w, m, path)
		}
	}
	c.gracePeriod(w, spec)
	c.istio(w)
	if o.Kind == "DaemonSet" {
		return
	}
	c.replicas(w)
	if o.Kind == "Deployment" {
		c.strategy(w)
	}
	c.disruptionBudget(w)
	if spec["topologySpreadConstraints"] == nil && get(spec, "affinity", "podAntiAffinity") == nil && w.replicas != 0 {
		c.report("spread-missing", o, podSpec,
			"Nothing keeps the scheduler from placing every replica on one node, so that node's drain or failure takes the service down.",
			fmt.Sprintf(`topologySpreadConstraints:
  - maxSkew: 1
    topologyKey: kubernetes.io/hostname
    whenUnsatisfiable: ScheduleAnyway
    labelSelector:
      matchLabels:
%s`, indentLabels(w.labels, 8)))
	}
}

func indentLabels(labels map[string]string, n int) string {
	if len(labels) == 0 {
		return strings.Repeat(" ", n) + "app: my-app"
	}
	b, _ := yaml.Marshal(labels)
	lines := strings.Split(strings.TrimRight(string(b), "\n"), "\n")
	for i := range lines {
		lines[i] = strings.Repeat(" ", n) + lines[i]
	}
	return strings.Join(lines, "\n")
}

// sleepCmd finds "sleep N" in an exec command.
var sleepCmd = regexp.MustCompile(`(?:^|[\s;&|/])sleep\s+([0-9]+(?:\.[0-9]+)?)(s?)\b`)

// container checks probes, preStop and requests of one container.
func (c *checker) container(w *workload, ct map[string]any, path string) {
	o := w.obj
	name := c.strAt(o, ct["name"], path+".name")
	ready := c.mapAt(o, ct["readinessProbe"], path+".readinessProbe")
	live := c.mapAt(o, ct["livenessProbe"], path+".livenessProbe")
	port := "8080"
	if ports, _ := ct["ports"].([]any); len(ports) > 0 {
		if p, ok := get(ports[0], "containerPort").(int64); ok {
			port = strconv.FormatInt(p, 10)
		}
	}
	switch {
	case ready == nil:
		c.report("readiness-probe-missing", o, path+".readinessProbe",
			fmt.Sprintf("Container %q counts as ready as soon as it starts, so new pods get requests before they can serve them and old pods are removed too early.", name),
			fmt.Sprintf(`readinessProbe:
  httpGet:
    path: /readyz
    port: %s
  periodSeconds: 5`, port))
	case live != nil && reflect.DeepEqual(ready, live):
		c.report("readiness-probe-same-as-liveness", o, path+".readinessProbe",
			fmt.Sprintf("Container %q is restarted by its liveness probe whenever it is merely not ready, killing in-flight requests instead of taking the pod out of rotation.", name),
			fmt.Sprintf(`readinessProbe:   # "can I take traffic now?"
  httpGet:
    path: /readyz
    port: %s
livenessProbe:    # "am I stuck?" — more tolerant
  httpGet:
    path: /healthz
    port: %s
  failureThreshold: 6`, port, port))
	}
	if ready != nil {
		d := time.Duration(intOr(ready["initialDelaySeconds"], 0)+intOr(ready["periodSeconds"], 10)*intOr(ready["successThreshold"], 1)) * time.Second
		w.readiness = max(w.readiness, d)
	}
	reqs := c.mapAt(o, get(ct, "resources", "requests"), path+".resources.requests")
	if reqs["cpu"] == nil && reqs["memory"] == nil {
		c.resources(o, name, path)
	}
	hook := c.mapAt(o, get(ct, "lifecycle", "preStop"), path+".lifecycle.preStop")
	fix := `lifecycle:
  preStop:
    sleep:            # Kubernetes ≥ 1.30; older: exec: {command: ["sleep", "10"]}
      seconds: 10`
	if hook == nil {
		c.report("prestop-missing", o, path+".lifecycle.preStop",
			fmt.Sprintf("Container %q gets SIGTERM while load balancers and sidecars still route to it, so requests in that window fail.", name), fix)
		return
	}
	d, known := c.preStopDuration(o, hook, path+".lifecycle.preStop")
	if !known {
		w.preStopKnown = false
		return
	}
	w.preStop = max(w.preStop, d)
	if d < c.opts.Propagation {
		c.report("prestop-too-short", o, path+".lifecycle.preStop",
			fmt.Sprintf("Container %q pauses %s before stopping, less than the %s endpoint removal takes to propagate, so the last requests routed to it fail.", name, seconds(d), seconds(c.opts.Propagation)), fix)
	}
}

func (c *checker) resources(o *Object, name, path string) {
	c.report("resource-requests-missing", o, path+".resources.requests",
		fmt.Sprintf("Container %q has no CPU or memory requests, so its new pods may land on nodes that cannot run them and are the first to be evicted under pressure.", name),
		`resources:
  requests:
    cpu: 100m
    memory: 64Mi`)
}

// intOr returns an integer field or def.
func intOr(v any, def int64) int64 {
	if n, ok := v.(int64); ok {
		return n
	}
	return def
}

// preStopDuration reads the pause of a preStop hook: sleep.seconds or an
// exec command running sleep N.
func (c *checker) preStopDuration(o *Object, hook map[string]any, path string) (time.Duration, bool) {
	if s := c.mapAt(o, hook["sleep"], path+".sleep"); s != nil {
		n, ok := c.intAt(o, s["seconds"], path+".sleep.seconds")
		return time.Duration(n) * time.Second, ok
	}
	cmd := c.listAt(o, get(hook, "exec", "command"), path+".exec.command")
	var parts []string
	for _, p := range cmd {
		if s, ok := p.(string); ok {
			parts = append(parts, s)
		}
	}
	if m := sleepCmd.FindStringSubmatch(strings.Join(parts, " ")); m != nil {
		f, err := strconv.ParseFloat(m[1], 64)
		if err == nil {
			return time.Duration(f * float64(time.Second)), true
		}
	}
	return 0, false
}

// gracePeriod checks terminationGracePeriodSeconds against the pause and shutdown.
func (c *checker) gracePeriod(w *workload, spec map[string]any) {
	o := w.obj
	if !w.preStopKnown {
		return
	}
	grace := int64(30)
	if n, ok := c.intAt(o, spec["terminationGracePeriodSeconds"], podSpec+".terminationGracePeriodSeconds"); ok {
		grace = n
	}
	need := w.preStop + c.opts.Shutdown
	if time.Duration(grace)*time.Second <= need {
		c.report("grace-period-too-short", o, podSpec+".terminationGracePeriodSeconds",
			fmt.Sprintf("The pods are killed %ds after termination starts, before the %s preStop pause and %s of shutdown are over, so in-flight requests are cut off.", grace, seconds(w.preStop), seconds(c.opts.Shutdown)),
			fmt.Sprintf("terminationGracePeriodSeconds: %d", int64((need+15*time.Second)/time.Second)))
	}
}

// replicas checks the effective minimum replica count.
func (c *checker) replicas(w *workload) {
	if w.replicas >= 2 || w.replicas == 0 {
		return
	}
	if w.hpa != nil {
		c.report("single-replica", w.hpa, "spec.minReplicas",
			fmt.Sprintf("%s scales %s down to %d replica, so every restart, eviction or node drain is an outage.", w.hpa.Key(), w.obj.Key(), w.replicas),
			"minReplicas: 2", w.obj.Key())
		return
	}
	c.report("single-replica", w.obj, "spec.replicas",
		fmt.Sprintf("With %d replica every restart, eviction or node drain of %s is an outage.", w.replicas, w.obj.Key()),
		"replicas: 2   # or an HorizontalPodAutoscaler with minReplicas: 2")
}

// strategy checks a Deployment's rolling update parameters.
func (c *checker) strategy(w *workload) {
	o := w.obj
	typ := c.strAt(o, get(o.Body, "spec", "strategy", "type"), "spec.strategy.type")
	fix := `strategy:
  type: RollingUpdate
  rollingUpdate:
    maxSurge: 1
    maxUnavailable: 0`
	if typ == "Recreate" {
		c.report("max-unavailable-all-replicas", o, "spec.strategy.type",
			"The Recreate strategy stops every pod before starting the new ones: the service is down for the whole rollout.", fix)
		return
	}
	n := max(w.replicas, 1)
	ru := "spec.strategy.rollingUpdate"
	surge, ok := c.intOrPercent(o, get(o.Body, "spec", "strategy", "rollingUpdate", "maxSurge"), ru+".maxSurge", n, true)
	if !ok {
		surge, _ = c.intOrPercent(o, "25%", ru+".maxSurge", n, true)
	}
	unavail, ok := c.intOrPercent(o, get(o.Body, "spec", "strategy", "rollingUpdate", "maxUnavailable"), ru+".maxUnavailable", n, false)
	if !ok {
		unavail, _ = c.intOrPercent(o, "25%", ru+".maxUnavailable", n, false)
	}
	switch {
	case unavail >= n:
		c.report("max-unavailable-all-replicas", o, ru+".maxUnavailable",
			fmt.Sprintf("maxUnavailable resolves to %d of %d replicas, so the rollout may stop every serving pod before a new one is ready.", unavail, n), fix)
	case unavail > 0 && surge == 0:
		c.report("max-unavailable-without-surge", o, ru+".maxSurge",
			fmt.Sprintf("With maxSurge 0 the rollout removes %d serving pod(s) before starting replacements, so capacity drops below %d replicas at every step.", unavail, n), fix)
	}
}

// disruptionBudget checks that a PDB selects the workload's pods.
func (c *checker) disruptionBudget(w *workload) {
	for _, p := range c.objs {
		if p.Kind != "PodDisruptionBudget" || p.Namespace != w.obj.Namespace {
			continue
		}
		sel, _ := get(p.Body, "spec", "selector").(map[string]any)
		if matches(sel, w.labels) || (w.primaryLabels != nil && matches(sel, w.primaryLabels)) {
			return
		}
	}
	labels := w.labels
	if w.primaryLabels != nil {
		labels = w.primaryLabels
	}
	c.report("pdb-missing", w.obj, "spec.template.metadata.labels",
		fmt.Sprintf("No PodDisruptionBudget selects the pods of %s, so a node drain or cluster upgrade may evict every replica at once.", w.obj.Key()),
		fmt.Sprintf(`apiVersion: policy/v1
kind: PodDisruptionBudget
metadata:
  name: %s
  namespace: %s
spec:
  maxUnavailable: 1
  selector:
    matchLabels:
%s`, w.obj.Name, w.obj.Namespace, indentLabels(labels, 6)))
}

// matches evaluates a label selector (matchLabels, matchExpressions). An
// empty or missing selector matches nothing (policy/v1 semantics: an empty
// selector matches every pod, but a missing one none; both are rare enough
// to treat as "not this workload").
func matches(sel map[string]any, labels map[string]string) bool {
	if len(sel) == 0 {
		return false
	}
	ml, _ := sel["matchLabels"].(map[string]any)
	for k, v := range ml {
		if s, ok := v.(string); !ok || labels[k] != s {
			return false
		}
	}
	exprs, _ := sel["matchExpressions"].([]any)
	for _, e := range exprs {
		key := str(get(e, "key"))
		val, has := labels[key]
		var values []string
		vs, _ := get(e, "values").([]any)
		for _, v := range vs {
			values = append(values, str(v))
		}
		in := false
		for _, v := range values {
			in = in || v == val
		}
		switch str(get(e, "operator")) {
		case "In":
			if !has || !in {
				return false
			}
		case "NotIn":
			if has && in {
				return false
			}
		case "Exists":
			if !has {
				return false
			}
		case "DoesNotExist":
			if has {
				return false
			}
		default:
			return false
		}
	}
	return len(ml) > 0 || len(exprs) > 0
}

// pdb checks that a PodDisruptionBudget allows evictions.
func (c *checker) pdb(p *Object) {
	sel, _ := get(p.Body, "spec", "selector").(map[string]any)
	var targets []*workload
	for _, w := range c.workloads {
		if w.obj.Namespace == p.Namespace && w.replicas > 0 && (matches(sel, w.labels) || (w.primaryLabels != nil && matches(sel, w.primaryLabels))) {
			targets = append(targets, w)
		}
	}
	fix := "maxUnavailable: 1"
	if mu := get(p.Body, "spec", "maxUnavailable"); mu != nil {
		n, ok := c.intOrPercent(p, mu, "spec.maxUnavailable", 100, false)
		if ok && n == 0 {
			c.report("pdb-blocks-eviction", p, "spec.maxUnavailable",
				"maxUnavailable 0 blocks every voluntary eviction, so node drains and cluster upgrades hang until someone deletes the budget.", fix, keys(targets)...)
		}
		return
	}
	ma := get(p.Body, "spec", "minAvailable")
	if ma == nil {
		return
	}
	if s, ok := ma.(string); ok && strings.HasSuffix(s, "%") {
		n, ok := c.intOrPercent(p, ma, "spec.minAvailable", 100, true)
		if ok && n >= 100 {
			c.report("pdb-blocks-eviction", p, "spec.minAvailable",
				"minAvailable 100% blocks every voluntary eviction, so node drains and cluster upgrades hang until someone deletes the budget.", fix, keys(targets)...)
		}
		return
	}
	n, ok := c.intAt(p, ma, "spec.minAvailable")
	if !ok {
		return
	}
	for _, w := range targets {
		if n >= w.replicas {
			c.report("pdb-blocks-eviction", p, "spec.minAvailable",
				fmt.Sprintf("minAvailable %d with %d replica(s) of %s blocks every voluntary eviction, so node drains hang until someone deletes the budget.", n, w.replicas, w.obj.Key()),
				fix, w.obj.Key())
		}
	}
}

func keys(ws []*workload) []string {
	var out []string
	for _, w := range ws {
		out = append(out, w.obj.Key())
	}
	return out
}

package lint

// Categories of rules.
const (
	ZeroDowntime = "zero-downtime"
	Analysis     = "canary-analysis"
	Argo         = "argo"
)

// Rule is one check: its stable id, default severity and documentation.
// docs/lint.md is the long form of this table (a test keeps them together).
type Rule struct {
	// ID is stable: annotations, flags and SARIF results name it.
	ID       string `json:"id"`
	Category string `json:"category"`
	// Severity is the default severity.
	Severity Severity `json:"severity"`
	// Title is a short description.
	Title string `json:"title"`
	// Rationale says why the rule exists.
	Rationale string `json:"rationale"`
	// Source is where the fact comes from (a documentation URL, the field notes).
	Source string `json:"source"`
	// Kinds are the objects the rule reads.
	Kinds string `json:"kinds"`
	// ClusterOnly rules run only with --cluster.
	ClusterOnly bool `json:"clusterOnly,omitempty"`
}

const (
	srcProbes     = "https://kubernetes.io/docs/concepts/configuration/liveness-readiness-startup-probes/"
	srcTerminate  = "https://kubernetes.io/docs/concepts/workloads/pods/pod-lifecycle/#pod-termination"
	srcHooks      = "https://kubernetes.io/docs/concepts/containers/container-lifecycle-hooks/"
	srcRolling    = "https://kubernetes.io/docs/concepts/workloads/controllers/deployment/#rolling-update-deployment"
	srcPDB        = "https://kubernetes.io/docs/tasks/run-application/configure-pdb/"
	srcSpread     = "https://kubernetes.io/docs/concepts/scheduling-eviction/topology-spread-constraints/"
	srcResources  = "https://kubernetes.io/docs/concepts/configuration/manage-resources-containers/"
	srcProxy      = "https://istio.io/latest/docs/reference/config/istio.mesh.v1alpha1/#ProxyConfig"
	srcNotes      = "augur field notes (docs/lint.md#sources): the zero-downtime checklist"
	srcFlagger    = "https://docs.flagger.app/usage/how-it-works"
	srcMetrics    = "https://docs.flagger.app/usage/metrics"
	srcWebhooks   = "https://docs.flagger.app/usage/webhooks"
	srcPromRate   = "https://prometheus.io/docs/prometheus/latest/querying/functions/#rate"
	srcArgo       = "https://argo-rollouts.readthedocs.io/en/stable/features/analysis/"
	workloadKinds = "Deployment, StatefulSet, DaemonSet, Rollout"
	scaledKinds   = "Deployment, StatefulSet, Rollout (+ HorizontalPodAutoscaler)"
)

// Rules are every rule, in the order docs/lint.md lists them.
var Rules = []Rule{
	{ID: "readiness-probe-missing", Category: ZeroDowntime, Severity: Error, Kinds: workloadKinds,
		Title:     "a container has no readiness probe",
		Rationale: "Without a readiness probe a pod counts as ready as soon as its containers start, so the Service sends requests to a process that is not listening yet, and a rolling update removes old pods before the new ones can serve.",
		Source:    srcProbes + " ; " + srcNotes},
	{ID: "readiness-probe-same-as-liveness", Category: ZeroDowntime, Severity: Error, Kinds: workloadKinds,
		Title:     "the readiness probe is identical to the liveness probe",
		Rationale: "Readiness takes a pod out of the load balancer; liveness restarts it. When both ask the same question, an overloaded or draining pod is restarted instead of being taken out of rotation, and in-flight requests die with it.",
		Source:    srcProbes},
	{ID: "prestop-missing", Category: ZeroDowntime, Severity: Error, Kinds: workloadKinds,
		Title:     "a container has no preStop pause",
		Rationale: "Endpoint removal reaches kube-proxy, ingress controllers and sidecars asynchronously; SIGTERM arrives at the same time. Without a preStop sleep the process stops while traffic is still routed to it, which is the 0.4 % of 503s the field notes measured.",
		Source:    srcTerminate + " ; " + srcHooks + " ; " + srcNotes},
	{ID: "prestop-too-short", Category: ZeroDowntime, Severity: Error, Kinds: workloadKinds,
		Title:     "the preStop pause is shorter than endpoint propagation",
		Rationale: "A preStop sleep shorter than the time endpoint changes take to propagate (--propagation, default 5s) still stops the process while some load balancers route to it.",
		Source:    srcTerminate + " ; " + srcNotes},
	{ID: "grace-period-too-short", Category: ZeroDowntime, Severity: Error, Kinds: workloadKinds,
		Title:     "terminationGracePeriodSeconds does not cover the preStop pause plus shutdown",
		Rationale: "The grace period (default 30s) counts from the start of the preStop hook; when it ends the kubelet sends SIGKILL. It must exceed the preStop pause plus the application's shutdown time (--shutdown, default 10s), or in-flight requests are killed.",
		Source:    srcTerminate},
	{ID: "max-unavailable-without-surge", Category: ZeroDowntime, Severity: Error, Kinds: "Deployment",
		Title:     "maxUnavailable > 0 with maxSurge 0",
		Rationale: "With no surge the rollout first removes serving pods and only then starts their replacements, so capacity drops below the desired replica count for every step.",
		Source:    srcRolling + " ; " + srcNotes},
	{ID: "max-unavailable-all-replicas", Category: ZeroDowntime, Severity: Error, Kinds: "Deployment",
		Title:     "maxUnavailable ≥ replicas, or the Recreate strategy",
		Rationale: "When every replica may be unavailable at once (or the strategy is Recreate) the rollout can stop all serving pods before any new one is ready: a full outage.",
		Source:    srcRolling},
	{ID: "single-replica", Category: ZeroDowntime, Severity: Error, Kinds: scaledKinds,
		Title:     "fewer than 2 replicas (HPA minReplicas counts)",
		Rationale: "One replica means every restart, eviction or node drain is an outage, and a PodDisruptionBudget cannot protect it.",
		Source:    srcNotes + " ; " + srcPDB},
	{ID: "pdb-missing", Category: ZeroDowntime, Severity: Error, Kinds: scaledKinds + ", PodDisruptionBudget",
		Title:     "no PodDisruptionBudget selects the pods",
		Rationale: "Without a PDB a node drain or cluster upgrade may evict every replica at once.",
		Source:    srcPDB + " ; " + srcNotes},
	{ID: "pdb-blocks-eviction", Category: ZeroDowntime, Severity: Error, Kinds: "PodDisruptionBudget",
		Title:     "the PodDisruptionBudget allows no eviction",
		Rationale: "maxUnavailable 0, or minAvailable at or above the replica count, blocks every voluntary eviction: node drains hang until someone deletes the PDB, and the pods are then evicted without protection.",
		Source:    "https://kubernetes.io/docs/concepts/workloads/pods/disruptions/ ; " + srcPDB},
	{ID: "spread-missing", Category: ZeroDowntime, Severity: Error, Kinds: scaledKinds,
		Title:     "no pod anti-affinity or topology spread",
		Rationale: "Without anti-affinity or topologySpreadConstraints the scheduler may put every replica on one node, and that node's drain or failure takes the service down.",
		Source:    srcSpread + " ; " + srcNotes},
	{ID: "resource-requests-missing", Category: ZeroDowntime, Severity: Error, Kinds: workloadKinds,
		Title:     "a container has no resource requests",
		Rationale: "Without CPU and memory requests the scheduler packs pods onto nodes that cannot run them, new pods of a rollout starve or get evicted first (BestEffort), and an HPA on CPU utilization has nothing to measure.",
		Source:    srcResources + " ; " + srcNotes},
	{ID: "istio-drain-shorter-than-prestop", Category: ZeroDowntime, Severity: Error, Kinds: workloadKinds,
		Title:     "the Istio sidecar stops draining before the preStop pause ends",
		Rationale: "On SIGTERM the Istio proxy drains for terminationDrainDuration (default 5s) and exits, while the application container is still in its preStop pause; requests that still arrive have no proxy to pass through.",
		Source:    srcProxy + " (terminationDrainDuration) ; " + srcNotes},
	{ID: "istio-app-starts-before-proxy", Category: ZeroDowntime, Severity: Error, Kinds: workloadKinds,
		Title:     "the application may start before the Istio sidecar is ready",
		Rationale: "Without holdApplicationUntilProxyStarts the application container starts in parallel with the proxy; its first outbound calls fail and readiness may pass before the pod can take traffic through the mesh.",
		Source:    srcProxy + " (holdApplicationUntilProxyStarts)"},

	{ID: "metric-interval-too-short", Category: Analysis, Severity: Error, Kinds: "Canary, MetricTemplate",
		Title:     "a metric interval shorter than two scrapes",
		Rationale: "rate() and friends need at least two samples in their window; with a window shorter than two scrape intervals (--scrape-interval, default 15s) the query returns no values and every check fails (Flagger issue #1123).",
		Source:    srcPromRate + " ; " + srcMetrics},
	{ID: "analysis-timing", Category: Analysis, Severity: Info, Kinds: "Canary",
		Title:     "how long the analysis takes to roll back and to promote",
		Rationale: "States the time to a rollback ((threshold+1) × interval: the check precedes the analysis) and to promotion (the weight steps or iterations plus the first and last ticks), so they can be compared with expectations.",
		Source:    srcFlagger},
	{ID: "rollback-too-slow", Category: Analysis, Severity: Warning, Kinds: "Canary",
		Title:     "the time to a rollback is above the limit",
		Rationale: "failedChecks is cumulative and a rollback waits for threshold failures: a bad canary keeps its share of traffic for (threshold+1) × interval (--max-time-to-rollback, default 30m).",
		Source:    srcFlagger},
	{ID: "promotion-too-slow", Category: Analysis, Severity: Warning, Kinds: "Canary",
		Title:     "the time to promotion is above the limit",
		Rationale: "A healthy release takes one interval per weight step or iteration plus the first and last ticks (--max-time-to-promotion, default 2h).",
		Source:    srcFlagger},
	{ID: "progress-deadline-too-short", Category: Analysis, Severity: Error, Kinds: "Canary (+ target workload)",
		Title:     "progressDeadlineSeconds is shorter than one analysis interval plus readiness",
		Rationale: "Flagger rolls back immediately, ignoring the threshold, when the canary workload is not ready within progressDeadlineSeconds; a deadline shorter than the pods' readiness plus one analysis interval can roll back a healthy release.",
		Source:    srcFlagger},
	{ID: "mesh-telemetry-missing", Category: Analysis, Severity: Error, Kinds: "Canary", ClusterOnly: true,
		Title:     "builtin metrics for a mesh whose telemetry the cluster lacks",
		Rationale: "The builtin request-success-rate and request-duration queries read the mesh provider's metrics (istio_requests_total, response_total, …); when the cluster serves no API of that mesh, the queries return no values and every check fails.",
		Source:    srcMetrics},
	{ID: "load-test-misses-canary", Category: Analysis, Severity: Error, Kinds: "Canary",
		Title:     "a load-test webhook does not target the canary's service",
		Rationale: "During analysis the load tester is the canary's only guaranteed traffic; when its command targets the primary or another host, the canary receives no requests, the success-rate query is empty and every tick fails (\"no values found … probably not receiving traffic\").",
		Source:    srcWebhooks + " ; " + srcNotes},
	{ID: "analysis-without-checks", Category: Analysis, Severity: Error, Kinds: "Canary, Rollout",
		Title:     "a rollout with no metrics and no gates",
		Rationale: "An analysis without metrics or webhooks cannot fail: it promotes every release after the weight steps, however broken.",
		Source:    srcFlagger + " ; " + srcArgo},
	{ID: "threshold-never-fails", Category: Analysis, Severity: Error, Kinds: "Canary",
		Title:     "a thresholdRange that no value can fail",
		Rationale: "A success rate is never below 0 and a latency never negative; a range with no bound the metric can cross (a success-rate min of 0, no min and no max) passes whatever happens.",
		Source:    srcMetrics},
	{ID: "threshold-never-passes", Category: Analysis, Severity: Error, Kinds: "Canary",
		Title:     "a thresholdRange that no value can pass",
		Rationale: "A max below 0 for a metric that is never negative, a success-rate min above 100, or a min above the max fails every check, so every release is rolled back.",
		Source:    srcMetrics},

	{ID: "argo-metric-without-condition", Category: Argo, Severity: Error, Kinds: "AnalysisTemplate, ClusterAnalysisTemplate",
		Title:     "an augur metric with no condition, range or judge",
		Rationale: "augur's Argo plugin, like Argo's built-in providers, reports Successful when a metric has neither successCondition nor failureCondition; without a thresholdRange or judge either, the metric can never fail.",
		Source:    srcArgo},
	{ID: "argo-run-ends-before-data", Category: Argo, Severity: Error, Kinds: "AnalysisTemplate, ClusterAnalysisTemplate",
		Title:     "count and interval end the analysis before enough data",
		Rationale: "A query window shorter than two scrapes returns no values, and a run of count × interval shorter than the query window measures mostly the time before the canary existed.",
		Source:    srcArgo + " ; " + srcPromRate},
	{ID: "argo-failure-limit-unreachable", Category: Argo, Severity: Error, Kinds: "AnalysisTemplate, ClusterAnalysisTemplate",
		Title:     "failureLimit ≥ count: the metric can never fail the run",
		Rationale: "Argo fails a metric when its failed measurements exceed failureLimit; with count measurements and failureLimit ≥ count that never happens.",
		Source:    srcArgo},
}

// RuleByID returns the rule with id, or nil.
func RuleByID(id string) *Rule {
	for i := range Rules {
		if Rules[i].ID == id {
			return &Rules[i]
		}
	}
	return nil
}

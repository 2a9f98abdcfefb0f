// Package lint owns augur's pre-rollout checks ("preflight"): rules that read
// Kubernetes workloads, Services, HPAs, PodDisruptionBudgets, Istio sidecar
// settings, Flagger Canaries and MetricTemplates, and Argo Rollouts and
// AnalysisTemplates, and report what will drop traffic or make a canary
// analysis unable to pass or to fail — before the rollout starts.
//
// Rules are data (Rules: a stable id, a default severity, the rationale and
// its source) plus checks, pure functions over decoded objects. Objects come
// from Parse (YAML or JSON bytes, with the file, line and column of every
// field) or from FromMap (an object read from the cluster as unstructured
// JSON). Run applies the rules with Options (allowances, limits, disabled and
// lowered rules, and — in cluster mode — Facts about the cluster) and returns
// Findings, which Write renders as text, JSON or SARIF 2.1.0.
//
// The package does no I/O and reads no clock. It imports only the standard
// library, go.yaml.in/yaml/v3 and package manifest (the strict decoder of
// Flagger objects, used to reject malformed Canaries and MetricTemplates);
// it must not import client-go, the engine, metrics or any transport.
package lint

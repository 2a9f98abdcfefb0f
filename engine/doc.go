// Package engine is augur's imperative shell. It turns a Canary into metric
// plans (rendered queries plus provider configurations), runs the queries
// concurrently with per-metric timeouts, calls exactly the webhooks the pure
// core asks for, and returns the core's decision; Replay drives ticks on a
// simulated clock.
//
// It depends only on the analysis core and the leaf packages' interfaces
// (metrics, templates, webhooks). It must not import a metrics backend
// (metrics/prometheus, metrics/recorded), kube, client-go, cobra, go-plugin,
// argo-rollouts or any transport; those are wired in by the callers.
package engine

// Package engine is augur's imperative shell. It turns a Canary into metric
// plans (rendered queries plus provider configurations, and for metrics
// judged against the primary the data queries of both sides), runs the
// queries concurrently with per-metric timeouts (range queries for judged
// metrics), calls exactly the webhooks the pure core asks for, and returns
// the core's decision; Replay drives ticks on a simulated clock.
//
// It depends only on the analysis core (with its statistical judges'
// configuration types) and the leaf packages' interfaces (metrics,
// templates, webhooks). It must not import a metrics backend
// (metrics/prometheus, metrics/recorded), kube, client-go, cobra,
// go-plugin, argo-rollouts or any transport; those are wired in by the
// callers.
package engine

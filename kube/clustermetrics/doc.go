// Package clustermetrics holds the metrics providers of Flagger's
// MetricTemplate types that read the Kubernetes API rather than a vendor's
// HTTP API: "keptn" (KeptnMetric and Analysis objects of metrics.keptn.sh,
// through the dynamic client) and "externalmetrics" (the external metrics API,
// external.metrics.k8s.io, through a client-go REST client). Both need a
// cluster: Register adds them for runs connected to one (--kubeconfig,
// --canary, serve --cluster); RegisterOffline adds refusals that name the
// provider for runs without one.
//
// The semantics are Flagger v1.44.0's (pkg/metrics/providers/keptn.go and
// externalmetrics.go): the query formats, the objects read and created, the
// values returned and the errors' meaning. Where Flagger would answer with a
// number that is not a measurement (a KeptnMetric value of NaN, a query for a
// time far from now), these providers return an error instead.
//
// It imports client-go, apimachinery and package metrics; it must not import
// the engine, the analysis core, a transport or cobra.
package clustermetrics

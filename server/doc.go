// Package server owns augur's HTTP transport, `augur serve`: the JSON API
// (POST /v1/decide, POST /v1/query), Flagger's webhook endpoints (POST
// /flagger/v1/check for rollout-type checks, POST /flagger/v1/gate with
// /flagger/v1/gate/open and /close for a manual confirm-* gate), /healthz,
// /readyz (a vector(1) probe of the metrics providers, as Flagger's
// IsOnline) and /metrics (its own client_golang registry with Flagger's
// flagger_canary_* names where the meaning is the same), /version and the
// augur_build_info metric (from internal/version).
//
// Gates live in a GateKV: MemoryGates (this process; lost on restart) by
// default, or a store shared by replicas that the command plugs in (kube's
// ConfigMap store); /readyz names the store in use.
//
// It decodes request bodies strictly (canaries and MetricTemplates through
// the manifest decoder, so a Flagger Canary is read exactly as from a file),
// enforces body limits, per-request timeouts and optional bearer-token auth,
// serves TLS from certificate files, logs with a *slog.Logger it is given
// and shuts down gracefully. Every decision comes from service.Service, the
// one entry point all transports share.
//
// It imports analysis, engine (types and ErrNotFound), manifest, metrics
// (the Provider interface), service, internal/version, client_golang's prometheus packages
// (only here) and sigs.k8s.io/yaml. It must not import cobra, client-go,
// go-plugin, another transport (plugins) or a metrics backend
// (metrics/prometheus, metrics/recorded): the command wires those in.
package server

// Package metrics owns the metrics-provider seam: the one-method Provider
// interface, the sentinel errors every backend returns, the provider
// configuration and a Registry from type name to constructor.
//
// Backends live in sub-packages (prometheus, recorded) and the in-memory fake
// in metricstest. This package imports only the standard library; it must not
// import any backend SDK, the analysis core or the engine.
package metrics

// Package metricstest provides an in-memory metrics.Provider for tests, in
// the spirit of net/http/httptest: canned values and errors keyed by the exact
// query string (and optionally by evaluation time), an optional simulated
// latency, a record of every call and a high-water mark of concurrent calls,
// so engine tests can prove which queries ran and that they ran in parallel.
// TLSFaultServer starts a loopback HTTPS backend whose certificate fails
// verification (self-signed, expired) for the transports' fault suites.
//
// It imports only the standard library and metrics. It must not import a
// backend (metrics/prometheus, metrics/recorded), analysis, engine, templates
// or any transport package.
package metricstest

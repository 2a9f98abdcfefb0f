// Package prometheus owns augur's client for the Prometheus HTTP API: the
// live metrics.Provider (instant queries) and metrics.RangeQuerier (range
// queries) for the provider type "prometheus".
//
// It sends the same wire request as Flagger's Prometheus provider — GET
// <address>/api/v1/query?query=… with the query's whitespace collapsed —
// and reduces the result to one number: an empty result or NaN is
// metrics.ErrNoValues, a matrix or a vector with several series is
// metrics.ErrMultipleValues (Flagger silently keeps the last series; augur
// refuses), and a scalar is accepted (Flagger fails on scalars).
//
// This is the only augur package that imports
// github.com/prometheus/client_golang/api. It must not import analysis,
// engine, templates or any transport package.
package prometheus

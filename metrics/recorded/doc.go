// Package recorded owns augur's default metrics source: recorded series held
// in memory and evaluated by Prometheus's own PromQL engine at a chosen time.
//
// A Store is loaded from OpenMetrics text with timestamps (the format
// `promtool tsdb create-blocks-from openmetrics` reads) or from promtool's
// unit-test series notation (`0+10x30 _ stale`), and can be written back as
// OpenMetrics text. A Provider answers metrics.Provider and
// metrics.RangeQuerier with the same result rules as the live Prometheus
// provider, and a Cache turns a data file path into a Provider through
// metrics.Registry.
//
// OpenMetrics text is read as a stream: a series' text is parsed once per
// family by Prometheus's textparse, and its repeated sample lines by the
// package's own reader of the value and timestamp (omfast.go), whose result
// is tested and fuzzed against textparse's.
//
// Samples are held compressed in Prometheus's XOR chunks (about 1–2 bytes per
// sample for scraped counters), each series' labels once.
//
// The package imports Prometheus's promql, promql/parser, storage,
// model/labels, model/value, model/textparse and tsdb/chunkenc packages
// (chunkenc's own imports are only model/labels, model/histogram and
// model/value), but never github.com/prometheus/prometheus/tsdb itself
// (which drags in the cloud service discovery SDKs). Apart from the standard library and Prometheus it imports
// only the metrics package: it must not import analysis, engine, templates
// or any transport.
package recorded

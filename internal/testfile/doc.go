// Package testfile owns augur's metric-template unit tests and the recording
// of live data for them: the test-file format `augur test` runs (YAML in the
// spirit of `promtool test rules`: input series in promtool's expanding
// notation or a recorded OpenMetrics file, the Canary and MetricTemplates
// under test, and per-case assertions on rendered queries, metric values,
// threshold checks and whole replays; Argo AnalysisTemplates with per-case
// args and assertions on each measurement, measured by an ArgoMeasurer the
// caller hands in), the runner that evaluates them with
// the engine over the embedded PromQL provider, the reports (go-test-like
// text, JSON and JUnit XML), and `augur record`'s capture of the raw samples
// every rendered query reads from a live Prometheus.
//
// Parse is pure (bytes in, a File or *Errors naming the file, line, column,
// field path and case out); ParseFile also reads the manifests and recorded
// data a test file names, relative to the test file. Run never panics on
// user input and never counts a broken test as passed.
//
// Besides metrics/recorded, this is the only package that may import
// Prometheus's promql/parser (internal/archtest enforces it). It imports the
// engine, the analysis core, manifest, templates (Flagger's whitespace
// collapse), metrics, metrics/recorded and service (the bounds of recorded
// data every command shares); it must not import cobra,
// internal/cli, metrics/prometheus (the live source comes in through the
// Source interface), kube, server, plugins or any transport.
package testfile

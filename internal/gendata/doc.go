// Command gendata writes the recorded podinfo datasets in testdata/podinfo:
// Istio telemetry (istio_requests_total and the
// istio_request_duration_milliseconds histogram) for the podinfo canary of
// the Flagger walkthrough, as OpenMetrics text with timestamps.
//
//	go run ./internal/gendata -out testdata/podinfo [-seed N]
//
// -duration, -pods and -only write larger, uncommitted datasets for the
// scale benchmarks (docs/benchmarks.md), e.g. a day of two workloads with
// five pods each: -duration 24h -pods 5 -only healthy.om.
//
// The output depends only on the seed: every run writes byte-identical files,
// and a test checks that the committed files equal a fresh generation, so
// nobody edits them by hand. testdata/podinfo/README.md describes the
// datasets.
//
// The program imports only the standard library: it must not import augur
// packages or Prometheus (its tests read the files back through
// metrics/recorded).
package main

// Package providers is augur's differential test of its vendor metrics
// providers (datadog, newrelic, dynatrace, graphite, influxdb, cloudwatch, splunk, stackdriver) against
// Flagger v1.44.0's own provider code: both are pointed at the same loopback
// server and must send the same request and read each answer shape the
// same way, except where augur deliberately differs (each such case names
// its row in docs/compatibility.md and asserts both sides).
//
// It is a separate Go module so that augur's module and binary never gain
// Flagger or its dependencies (internal/archtest checks augur's go.mod).
// Run it with `make compat-providers` (or scripts/ci-providers.sh).
package providers

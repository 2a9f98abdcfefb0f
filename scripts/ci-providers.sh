#!/usr/bin/env bash
# Differential tests of augur's vendor metrics providers (datadog, newrelic,
# dynatrace, graphite, influxdb, cloudwatch, splunk, stackdriver; keptn and externalmetrics over a loopback
# Kubernetes API stand-in) against Flagger v1.44.0's own provider code
# (compat/providers, a Go module of its own that requires
# github.com/fluxcd/flagger and augur via a replace to the repository root).
# Both sides are pointed at the same loopback servers.
#
# Cold: downloads Flagger's module graph into the Go module cache and compiles
# Flagger's pkg/metrics/providers and its dependencies (AWS, GCP monitoring,
# InfluxDB and SignalFx clients) into the shared Go build cache under
# $HOME/.cache: several minutes on 2 cores; warm runs take ~30 s (the timeout
# cases wait out the 5 s provider timeout of both sides).
set -euo pipefail
cd "$(dirname "$0")/../compat/providers"
export GOFLAGS="${GOFLAGS:-} -buildvcs=false"
start=$(date +%s)
say() { echo "ci-providers: $* ($(( $(date +%s) - start ))s)"; }

say "go mod download (Flagger v1.44.0's module graph; cache $(go env GOMODCACHE))"
go mod download
say "go.mod/go.sum are tidy"
go mod tidy -diff >/dev/null || { echo "compat/providers: go.mod/go.sum not tidy (run go mod tidy there)" >&2; go mod tidy -diff >&2 || true; exit 1; }
say "go vet + building the test binary (cold: several minutes)"
go vet ./...
say "running the differential tests"
go test -race -count=1 ./...
say "done"

#!/usr/bin/env bash
# Validates `augur lint -o sarif` against the SARIF 2.1.0 JSON schema. The
# validator lives in its own Go module (internal/sarifcheck) so it is not a
# dependency of augur. Cold: downloads one module (~1 MB), ~20 s on 2 cores.
set -euo pipefail
cd "$(dirname "$0")/../internal/sarifcheck"
echo "ci-lint-sarif: go vet + go test in internal/sarifcheck"
go vet ./...
go test -race -count=1 ./...

// Package sarifcheck validates augur lint's SARIF output against the SARIF
// 2.1.0 JSON schema (testdata/). It is its own Go module so that the schema
// validator (github.com/santhosh-tekuri/jsonschema) stays out of augur's
// dependencies; scripts/ci-lint-sarif.sh runs it.
package sarifcheck

// Package flagger is augur's differential test suite against Flagger
// v1.44.0's own code: its tests run Flagger's packages (observers, the
// Prometheus provider, the webhook client) beside augur on the same inputs
// and require the same queries, requests and verdicts.
//
// It is a separate Go module so that augur's module and binary never gain
// Flagger or its dependencies (internal/archtest checks augur's go.mod).
// One test file per area: render_test.go (builtin and template queries),
// wire_test.go (the Prometheus request), webhook_test.go (webhook verdicts);
// gen_test.go holds the seeded generator and the shared helpers. The
// scheduler suite (sched_flagger_test.go: Flagger's controller over fake
// clientsets, its advanceCanary and syncHandler via //go:linkname;
// sched_harness_test.go: the loopback Prometheus and webhook server and the
// tick-by-tick comparison; sched_test.go: the scenarios of testdata/sched;
// sched_gen_test.go: generated scenarios, shrunk when they diverge) runs
// Flagger's real tick beside augur's engine. Run it with
// `make compat` (or scripts/ci-compat.sh); set AUGUR_COMPAT_SEED to replay a
// generated run.
package flagger

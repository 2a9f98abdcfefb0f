// Package integration owns augur's tests against real components: a real
// Prometheus server (Debian's prometheus package, version 2.42 on the
// project's machines) holding the recorded podinfo datasets, and the built
// augur binary. For every dataset in testdata/podinfo it requires that
// `augur query` and `augur replay` give identical decisions, tick timelines
// and values whether they read the server (--prometheus) or the same file
// through the embedded PromQL engine (--data), and it drives the live
// provider (metrics/prometheus) and the engine through an authenticating
// reverse proxy, path prefixes, timeouts and server errors.
//
// The non-test code is the harness: StartServer runs
// scripts/prometheus-testenv.sh to load data into a fresh server on a free
// loopback port (and Stop ends it by its PID), and AuthProxy is a reverse
// proxy on 127.0.0.1 that requires a bearer token or basic auth under a path
// prefix and records every request it sees.
//
// # Running
//
// The tests are named TestIntegration… and skip unless AUGUR_INTEGRATION=1,
// so a plain `go test ./...` needs no server. scripts/integration.sh (run by
// `make test` and CI) installs the package when it is missing, sets
// AUGUR_INTEGRATION=1 and AUGUR_BIN, and fails when any of them skipped. With
// AUGUR_INTEGRATION=1 a server that cannot be started is a test failure. When
// AUGUR_BIN is unset the tests build the binary into a temporary directory.
//
// TestVictoriaMetrics runs the same commands against a real VictoriaMetrics
// (scripts/victoria-testenv.sh, same env file, so StartServer starts it too)
// and requires identical decisions, not identical values: MetricsQL's rate()
// is not PromQL's (docs/backends.md). It skips unless AUGUR_VICTORIA=1;
// scripts/ci-victoria.sh sets it and fails when it skipped.
//
// # Where Prometheus 2.42 and 3.x differ
//
// Range selectors: x[d] evaluated at t covers [t-d, t] on Prometheus 2.x
// (closed) and (t-d, t] on 3.x (left-open). The embedded engine is 3.x and
// the Debian server is 2.42, so a sample exactly at t-d is counted by the
// server and not by the embedded engine, and rate() differs (7.95 against
// 7.911… for the healthy canary's 200s at 10:29:52.5). The podinfo datasets
// put every sample 7.5 s past the 15 s grid and the tests evaluate on whole
// minutes (replays start at 09:59, one interval before the analysis
// window), so no sample sits on the edge of a [30s] or [1m] window or of the
// 5m lookback; the tests check that property of the data before comparing.
// The CLI's default replay start over recorded data (the first sample plus
// the longest metric interval) and its default query time (the newest
// sample) do put samples on the edges, which is why the tests always pass
// --start and --at.
//
// sum(): 2.42 adds the series left to right in plain float64; Prometheus
// 2.54 and later add them with Kahan–Neumaier compensation. With three or
// more addends the results can differ in the last bits (4.866666666666666
// against 4.866666666666667), on any data: a rate over [1m] of 15 s samples
// is delta·(60/45)/60, which no choice of counts makes exact. The replay and
// query comparisons at the analysis times are identical bit for bit on every
// dataset; the range-query comparison at 15 s steps finds a handful of points
// (13 of about 316,000 when this was written) where they are not, and
// accepts each only after checking that the summed series are identical, the
// server's sum equals the left-to-right sum and the embedded sum equals the
// compensated sum, exactly. TestIntegrationVersionDifferences shows both differences on the
// real server.
//
// # Imports
//
// The non-test code imports only the standard library; it must not import
// augur packages (the tests do) and no package may import it.
package integration

// Package judges owns augur's statistical judges: it compares a canary with
// the primary (baseline) running at the same time and returns a verdict —
// pass, fail or inconclusive — together with an Explanation that carries
// every number the verdict was drawn from.
//
// The package holds the Mann–Whitney (Wilcoxon rank-sum) test with the
// Hodges–Lehmann shift estimate and its confidence interval, a
// Kayenta NetflixACAJudge-compatible metric classifier, a test of two
// proportions on request and error counts, a rank test on histogram bucket
// counts, an always-valid sequential test (a normal-mixture mSPRT) that may
// be evaluated at every tick, Kayenta's weighted group scorer with its known
// gaps fixed, and the judge configuration with its flat-map (webhook
// metadata) form.
//
// Everything here is a pure function of its arguments: numbers in, verdict
// and explanation out. The package imports only the standard library and
// must not import context, net/*, os, log, any I/O package, any augur package
// (augur's core, analysis, imports this one and runs the judges on the data
// the engine gathers) or any third-party module. It never reads the clock,
// never logs and holds no mutable package-level state.
package judges

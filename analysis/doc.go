// Package analysis is augur's pure decision core: Flagger's Canary and
// MetricTemplate types, the canary status, threshold checks
// (CheckObservation, NextStepWeight) and the tick state machine (Step) that
// says advance, hold, promote or roll back exactly as Flagger v1.44.0's
// advanceCanary would, with Flagger's event texts.
//
// Step is resumable: it returns a Need (one webhook type, or every metric)
// whenever Flagger would consult the outside world at that point of the
// tick, and the caller answers it in Input and calls Step again; Run drives
// that loop with a pure answer function. The caller owns all I/O.
//
// Judged metrics (Observation.Judged) are compared with the primary by the
// statistical judges of analysis/judges: the core runs the judge on the data
// the shell gathered and turns its verdict into a passing, failing or
// inconclusive check, and reports the judged metrics' score.
//
// Every function here is a pure function of its arguments. The package
// imports only the standard library and analysis/judges (pure as well), and
// must not import context, net/*, log, os, any I/O package, any other augur
// package or any third-party module; it never reads the clock (the tick's
// time comes in Input.Now). deps_test.go enforces this.
package analysis

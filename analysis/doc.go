// Package analysis is augur's pure decision core: Flagger's Canary and
// MetricTemplate types, the canary status, threshold checks and the tick
// state machine (Step) that says advance, hold, promote or roll back.
//
// Every function here is a pure function of its arguments. The package
// imports only the standard library and must not import context, net/*, log,
// os, any I/O package, any augur package or any third-party module; it never
// reads the clock (the tick's time comes in Input.Now).
package analysis

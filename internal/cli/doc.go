// Package cli holds augur's cobra commands. Each command has an Options
// struct, a NewCmdX constructor that only fills the options from flags, and
// a run function that does the work against injected IOStreams, so tests
// drive commands with in-memory buffers.
//
// This is the only package that imports cobra. It wires the backends
// (metrics/prometheus, metrics/recorded, webhooks, kube) into the engine; it
// must not hold decision rules (those live in analysis) or query logic
// (engine).
package cli

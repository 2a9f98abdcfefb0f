// Command calibrate is the judges' calibration suite: a deterministic
// simulator of Istio-style counters and latency histograms for a canary and
// its primary under several traffic models, and the harness that runs A/A
// rollouts and regressions through the exact counting
// (judges.CounterSteps) and the judges, with Kayenta's rank test as the
// baseline column.
//
//	go run ./internal/calibrate -rollouts 1000     # the full table (make calibrate)
//	go test ./internal/calibrate                   # the reduced run CI checks
//
// Every rollout's random stream is derived from the printed seed, the
// model, the scenario and the rollout number only: the same command prints
// the same table. The package imports only the standard library and
// analysis/judges.
package main

//go:build race

package main

// raceEnabled: under the race detector the calibration runs as a smoke test.
const raceEnabled = true

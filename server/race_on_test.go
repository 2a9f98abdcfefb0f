//go:build race

package server

// slowdown scales time bounds of abuse tests under the race detector.
const slowdown = 10

package argo

import (
	"sort"
	"strings"
)

// minSecretLen is the shortest value scrubbed from output: shorter values
// (a one-digit tenant header, say) would garble every message and protect
// nothing.
const minSecretLen = 4

// redacted replaces a secret in output.
const redacted = "[redacted]"

// secrets are strings that must never appear in a measurement.
type secrets struct{ values []string }

func (s *secrets) add(vs ...string) {
	for _, v := range vs {
		if len(v) >= minSecretLen {
			s.values = append(s.values, v)
		}
	}
	// Longest first, so that a secret containing another is replaced whole.
	sort.Slice(s.values, func(i, j int) bool { return len(s.values[i]) > len(s.values[j]) })
}

// scrub replaces every secret in text.
func (s secrets) scrub(text string) string {
	for _, v := range s.values {
		text = strings.ReplaceAll(text, v, redacted)
	}
	return text
}

// scrubMap scrubs the values of m in place and returns it.
func (s secrets) scrubMap(m map[string]string) map[string]string {
	for k, v := range m {
		m[k] = s.scrub(v)
	}
	return m
}

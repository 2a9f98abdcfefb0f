package argo

import "github.com/augurproj/augur/redact"

// secrets are strings that must never appear in a measurement: a thin
// wrapper over augur's one redaction mechanism (package redact).
type secrets struct{ set *redact.Set }

func (s *secrets) add(vs ...string) {
	if s.set == nil {
		s.set = redact.New(nil)
	}
	s.set.Add(vs...)
}

// addURL records an address's password, whether or not the address parses.
func (s *secrets) addURL(address string) {
	if s.set == nil {
		s.set = redact.New(nil)
	}
	s.set.AddURL(address)
}

// scrub replaces every secret in text.
func (s secrets) scrub(text string) string { return s.set.String(text) }

// scrubMap scrubs the values of m in place and returns it.
func (s secrets) scrubMap(m map[string]string) map[string]string {
	for k, v := range m {
		m[k] = s.scrub(v)
	}
	return m
}

// values lists the recorded secrets (tests).
func (s secrets) values() []string { return s.set.Values() }

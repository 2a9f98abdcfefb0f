package server

import "github.com/augurproj/augur/analysis"

// zeroSeries creates every series of the counters whose label values are
// known in advance, at zero, so that /metrics shows them from the start:
// rate() and absent() alerts work before the first decision, query error
// or webhook call, and a missing series never reads as "nothing happened".
func (m *Metrics) zeroSeries() {
	for _, a := range []analysis.Action{analysis.ActionAdvance, analysis.ActionHold, analysis.ActionPromote, analysis.ActionRollback} {
		m.decisions.WithLabelValues(string(a))
	}
	for _, k := range []string{QueryErrNoValues, QueryErrMultipleValues, QueryErrTimeout, QueryErrCanceled, QueryErrProvider, QueryErrQuery} {
		m.queryErrors.WithLabelValues(k)
	}
	for _, e := range []string{endpointCheck, endpointGate, endpointRollback} {
		for _, r := range []string{resultPass, resultFail, resultMalformed} {
			m.checks.WithLabelValues(e, r)
		}
	}
}

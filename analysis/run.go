package analysis

import "maps"

// Answer is what a caller supplies for one Need: the results of the hooks
// of the asked type (in spec order, stopping at the deciding one), or the
// observations of every metric.
type Answer struct {
	// Hooks answers Need.Hooks.
	Hooks []HookResult
	// Metrics answers Need.Metrics.
	Metrics []Observation
	// Providers answers Need.Providers; nil means every provider answered.
	Providers *ProvidersCheck
}

// maxRunSteps bounds Run: a tick asks for at most one type of each of the
// six hook kinds Step consults plus the metrics.
const maxRunSteps = 16

// Run drives Step to a Decision, asking answer for each Need. answer must be
// a pure function of the Need (canned data, a "webhooks pass/fail" mode, a
// test table); Run itself does no I/O. The caller's Input is not modified.
func Run(in Input, answer func(Need) Answer) Decision {
	in.Hooks = maps.Clone(in.Hooks)
	for range maxRunSteps {
		r := Step(in)
		if r.Decision != nil {
			return *r.Decision
		}
		n := *r.Need
		a := answer(n)
		switch {
		case n.Metrics:
			in.Metrics = a.Metrics
			in.MetricsGathered = true
		case n.Providers:
			in.Providers = a.Providers
			if in.Providers == nil {
				in.Providers = &ProvidersCheck{}
			}
		default:
			if in.Hooks == nil {
				in.Hooks = map[HookType][]HookResult{}
			}
			hs := a.Hooks
			if hs == nil {
				hs = []HookResult{}
			}
			in.Hooks[n.Hooks] = hs
		}
	}
	routes := in.Status.Routes()
	return Decision{
		Action:  ActionHold,
		Status:  in.Status,
		Events:  []Event{},
		Checks:  []Check{},
		Reasons: []string{"The analysis core asked for more than the input can answer; nothing changes."},
		Weights: routes,
	}
}

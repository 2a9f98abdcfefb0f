package analysis

import (
	"strings"
	"time"
)

// Phase is a Flagger CanaryPhase.
type Phase string

// Flagger's canary phases.
const (
	PhaseInitializing     Phase = "Initializing"
	PhaseInitialized      Phase = "Initialized"
	PhaseWaiting          Phase = "Waiting"
	PhaseProgressing      Phase = "Progressing"
	PhaseWaitingPromotion Phase = "WaitingPromotion"
	PhasePromoting        Phase = "Promoting"
	PhaseFinalising       Phase = "Finalising"
	PhaseSucceeded        Phase = "Succeeded"
	PhaseFailed           Phase = "Failed"
	PhaseTerminating      Phase = "Terminating"
	PhaseTerminated       Phase = "Terminated"
)

// String returns the phase name.
func (p Phase) String() string { return string(p) }

// CanaryStatus is the analysis-relevant part of Flagger's CanaryStatus. It is
// everything the caller must remember between ticks.
type CanaryStatus struct {
	Phase        Phase `json:"phase,omitempty"`
	FailedChecks int   `json:"failedChecks"`
	CanaryWeight int   `json:"canaryWeight"`
	Iterations   int   `json:"iterations"`
	// Mirrored reports whether traffic is currently mirrored (Flagger reads it
	// from the router; augur keeps it in the status it hands back).
	Mirrored bool `json:"mirrored,omitempty"`
	// LastTransitionTime is when the phase last changed (RFC 3339).
	LastTransitionTime string `json:"lastTransitionTime,omitempty"`
	// RouterWeight is the canary's traffic share at the router when it
	// differs from CanaryWeight; nil means CanaryWeight. Flagger reads the
	// split from the mesh router each tick and its status does not always
	// match it: entering WaitingPromotion zeroes canaryWeight (Promoting
	// keeps it; Finalising zeroes it) while the router keeps the canary at
	// maxWeight, and blue/green and A/B
	// route 100% to the canary without setting canaryWeight. Augur keeps the
	// router's share here so the next tick sees what Flagger would (augur-only
	// field, like Mirrored).
	RouterWeight *int `json:"routerWeight,omitempty"`
	// AnalysisStart is when the running analysis started (RFC 3339): set
	// to the tick's time when a new revision starts (or restarts) the
	// analysis, or on the first analysis tick of a status without it, and
	// cleared when the canary leaves Progressing and WaitingPromotion. The
	// sequential judge reads its cumulative data from here (augur-only
	// field, optional: older statuses without it stay valid).
	AnalysisStart string `json:"analysisStart,omitempty"`
}

// Routes returns the traffic split the router holds for this status: the
// canary gets RouterWeight (or CanaryWeight), clamped to [0, 100], and the
// primary the rest.
func (s CanaryStatus) Routes() Weights {
	w := s.CanaryWeight
	if s.RouterWeight != nil {
		w = *s.RouterWeight
	}
	w = min(max(w, 0), 100)
	return Weights{Primary: 100 - w, Canary: w, Mirrored: s.Mirrored}
}

// Strategy is Flagger's deployment strategy.
type Strategy string

// Deployment strategies, as Flagger names them in its metrics labels.
const (
	StrategyCanary    Strategy = "canary"
	StrategyBlueGreen Strategy = "blue-green"
	StrategyABTesting Strategy = "ab-testing"
)

// GetAnalysis returns spec.analysis, else the deprecated spec.canaryAnalysis.
func (c *Canary) GetAnalysis() *Analysis {
	if c.Spec.Analysis != nil {
		return c.Spec.Analysis
	}
	return c.Spec.CanaryAnalysis
}

// SkipAnalysis is Flagger's rule: true when there is no analysis block at all,
// else spec.skipAnalysis.
func (c *Canary) SkipAnalysis() bool {
	if c.Spec.Analysis == nil && c.Spec.CanaryAnalysis == nil {
		return true
	}
	return c.Spec.SkipAnalysis
}

// ProgressDeadline returns spec.progressDeadlineSeconds or its default.
func (c *Canary) ProgressDeadline() time.Duration {
	if c.Spec.ProgressDeadlineSeconds != nil {
		return time.Duration(*c.Spec.ProgressDeadlineSeconds) * time.Second
	}
	return DefaultProgressDeadlineSeconds * time.Second
}

// ServiceName is {{ service }}: service.name, else targetRef.name.
func (c *Canary) ServiceName() string {
	if c.Spec.Service.Name != "" {
		return c.Spec.Service.Name
	}
	return c.Spec.TargetRef.Name
}

// IngressName is {{ ingress }}: ingressRef.name, else targetRef.name.
func (c *Canary) IngressName() string {
	if c.Spec.IngressRef != nil && c.Spec.IngressRef.Name != "" {
		return c.Spec.IngressRef.Name
	}
	return c.Spec.TargetRef.Name
}

// RouteName is {{ route }}: routeRef.name, else targetRef.name.
func (c *Canary) RouteName() string {
	if c.Spec.RouteRef != nil && c.Spec.RouteRef.Name != "" {
		return c.Spec.RouteRef.Name
	}
	return c.Spec.TargetRef.Name
}

// IntervalDuration is Flagger's GetAnalysisInterval: empty or unparsable → 60s,
// below 10s → 10s.
func (a *Analysis) IntervalDuration() time.Duration {
	if a == nil || a.Interval == "" {
		return DefaultAnalysisInterval
	}
	d, err := time.ParseDuration(a.Interval)
	if err != nil {
		return DefaultAnalysisInterval
	}
	if d < MinAnalysisInterval {
		return MinAnalysisInterval
	}
	return d
}

// GetThreshold is Flagger's GetAnalysisThreshold: threshold if positive, else 1.
func (a *Analysis) GetThreshold() int {
	if a != nil && a.Threshold > 0 {
		return a.Threshold
	}
	return DefaultThreshold
}

// GetMaxWeight is Flagger's maxWeight(): with stepWeights, min(100, last step);
// else maxWeight if positive; else 100.
func (a *Analysis) GetMaxWeight() int {
	if a == nil {
		return 100
	}
	if n := len(a.StepWeights); n > 0 {
		return min(100, a.StepWeights[n-1])
	}
	if a.MaxWeight > 0 {
		return a.MaxWeight
	}
	return 100
}

// Strategy is Flagger's DeploymentStrategy().
func (a *Analysis) Strategy() Strategy {
	switch {
	case a == nil:
		return StrategyCanary
	case len(a.Match) > 0 && a.Iterations > 0:
		return StrategyABTesting
	case a.Iterations > 0:
		return StrategyBlueGreen
	default:
		return StrategyCanary
	}
}

// GetPrimaryReadyThreshold returns primaryReadyThreshold or 100.
func (a *Analysis) GetPrimaryReadyThreshold() int {
	if a != nil && a.PrimaryReadyThreshold != nil {
		return *a.PrimaryReadyThreshold
	}
	return DefaultReadyThreshold
}

// GetCanaryReadyThreshold returns canaryReadyThreshold or 100.
func (a *Analysis) GetCanaryReadyThreshold() int {
	if a != nil && a.CanaryReadyThreshold != nil {
		return *a.CanaryReadyThreshold
	}
	return DefaultReadyThreshold
}

// IsBuiltin reports whether name is one of Flagger's magic builtin metric names.
func IsBuiltin(name string) bool {
	return name == MetricRequestSuccessRate || name == MetricRequestDuration
}

// NormalizeHookType maps the empty type to rollout.
func NormalizeHookType(t HookType) HookType {
	if strings.TrimSpace(string(t)) == "" {
		return HookRollout
	}
	return t
}

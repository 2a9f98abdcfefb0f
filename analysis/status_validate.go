package analysis

import (
	"errors"
	"fmt"
	"slices"
	"time"
)

// Phases lists Flagger's canary phases.
var Phases = []Phase{
	PhaseInitializing, PhaseInitialized, PhaseWaiting, PhaseProgressing,
	PhaseWaitingPromotion, PhasePromoting, PhaseFinalising, PhaseSucceeded,
	PhaseFailed, PhaseTerminating, PhaseTerminated,
}

// ValidateStatus checks a status handed in by a caller as strictly as the
// Canary is checked: a known phase (or none), weights within 0..100, failed
// checks not negative, times in RFC 3339. A status out of range would otherwise be
// acted on (canaryWeight 1000 promotes at once, negative failedChecks
// buys extra failures). Every problem is reported, each naming its field.
func ValidateStatus(s CanaryStatus) error {
	var errs []error
	if s.Phase != "" && !slices.Contains(Phases, s.Phase) {
		errs = append(errs, fmt.Errorf("status.phase: unknown phase %q (one of %v)", s.Phase, Phases))
	}
	if s.CanaryWeight < 0 || s.CanaryWeight > 100 {
		errs = append(errs, fmt.Errorf("status.canaryWeight: %d is not within 0..100", s.CanaryWeight))
	}
	if s.RouterWeight != nil && (*s.RouterWeight < 0 || *s.RouterWeight > 100) {
		errs = append(errs, fmt.Errorf("status.routerWeight: %d is not within 0..100", *s.RouterWeight))
	}
	if s.FailedChecks < 0 {
		errs = append(errs, fmt.Errorf("status.failedChecks: %d is negative", s.FailedChecks))
	}
	// iterations may be negative: Flagger itself stores iterations-1 on
	// entering WaitingPromotion, -1 from 0; a negative count only delays.
	for _, f := range []struct{ name, v string }{{"lastTransitionTime", s.LastTransitionTime}, {"analysisStart", s.AnalysisStart}} {
		if f.v == "" {
			continue
		}
		if _, err := time.Parse(time.RFC3339Nano, f.v); err != nil {
			errs = append(errs, fmt.Errorf("status.%s: %q is not an RFC 3339 time", f.name, f.v))
		}
	}
	return errors.Join(errs...)
}

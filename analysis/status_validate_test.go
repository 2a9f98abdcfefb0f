package analysis

import (
	"strings"
	"testing"
)

func TestValidateStatus(t *testing.T) {
	w := func(v int) *int { return &v }
	tests := []struct {
		name string
		s    CanaryStatus
		want string // "" = valid
	}{
		{"zero", CanaryStatus{}, ""},
		{"progressing", CanaryStatus{Phase: PhaseProgressing, CanaryWeight: 100, FailedChecks: 3, Iterations: 2, RouterWeight: w(0),
			LastTransitionTime: "2026-01-02T03:04:05Z", AnalysisStart: "2026-01-02T03:04:05.5+01:00"}, ""},
		{"weight-1000", CanaryStatus{Phase: PhaseProgressing, CanaryWeight: 1000}, "status.canaryWeight: 1000 is not within 0..100"},
		{"weight-negative", CanaryStatus{CanaryWeight: -1}, "status.canaryWeight: -1"},
		{"router-weight", CanaryStatus{RouterWeight: w(101)}, "status.routerWeight: 101"},
		{"failed-negative", CanaryStatus{FailedChecks: -5}, "status.failedChecks: -5 is negative"},
		{"iterations-negative", CanaryStatus{Phase: PhaseWaitingPromotion, Iterations: -1}, ""}, // Flagger stores it
		{"phase", CanaryStatus{Phase: "Promoted"}, `status.phase: unknown phase "Promoted"`},
		{"time", CanaryStatus{AnalysisStart: "yesterday"}, `status.analysisStart: "yesterday" is not an RFC 3339 time`},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			err := ValidateStatus(tc.s)
			switch {
			case tc.want == "" && err != nil:
				t.Errorf("valid status refused: %v", err)
			case tc.want != "" && (err == nil || !strings.Contains(err.Error(), tc.want)):
				t.Errorf("error %v, want %q", err, tc.want)
			}
		})
	}
}

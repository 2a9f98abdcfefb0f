package cli

import (
	"errors"
	"fmt"
	"github.com/augurproj/augur/kube/clustermetrics"
	"github.com/augurproj/augur/metrics/vendors"
	"strings"
	"time"

	"github.com/augurproj/augur/engine"
)

// formatTime prints a time in UTC with its fractional seconds (RFC 3339 with
// nanoseconds, trailing zeros dropped), so a printed time is accepted back by
// the time flags exactly.
func formatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// inData refuses an evaluation time outside recorded data: before its first
// sample or more than a scrape interval after its last, a query reads
// missing values, and a missing value
// is a failed check — a verdict drawn from a mistake. Live sources (no
// bounds) accept every time.
func (s *dataSource) inData(flag string, t time.Time) error {
	if s.end.IsZero() || t.IsZero() {
		return nil
	}
	if t.Before(s.start) || t.After(s.coveredUntil()) {
		return fmt.Errorf("--%s %s is outside the recorded data %s, whose first sample is at %s and last at %s (scraped every %s)",
			flag, formatTime(t), s.file, formatTime(s.start), formatTime(s.end), s.grace)
	}
	return nil
}

// coveredUntil is the last evaluation time the recorded data covers: its
// last sample plus one scrape interval (zero for a live source).
func (s *dataSource) coveredUntil() time.Time {
	if s.end.IsZero() {
		return time.Time{}
	}
	return s.end.Add(s.grace)
}

// checkPlans turns every metric that cannot be evaluated — a templateRef
// naming a MetricTemplate that was not given, a template that does not
// render, a provider type augur does not support — into one bad-input error,
// before anything is queried or any tick runs. supported lists the provider
// types the command can query.
func checkPlans(plans []engine.MetricPlan, supported []string) error {
	var errs []string
	for _, p := range plans {
		if p.Err != nil {
			errs = append(errs, fmt.Sprintf("metric %s: %s", p.Name, p.Err.Message))
			continue
		}
		if p.Provider.Type != "" && !contains(supported, p.Provider.Type) && contains(vendors.Types, p.Provider.Type) {
			errs = append(errs, fmt.Sprintf("metric %s: provider type %q needs its live API: recorded data (--data) holds Prometheus series only",
				p.Name, p.Provider.Type))
			continue
		}
		if p.Provider.Type != "" && !contains(supported, p.Provider.Type) && contains(clustermetrics.Types, p.Provider.Type) {
			errs = append(errs, fmt.Sprintf("metric %s: provider type %q reads the Kubernetes API: recorded data (--data) holds Prometheus series only",
				p.Name, p.Provider.Type))
			continue
		}
		if p.Provider.Type != "" && !contains(supported, p.Provider.Type) {
			errs = append(errs, fmt.Sprintf("metric %s: provider type %q is not supported (augur queries: %s)",
				p.Name, p.Provider.Type, strings.Join(supported, ", ")))
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return errors.New(strings.Join(errs, "; "))
}

// queryTypes lists the provider types the source can query: with recorded
// data, Prometheus only (the vendor types are registered there only to
// refuse clearly in transports that do not check plans first).
func (s *dataSource) queryTypes() []string {
	if s.file == "" {
		return s.registry.Types()
	}
	var out []string
	for _, t := range s.registry.Types() {
		recordedAnswers := s.answers != nil && contains(s.answers.Types(), t)
		if recordedAnswers || (!contains(vendors.Types, t) && !contains(clustermetrics.Types, t)) {
			out = append(out, t)
		}
	}
	return out
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}

// judgeWindowsInData refuses a judged metric whose fixed window, ending at
// at, starts before the recorded data's first sample: the judge would
// compare the part of the window the data holds as if it were the whole
// window. flag names the time's flag. Live sources and the sequential
// judge (its data runs from the analysis start) are not checked.
func (s *dataSource) judgeWindowsInData(plans []engine.MetricPlan, flag string, at time.Time) error {
	if s.start.IsZero() || at.IsZero() {
		return nil
	}
	var errs []string
	for _, p := range plans {
		w := fixedJudgeWindow(p)
		if w <= 0 {
			continue
		}
		if from := at.Add(-w); from.Before(s.start) {
			errs = append(errs, fmt.Sprintf("metric %s: its judge reads the %s window from %s to %s (--%s), which starts before the recorded data %s, whose first sample is at %s (use --%s %s or later, or a shorter judge window)",
				p.Name, shortDuration(w), formatTime(from), formatTime(at), flag, s.file, formatTime(s.start), flag, formatTime(s.start.Add(w))))
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return errors.New(strings.Join(errs, "; "))
}

// fixedJudgeWindow is a judged metric's fixed window, or 0 (not judged, a
// plan error, the sequential judge).
func fixedJudgeWindow(p engine.MetricPlan) time.Duration {
	if p.Judge == nil || p.Err != nil || p.Judge.Cumulative || p.Judge.Window == "" {
		return 0
	}
	w, err := time.ParseDuration(p.Judge.Window)
	if err != nil || w <= 0 {
		return 0
	}
	return w
}

package cli

import (
	"errors"
	"fmt"
	"github.com/augurproj/augur/kube/clustermetrics"
	"github.com/augurproj/augur/metrics/vendors"
	"strings"
	"time"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/engine"
	"github.com/augurproj/augur/service"
)

// formatTime prints a time in UTC with its fractional seconds (RFC 3339 with
// nanoseconds, trailing zeros dropped), so a printed time is accepted back by
// the time flags exactly.
func formatTime(t time.Time) string { return service.FormatTime(t) }

// bounds is the recorded data's time range (nil for a live source): the
// one check every command and transport applies to evaluation times and
// judge windows (service.DataBounds).
func (s *dataSource) bounds() *service.DataBounds {
	if s.end.IsZero() {
		return nil
	}
	return &service.DataBounds{Name: s.file, First: s.start, Last: s.end, Interval: s.grace}
}

// inData refuses an evaluation time outside recorded data: before its first
// sample or after its last (service.DataBounds.CoveredUntil), a query reads
// missing values, and a missing value is a failed check — a verdict drawn
// from a mistake. Live sources (no bounds) accept every time.
func (s *dataSource) inData(flag string, t time.Time) error {
	return s.bounds().CheckAt("--"+flag, t)
}

// coveredUntil is the last evaluation time the recorded data covers: its
// last sample (zero for a live source).
func (s *dataSource) coveredUntil() time.Time { return s.bounds().CoveredUntil() }

// missingTemplates refuses every templateRef of c naming a MetricTemplate
// no -f file gives (service.MissingTemplates, the words every transport
// uses).
func missingTemplates(c *analysis.Canary, plans []engine.MetricPlan) error {
	return service.MissingTemplates(c, plans, "give the file that defines it with -f")
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
	return s.bounds().CheckJudgeWindows(plans, "--"+flag, at)
}

// fixedJudgeWindow is a judged metric's fixed window, or 0 (not judged, a
// plan error, the sequential judge).
func fixedJudgeWindow(p engine.MetricPlan) time.Duration { return service.FixedJudgeWindow(p) }

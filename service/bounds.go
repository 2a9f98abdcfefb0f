package service

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/engine"
)

// DataBounds is the time range recorded data covers. Every way of reaching
// a decision on recorded data — the CLI commands, /v1/decide and /v1/query
// of `augur serve --data`, the go-plugin and the Argo plugin — refuses an
// evaluation time, or a window a judge reads, outside it, with the same
// words: a query outside the data reads missing values, and a judge given
// part of its window compares it as if it were the whole, so either would be
// a verdict drawn from a mistake.
type DataBounds struct {
	// Name is the data's file (as given on the command line).
	Name string
	// First and Last are the times of the data's first and last samples.
	First, Last time.Time
	// Interval is the data's scrape interval (named in messages).
	Interval time.Duration
}

// CoveredUntil is the last evaluation time the data covers (zero for nil):
// its last sample. Recorded data is cut at one moment, but its targets are
// scraped on different phases: a time after the last sample can fall after
// some series' next scrape, which the data does not hold, so a short range
// window there reads fewer samples than live would have (a rate over one
// sample is no value, a failed check). Up to the last sample no series can
// miss a scrape the cut would have kept. `augur record` writes the samples
// up to one scrape interval past --end, so a recording covers its last tick.
func (b *DataBounds) CoveredUntil() time.Time {
	if b == nil || b.Last.IsZero() {
		return time.Time{}
	}
	return b.Last
}

// CheckAt refuses an evaluation time t outside the data (before its first
// sample or after its last, CoveredUntil); what names the
// time for the message (a flag such as "--at", or a request's field).
// A nil DataBounds (a live source) or a zero t accept everything.
func (b *DataBounds) CheckAt(what string, t time.Time) error {
	if b == nil || b.Last.IsZero() || t.IsZero() {
		return nil
	}
	if t.Before(b.First) || t.After(b.CoveredUntil()) {
		return fmt.Errorf("%s %s is outside the recorded data %s, whose first sample is at %s and last at %s (scraped every %s)",
			what, FormatTime(t), b.Name, FormatTime(b.First), FormatTime(b.Last), b.Interval)
	}
	return nil
}

// CheckJudgeWindows refuses every judged metric of plans whose fixed
// window, ending at at, starts before the data's first sample; what names
// the time as in CheckAt (an evaluation time after the data is CheckAt's). The sequential judge
// (its data runs from the analysis start) is not checked.
func (b *DataBounds) CheckJudgeWindows(plans []engine.MetricPlan, what string, at time.Time) error {
	return b.checkJudgeWindows(plans, what, at, true)
}

// checkJudgeWindows is CheckJudgeWindows; movable tells whether the caller
// can choose another time (else the advice is a shorter window).
func (b *DataBounds) checkJudgeWindows(plans []engine.MetricPlan, what string, at time.Time, movable bool) error {
	if b == nil || b.First.IsZero() || at.IsZero() {
		return nil
	}
	var errs []string
	for _, p := range plans {
		w := FixedJudgeWindow(p)
		if w <= 0 {
			continue
		}
		if from := at.Add(-w); from.Before(b.First) {
			advice := fmt.Sprintf("use %s %s or later, or a shorter judge window", what, FormatTime(b.First.Add(w)))
			if !movable || b.First.Add(w).After(b.CoveredUntil()) {
				// No time inside the data fits the window.
				advice = fmt.Sprintf("use a judge window of %s or shorter", shortDuration(at.Sub(b.First).Truncate(time.Second)))
			}
			errs = append(errs, fmt.Sprintf("metric %s: its judge reads the %s window from %s to %s (%s), which starts before the recorded data %s, whose first sample is at %s (%s)",
				p.Name, shortDuration(w), FormatTime(from), FormatTime(at), what, b.Name, FormatTime(b.First), advice))
		}
	}
	if len(errs) == 0 {
		return nil
	}
	return errors.New(strings.Join(errs, "; "))
}

// FixedJudgeWindow is a judged metric's fixed window, or 0 (not judged, a
// plan error, the sequential judge).
func FixedJudgeWindow(p engine.MetricPlan) time.Duration {
	if p.Judge == nil || p.Err != nil || p.Judge.Cumulative || p.Judge.Window == "" {
		return 0
	}
	w, err := time.ParseDuration(p.Judge.Window)
	if err != nil || w <= 0 {
		return 0
	}
	return w
}

// FormatTime prints a time in UTC with its fractional seconds (RFC 3339
// with nanoseconds, trailing zeros dropped), as every time input accepts it.
func FormatTime(t time.Time) string { return t.UTC().Format(time.RFC3339Nano) }

// shortDuration prints 10m rather than 10m0s.
func shortDuration(d time.Duration) string {
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = s[:len(s)-2]
	}
	if strings.HasSuffix(s, "h0m") {
		s = s[:len(s)-2]
	}
	return s
}

// checkData refuses a request whose evaluation time, or a judge window
// ending there, lies outside the service's recorded data (ErrBadRequest).
// given tells whether the request chose the time ("at") or took the
// default (the data's end).
func (s *Service) checkData(b *DataBounds, plans []engine.MetricPlan, at time.Time, given bool) error {
	if b == nil {
		b = s.opts.Data
	}
	if b == nil {
		return nil
	}
	what := "evaluation time"
	if given {
		what = "at"
	}
	if err := b.CheckAt(what, at); err != nil {
		return fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	if err := b.checkJudgeWindows(plans, what, at, given); err != nil {
		return fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	return nil
}

// MissingTemplates refuses every templateRef of c whose MetricTemplate was
// not found, naming the Canary, the metric and the template; hint says
// where the template should have come from. Other plan errors (a template
// that does not render, a provider that is not supported) are left to the
// caller.
func MissingTemplates(c *analysis.Canary, plans []engine.MetricPlan, hint string) error {
	var errs []string
	for _, p := range plans {
		if p.Kind != analysis.KindTemplate || p.Err == nil || p.Err.Kind != analysis.ErrKindTemplate {
			continue
		}
		errs = append(errs, fmt.Sprintf("metric %s: %s (%s)", p.Name, p.Err.Message, hint))
	}
	if len(errs) == 0 {
		return nil
	}
	return fmt.Errorf("canary %s/%s: %s", c.Metadata.Namespace, c.Metadata.Name, strings.Join(errs, "; "))
}

// checkPlans refuses a missing MetricTemplate as a bad request when no
// cluster could hold it (Options.TemplatesInCluster).
func (s *Service) checkPlans(c *analysis.Canary, plans []engine.MetricPlan) error {
	if s.opts.TemplatesInCluster {
		return nil
	}
	if err := MissingTemplates(c, plans, "give it in the request's metricTemplates, or to augur serve with -f"); err != nil {
		return fmt.Errorf("%w: %w", ErrBadRequest, err)
	}
	return nil
}

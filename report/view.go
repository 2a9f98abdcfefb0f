package report

import (
	"fmt"
	"html/template"
	"math"
	"regexp"
	"strconv"
	"strings"
	"time"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/analysis/judges"
)

// Outcomes of a tick, shown by shape, word and colour.
const (
	outPass         = "pass"
	outFail         = "fail"
	outHold         = "hold"
	outInconclusive = "inconclusive"
	outRollback     = "rollback"
)

// page is what the template renders.
type page struct {
	Title     string
	Kind      string
	Canary    string
	Source    string
	Range     string
	Verdict   string
	VerdictID string // pass, fail, hold: the badge's class
	Result    string
	Exit      int
	ExitText  string
	ExitCodes []exitCode
	Why       string
	Reasons   []string
	Generated string

	Timeline template.HTML
	Ticks    []tickView
	Metrics  []metricView
	Score    template.HTML
	Checks   []checkRow
	NChecks  int

	Test *testView
	// CheckText labels a check's result with a symbol and a word.
	CheckText map[string]string
}

type exitCode struct {
	Code    int
	Meaning string
	This    bool
}

type tickView struct {
	N            int
	ID           string
	Time         string
	Offset       string
	Phase        string
	Weight       int
	FailedChecks int
	Iterations   int
	Action       string
	Outcome      string
	OutcomeText  string
	Events       []analysis.Event
	Hooks        []hookView
	Reasons      []string
	Score        string
}

type hookView struct {
	Name, Type, Result, Error string
	Passed                    bool
}

type metricView struct {
	ID        string
	Name      string
	Kind      string
	Query     string
	Bounds    string
	Status    string // pass, fail, inconclusive, error
	Summary   string
	Chart     template.HTML
	Judged    *judgedView
	FailTicks []string
}

type judgedView struct {
	Judge    string
	Chart    template.HTML
	Dist     template.HTML
	Seq      template.HTML
	Shift    template.HTML
	Evidence []kv
	Rule     string
	Queries  []analysis.JudgeQuery
	Window   string
}

type kv struct{ K, V string }

type checkRow struct {
	Tick     int
	TickID   string
	Time     string
	Metric   string
	Kind     string
	Value    string
	RawValue string
	Min, Max string
	Result   string
	Reason   string
	Judge    string
}

func newPage(r *Replay) *page {
	p := &page{Kind: r.Kind, Canary: r.Namespace + "/" + r.Name, Source: redact(r.Source)}
	if !r.Generated.IsZero() {
		p.Generated = r.Generated.UTC().Format(time.RFC3339)
	}
	origin := r.DataStart
	if len(r.Ticks) > 0 {
		first, last := r.Ticks[0].Time.UTC(), r.Ticks[len(r.Ticks)-1].Time.UTC()
		p.Range = first.Format(time.RFC3339)
		if !last.Equal(first) {
			p.Range += " to " + last.Format(time.RFC3339)
		}
		p.Range += fmt.Sprintf(" (%d %s)", len(r.Ticks), plural(len(r.Ticks), "tick", "ticks"))
		if !origin.IsZero() {
			p.Range += ", " + offset(origin, first) + " after the data's start"
		}
	}
	p.verdict(r)
	p.Title = fmt.Sprintf("augur %s: %s — %s", r.Kind, p.Canary, p.Verdict)
	for i, t := range r.Ticks {
		p.Ticks = append(p.Ticks, newTickView(i+1, t, origin))
	}
	p.Timeline = timelineChart(r, origin)
	p.Metrics = metricViews(r, origin)
	p.Score = scoreChart(r, origin)
	for i, t := range r.Ticks {
		for _, c := range t.Checks {
			p.Checks = append(p.Checks, newCheckRow(i+1, t, c))
		}
	}
	p.NChecks = len(p.Checks)
	return p
}

// userinfo matches the credentials of a URL (scheme://user:password@).
var userinfo = regexp.MustCompile(`([a-zA-Z][a-zA-Z0-9+.-]*://)[^/@\s]+@`)

// redact removes credentials from URLs in a text: a report never shows a
// secret, even when a Prometheus address carries one.
func redact(s string) string { return userinfo.ReplaceAllString(s, "${1}[redacted]@") }

func plural(n int, one, many string) string {
	if n == 1 {
		return one
	}
	return many
}

// verdict fills the header's verdict, exit code and one-line why.
func (p *page) verdict(r *Replay) {
	last := Tick{Phase: r.Result}
	if len(r.Ticks) > 0 {
		last = r.Ticks[len(r.Ticks)-1]
	}
	p.Result = string(r.Result)
	p.Reasons = last.Reasons
	switch r.Kind {
	case KindReplay:
		p.ExitCodes = []exitCode{{0, "promoted", false}, {1, "neither (stopped at --max-ticks)", false}, {3, "rolled back", false}, {2, "bad input", false}}
		switch r.Result {
		case analysis.PhaseSucceeded:
			p.Verdict, p.VerdictID, p.Exit = "Promoted", outPass, 0
		case analysis.PhaseFailed:
			p.Verdict, p.VerdictID, p.Exit = "Rolled back", outFail, 3
		default:
			p.Verdict, p.VerdictID, p.Exit = "Unfinished: still "+string(r.Result), outHold, 1
		}
	default:
		p.ExitCodes = []exitCode{{0, "advance or promote", false}, {1, "hold", false}, {3, "roll back", false}, {2, "bad input", false}}
		switch last.Action {
		case analysis.ActionAdvance:
			p.Verdict, p.VerdictID, p.Exit = "Advance", outPass, 0
		case analysis.ActionPromote:
			p.Verdict, p.VerdictID, p.Exit = "Promote", outPass, 0
		case analysis.ActionRollback:
			p.Verdict, p.VerdictID, p.Exit = "Roll back", outFail, 3
		default:
			p.Verdict, p.VerdictID, p.Exit = "Hold", outHold, 1
		}
	}
	if r.Kind == KindDecide {
		p.ExitCodes = nil
	}
	for i := range p.ExitCodes {
		if p.ExitCodes[i].Code == p.Exit {
			p.ExitCodes[i].This = true
			p.ExitText = p.ExitCodes[i].Meaning
		}
	}
	p.Why = why(r)
}

// why is the header's one line: which metric failed, when and by how much;
// or why the canary was promoted or is still running.
func why(r *Replay) string {
	n := len(r.Ticks)
	if n == 0 {
		return "No tick ran."
	}
	last := r.Ticks[n-1]
	worst, firstFail, count := worstFailure(r.Ticks)
	switch {
	case r.Kind == KindReplay && r.Result == analysis.PhaseSucceeded:
		if count == 0 {
			return fmt.Sprintf("Promoted after %d ticks: every metric check passed.", n)
		}
		return fmt.Sprintf("Promoted after %d ticks; %d failed %s along the way, fewer than the threshold.", n, count, plural(count, "check", "checks"))
	case worst != nil:
		lead := fmt.Sprintf("Stopped after %d ticks: ", n)
		switch {
		case r.Kind == KindReplay && r.Result == analysis.PhaseFailed:
			lead = fmt.Sprintf("Rolled back at %s after %d failed %s: ", last.Time.UTC().Format("15:04:05"), last.FailedChecks, plural(last.FailedChecks, "check", "checks"))
			if last.FailedChecks == 0 {
				lead = fmt.Sprintf("Rolled back at %s: ", last.Time.UTC().Format("15:04:05"))
			}
		case r.Kind != KindReplay:
			lead = "This tick failed: "
		}
		return lead + failureText(worst, firstFail)
	}
	if len(last.Reasons) > 0 {
		return last.Reasons[0]
	}
	return fmt.Sprintf("%d ticks, last action %s.", n, last.Action)
}

type failure struct {
	tick   Tick
	check  analysis.Check
	excess float64 // relative distance outside the band (for choosing the worst)
}

// worstFailure finds the failed check furthest outside its band (relative to
// the bound), the first tick a check failed, and how many checks failed.
func worstFailure(ticks []Tick) (*failure, *failure, int) {
	var worst, first *failure
	count := 0
	for _, t := range ticks {
		for _, c := range t.Checks {
			if c.Passed || c.Inconclusive {
				continue
			}
			count++
			f := &failure{tick: t, check: c, excess: excess(c)}
			if first == nil {
				first = f
			}
			if worst == nil || f.excess > worst.excess {
				worst = f
			}
		}
	}
	return worst, first, count
}

func excess(c analysis.Check) float64 {
	if c.Value == nil {
		return 0.5 // an error: a failure, but a number outside its band is more telling
	}
	v := *c.Value
	rel := func(d, bound float64) float64 { return 1 + d/math.Max(math.Abs(bound), 1e-9) }
	if c.Max != nil && v > *c.Max {
		return rel(v-*c.Max, *c.Max)
	}
	if c.Min != nil && v < *c.Min {
		return rel(*c.Min-v, *c.Min)
	}
	return 0.75 // judged: the judge failed it inside the band
}

func failureText(worst, first *failure) string {
	c := worst.check
	s := c.Metric + " " + distance(c) + " at " + worst.tick.Time.UTC().Format("15:04:05")
	if first != nil && !first.tick.Time.Equal(worst.tick.Time) {
		s += " (first failed check: " + first.check.Metric + " at " + first.tick.Time.UTC().Format("15:04:05") + ")"
	}
	return s + "."
}

// distance says how far a failed check's value is outside its band.
func distance(c analysis.Check) string {
	k := c.Kind
	if c.Value == nil {
		if c.Error != "" {
			return "had no value (" + c.Error + ")"
		}
		return "had no value"
	}
	v := *c.Value
	switch {
	case c.Max != nil && v > *c.Max:
		return fmt.Sprintf("was %s, %s above the maximum %s", fmtValue(k, v), fmtDelta(k, v-*c.Max), fmtValue(k, *c.Max))
	case c.Min != nil && v < *c.Min:
		return fmt.Sprintf("was %s, %s below the minimum %s", fmtValue(k, v), fmtDelta(k, *c.Min-v), fmtValue(k, *c.Min))
	case c.Judgement != nil:
		return judgedDistance(c, v)
	}
	return "was " + fmtValue(k, v)
}

// fmtValue prints a value for people, as the CLI's text output does:
// success rates with two decimals and %, durations in whole ms, others with
// up to six significant digits.
func fmtValue(k analysis.MetricKind, v float64) string {
	if !finite(v) {
		return fmtRaw(v)
	}
	switch k {
	case analysis.KindSuccessRate:
		return strconv.FormatFloat(v, 'f', 2, 64) + "%"
	case analysis.KindDuration:
		return strconv.FormatFloat(math.Trunc(v), 'f', -1, 64) + "ms"
	}
	return strconv.FormatFloat(v, 'g', 6, 64)
}

func fmtDelta(k analysis.MetricKind, d float64) string {
	switch k {
	case analysis.KindSuccessRate:
		return strconv.FormatFloat(d, 'f', 2, 64) + " points"
	case analysis.KindDuration:
		return strconv.FormatFloat(math.Round(d), 'f', -1, 64) + "ms"
	}
	return strconv.FormatFloat(d, 'g', 4, 64)
}

// fmtRaw prints a number exactly as JSON carries it (shortest round trip).
func fmtRaw(v float64) string {
	switch {
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(v, 'g', -1, 64)
}

func fmtPtr(k analysis.MetricKind, v *float64) string {
	if v == nil {
		return "—"
	}
	return fmtValue(k, *v)
}

func rawPtr(v *float64) string {
	if v == nil {
		return "null"
	}
	return fmtRaw(*v)
}

func unit(k analysis.MetricKind) string {
	switch k {
	case analysis.KindSuccessRate:
		return "success rate (%)"
	case analysis.KindDuration:
		return "duration (ms)"
	}
	return "value"
}

func tickOutcome(t Tick) string {
	if t.Action == analysis.ActionRollback {
		return outRollback
	}
	fail, inc := false, false
	for _, c := range t.Checks {
		switch {
		case c.Inconclusive:
			inc = true
		case !c.Passed:
			fail = true
		}
	}
	switch {
	case fail:
		return outFail
	case inc:
		return outInconclusive
	case t.Action == analysis.ActionHold:
		return outHold
	}
	return outPass
}

var outcomeText = map[string]string{
	outPass: "✓ passed", outFail: "✗ failed check", outHold: "‖ hold", outInconclusive: "? inconclusive", outRollback: "✗ rolled back",
}

func tickID(n int) string { return "tick-" + strconv.Itoa(n) }

func newTickView(n int, t Tick, origin time.Time) tickView {
	tv := tickView{
		N: n, ID: tickID(n), Time: t.Time.UTC().Format(time.RFC3339), Phase: string(t.Phase), Weight: t.CanaryWeight,
		FailedChecks: t.FailedChecks, Iterations: t.Iterations, Action: string(t.Action), Events: t.Events, Reasons: t.Reasons,
	}
	if !origin.IsZero() {
		tv.Offset = offset(origin, t.Time)
	}
	tv.Outcome = tickOutcome(t)
	tv.OutcomeText = outcomeText[tv.Outcome]
	for _, h := range t.Hooks {
		hv := hookView{Name: h.Name, Type: string(h.Type), Passed: h.Passed(), Result: "✓ passed"}
		if !h.Passed() {
			hv.Result, hv.Error = "✗ failed", h.Err
		}
		tv.Hooks = append(tv.Hooks, hv)
	}
	if t.Score != nil && t.Score.Score != nil {
		tv.Score = fmtRaw(*t.Score.Score)
	}
	return tv
}

func checkResult(c analysis.Check) string {
	switch {
	case c.Inconclusive:
		return outInconclusive
	case c.Passed:
		return outPass
	case c.Value == nil:
		return markError
	}
	return outFail
}

var checkText = map[string]string{outPass: "✓ pass", outFail: "✗ fail", outInconclusive: "? inconclusive", markError: "✗ error"}

func newCheckRow(n int, t Tick, c analysis.Check) checkRow {
	row := checkRow{
		Tick: n, TickID: tickID(n), Time: t.Time.UTC().Format("15:04:05"), Metric: c.Metric, Kind: string(c.Kind),
		Value: fmtPtr(c.Kind, c.Value), RawValue: rawPtr(c.Value), Min: rawPtr(c.Min), Max: rawPtr(c.Max),
		Result: checkResult(c), Reason: c.Reason,
	}
	if c.Value == nil && c.Error != "" {
		row.Value = "error"
	}
	if c.Judgement != nil {
		row.Judge = string(c.Judgement.Judge) + ": " + string(c.Judgement.Classification)
	}
	return row
}

// slug makes an id from a metric name: lower-case letters, digits and dashes.
func slug(s string) string {
	var b strings.Builder
	for _, r := range strings.ToLower(s) {
		switch {
		case r >= 'a' && r <= 'z', r >= '0' && r <= '9':
			b.WriteRune(r)
		default:
			b.WriteByte('-')
		}
	}
	if b.Len() == 0 {
		return "metric"
	}
	return b.String()
}

func scoreText(s *judges.Summary) string {
	if s == nil || s.Score == nil {
		return "—"
	}
	return fmtRaw(*s.Score)
}

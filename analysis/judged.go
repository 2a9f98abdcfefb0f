package analysis

import (
	"fmt"
	"strings"
	"time"

	"github.com/augurproj/augur/analysis/judges"
)

// Judged is what the shell gathers for a metric that is judged against the
// primary (augur's statistical judges) instead of, or besides, Flagger's
// threshold: the judge's configuration and both sides' data.
type Judged struct {
	// Config configures the judge (the flat keys of judges.ParseConfig).
	Config judges.Config `json:"config"`
	// Data is both sides' data: samples, request and error counts, or
	// histogram buckets, as the judge compares them.
	Data judges.Input `json:"data"`
	// Window is the time range the data covers.
	Window JudgeWindow `json:"window"`
	// Queries are the queries the data came from.
	Queries []JudgeQuery `json:"queries,omitempty"`
	// Err is set when the data could not be fetched (a query failed, or
	// the provider cannot run range queries); the check then fails.
	Err *ObservationError `json:"error,omitempty"`
}

// JudgeWindow is the time range of a judged metric's data: the points of
// a range query from Start+Step to End, each covering the Step before it,
// so together they cover (Start, End].
type JudgeWindow struct {
	// Start is the (exclusive) start of the data.
	Start time.Time `json:"start"`
	// End is the (inclusive) end of the data: the tick's evaluation time.
	End time.Time `json:"end"`
	// Step is the range query's resolution (a Go duration).
	Step string `json:"step"`
	// Cumulative reports that the data runs from the start of the analysis
	// (the sequential judge) rather than over one window.
	Cumulative bool `json:"cumulative,omitempty"`
	// Counting says how counts and buckets were read: "exact" (each
	// counter's increase from its stored samples, resets handled; whole
	// requests) or "increase" (the points of per-step increase() queries,
	// which Prometheus extrapolates). Empty for samples.
	Counting string `json:"counting,omitempty"`
}

// Ways of counting a judged metric's requests and buckets (JudgeWindow.Counting).
const (
	CountingExact    = "exact"
	CountingIncrease = "increase"
)

// Duration is End − Start.
func (w JudgeWindow) Duration() time.Duration { return w.End.Sub(w.Start) }

// Query roles of a judged metric's data.
const (
	RoleSamples  = "samples"
	RoleRequests = "requests"
	RoleErrors   = "errors"
	RoleBuckets  = "buckets"
	RoleSum      = "sum"
)

// Sides of a judged metric.
const (
	SideCanary   = "canary"
	SideBaseline = "baseline"
)

// JudgeQuery is one query a judged metric's data came from.
type JudgeQuery struct {
	// Side is canary or baseline.
	Side string `json:"side"`
	// Role is samples, requests, errors, buckets or sum.
	Role string `json:"role"`
	// Query is the rendered, whitespace-collapsed query.
	Query string `json:"query"`
}

// Judgement is a judged metric's verdict in a Check: the judge's result
// with its explanation, plus the window and queries of its data.
type Judgement struct {
	judges.Result
	// Window is the time range of the data.
	Window JudgeWindow `json:"window"`
	// Queries are the queries the data came from.
	Queries []JudgeQuery `json:"queries,omitempty"`
}

// HasThreshold reports whether a metric sets a threshold: a thresholdRange
// or a non-zero deprecated threshold. A judged metric without one is
// checked by its judge alone.
func (m Metric) HasThreshold() bool { return m.ThresholdRange != nil || m.Threshold != 0 }

// hasThreshold is HasThreshold for an observation.
func (o *Observation) hasThreshold() bool { return o.ThresholdRange != nil || o.Threshold != 0 }

// judgement runs the judge on a judged observation. A fetch error becomes a
// Classification Error result (an inconclusive judge result that vetoes
// when the metric is critical), but the check fails on it: see
// evaluateJudged.
func judgement(o *Observation) Judgement {
	j := o.Judged
	jm := Judgement{Window: j.Window, Queries: j.Queries}
	if j.Err == nil {
		in := j.Data
		in.Metric = o.Metric
		jm.Result = judges.Judge(j.Config, in)
		return jm
	}
	c := j.Config.WithDefaults()
	msg := "the data could not be fetched (" + string(j.Err.Kind) + "): " + j.Err.Message
	jm.Result = judges.Result{
		Metric: o.Metric, Judge: c.Judge, Verdict: judges.Inconclusive, Classification: judges.ClassError,
		Critical: c.Critical, Veto: c.Critical, Group: c.Group, Weight: c.Weight, Error: msg,
		Explanation: judges.Explanation{Rule: "Error: " + msg + "."},
	}
	return jm
}

// evaluateJudged checks a judged observation: Flagger's threshold check
// first when the metric sets a threshold (its failure is Flagger's failed
// check, with Flagger's event), then the judge. A judge that passes passes;
// a judge that fails, a critical metric's veto (no data or an error) and
// data that could not be fetched fail; anything else (Nodata, Error,
// Undecided) is inconclusive: the check neither passes nor fails.
func evaluateJudged(o *Observation) (Check, violation) {
	var c Check
	var v violation
	threshold := o.hasThreshold()
	if threshold {
		c, v = evaluateThreshold(o)
	} else {
		c = Check{Metric: o.Metric, Kind: o.Kind, Query: o.Query, Passed: true}
	}
	jm := judgement(o)
	c.Judgement = &jm
	r := &jm.Result
	var verdict string
	switch {
	case o.Judged.Err != nil:
		verdict = "fails: " + r.Error
	case r.Verdict == judges.Pass:
		verdict = "passes"
	case r.Verdict == judges.Fail:
		verdict = "fails"
	case r.Veto:
		verdict = "fails (a critical metric)"
	default:
		verdict = "is inconclusive"
	}
	judgeText := fmt.Sprintf("judged against the primary by %s on %s, %s: %s", r.Judge, dataOf(r), verdict, r.Explanation.Rule)
	if o.Judged.Err != nil {
		judgeText = fmt.Sprintf("judged against the primary by %s, %s", r.Judge, verdict)
	}
	switch {
	case !c.Passed:
		// The threshold decided (or the instant query failed): Flagger's check.
		c.Reason += "; " + judgeText
		return c, v
	case !threshold:
		c.Reason = o.Metric + " " + judgeText
	default:
		c.Reason += "; " + judgeText
	}
	switch {
	case o.Judged.Err != nil:
		c.Passed = false
		c.Error = o.Judged.Err.Message
		return c, violation{judge: r}
	case r.Verdict == judges.Pass:
		return c, violation{}
	case r.Verdict == judges.Fail || r.Veto:
		c.Passed = false
		return c, violation{judge: r}
	}
	c.Passed = false
	c.Inconclusive = true
	return c, violation{}
}

// dataOf names the data a result was computed from.
func dataOf(r *judges.Result) string {
	if r.Explanation.Data == "" {
		return "no data"
	}
	return string(r.Explanation.Data)
}

// judgeHaltEvent is augur's event for a tick halted by a judged metric.
func (n names) judgeHaltEvent(metric string, r *judges.Result) Event {
	return warning("Halt " + n.canary() + " advancement " + metric + " judged against " + n.primary() +
		" by " + string(r.Judge) + ": " + r.Explanation.Rule)
}

// judgeInconclusiveEvent is augur's event for a tick held by inconclusive judges.
func (n names) judgeInconclusiveEvent(metrics []string) Event {
	return normal("Halt " + n.canary() + " advancement judged metric " + strings.Join(metrics, ", ") +
		" inconclusive against " + n.primary() + ": waiting for more data")
}

// score combines the judgements of this tick's checks (judges.Score, with
// the input's score thresholds). It is reported in the decision; the tick's
// action follows the per-metric checks.
func (t *tick) score() {
	var results []judges.Result
	for i := range t.checks {
		if j := t.checks[i].Judgement; j != nil {
			results = append(results, j.Result)
		}
	}
	if len(results) == 0 {
		return
	}
	s, err := judges.Score(t.in.Score, results)
	if err != nil {
		t.reason("The judged metrics could not be scored: %v.", err)
		return
	}
	t.summary = &s
	t.reason("Score of the judged metrics (reported, not decisive): %s", s.Rule)
}

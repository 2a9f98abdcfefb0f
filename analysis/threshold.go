package analysis

import (
	"math"
	"strconv"
	"time"

	"github.com/augurproj/augur/analysis/judges"
)

// violation says which bound a value broke; the zero value means none.
type violation struct {
	// side is -1 for "below the minimum", +1 for "above the maximum".
	side int
	// bound is the bound that was broken, in the metric's unit
	// (milliseconds for request-duration).
	bound float64
	// judge is set when a judged metric's judge failed the check.
	judge *judges.Result
}

// effectiveBounds returns the inclusive bounds a metric is checked against:
// thresholdRange when present, else the deprecated threshold in Flagger's
// direction for the kind — a minimum for request-success-rate, a maximum for
// request-duration, inline queries and templates.
func effectiveBounds(o *Observation) (lo, hi *float64, deprecated bool) {
	if o.ThresholdRange != nil {
		return o.ThresholdRange.Min, o.ThresholdRange.Max, false
	}
	t := o.Threshold
	if o.Kind == KindSuccessRate {
		return &t, nil, true
	}
	return nil, &t, true
}

// knownKind reports whether k is one of the four evaluation paths.
func knownKind(k MetricKind) bool {
	switch k {
	case KindSuccessRate, KindDuration, KindQuery, KindTemplate:
		return true
	}
	return false
}

// CheckObservation applies Flagger's threshold rules to one observation.
//
// Bounds are inclusive: a check fails only when value < min or value > max.
// Without thresholdRange the deprecated threshold is a minimum for
// request-success-rate and a maximum for every other kind, so a threshold of
// 0 on a query or template fails any positive value. Request-duration values
// and bounds are milliseconds, both truncated to whole milliseconds before
// the comparison, as Flagger compares time.Duration values. NaN passes every
// comparison, as in Flagger (providers report NaN as "no values", so it only
// reaches this function from a provider that breaks that rule); +Inf passes a
// minimum-only range. An observation with an error, or of an unknown kind,
// fails.
//
// A judged observation (Judged set) is also judged against the primary: the
// threshold is checked first when the metric sets one, then the judge's
// verdict decides — pass, fail (a failing judge, a critical metric's veto,
// or data that could not be fetched) or inconclusive (Check.Inconclusive:
// the check neither passes nor fails). Check.Judgement carries the judge's
// result and explanation.
func CheckObservation(o Observation) Check {
	c, _ := evaluate(&o)
	return c
}

// evaluate is CheckObservation that also returns the broken bound (or the
// failing judge), which the step function needs for the event text.
func evaluate(o *Observation) (Check, violation) {
	if o.Judged != nil {
		return evaluateJudged(o)
	}
	return evaluateThreshold(o)
}

// evaluateThreshold is Flagger's threshold check of one observation.
func evaluateThreshold(o *Observation) (Check, violation) {
	lo, hi, deprecated := effectiveBounds(o)
	// One allocation holds the copies of the value and the bounds.
	store := new([3]float64)
	c := Check{
		Metric: o.Metric,
		Kind:   o.Kind,
		Query:  o.Query,
		Min:    finiteInto(&store[0], lo),
		Max:    finiteInto(&store[1], hi),
	}
	if o.Err != nil {
		c.Error = o.Err.explain()
		c.Reason = o.Metric + " has no value (" + string(o.Err.Kind) + "): " + o.Err.explain()
		return c, violation{}
	}
	if !knownKind(o.Kind) {
		c.Reason = o.Metric + " has an unknown metric kind " + strconv.Quote(string(o.Kind)) + ", so it cannot be checked"
		return c, violation{}
	}
	c.Value = finiteInto(&store[2], &o.Value)
	if math.IsNaN(o.Value) {
		c.Passed = true
		c.Reason = o.Metric + " is NaN, which passes every threshold comparison, as in Flagger " +
			"(providers report NaN as no values, so only a non-conforming provider gets here)"
		return c, violation{}
	}
	var v violation
	if o.Kind == KindDuration {
		v = durationViolation(o.Value, lo, hi)
	} else {
		v = floatViolation(o.Value, lo, hi)
	}
	c.Passed = v.side == 0
	c.Reason = checkReason(o, lo, hi, deprecated, v)
	return c, v
}

func floatViolation(val float64, lo, hi *float64) violation {
	if lo != nil && val < *lo {
		return violation{side: -1, bound: *lo}
	}
	if hi != nil && val > *hi {
		return violation{side: +1, bound: *hi}
	}
	return violation{}
}

func durationViolation(val float64, lo, hi *float64) violation {
	d := millis(val)
	if lo != nil && !math.IsNaN(*lo) && d < millis(*lo) {
		return violation{side: -1, bound: *lo}
	}
	if hi != nil && !math.IsNaN(*hi) && d > millis(*hi) {
		return violation{side: +1, bound: *hi}
	}
	return violation{}
}

// Largest and smallest whole-millisecond counts a time.Duration can hold.
const (
	maxMillis = math.MaxInt64 / int64(time.Millisecond)
	minMillis = math.MinInt64 / int64(time.Millisecond)
)

// millis converts a millisecond count to a time.Duration the way Flagger
// does (truncating toward zero to whole milliseconds). Values beyond the
// Duration range saturate instead of overflowing (Flagger would wrap around;
// that only matters for durations of more than 106 days). NaN maps to 0.
func millis(ms float64) time.Duration {
	switch {
	case math.IsNaN(ms):
		return 0
	case ms >= float64(maxMillis):
		return time.Duration(maxMillis) * time.Millisecond
	case ms <= float64(minMillis):
		return time.Duration(minMillis) * time.Millisecond
	}
	return time.Duration(int64(ms)) * time.Millisecond
}

func finiteCopy(p *float64) *float64 {
	return finiteInto(new(float64), p)
}

// finiteInto copies *p into dst and returns dst, or nil when p is nil or
// not finite.
func finiteInto(dst, p *float64) *float64 {
	if p == nil || math.IsNaN(*p) || math.IsInf(*p, 0) {
		return nil
	}
	*dst = *p
	return dst
}

// num formats a number the way Go's %v does for float64.
func num(f float64) string { return strconv.FormatFloat(f, 'g', -1, 64) }

func appendNum(b []byte, f float64) []byte { return strconv.AppendFloat(b, f, 'g', -1, 64) }

// appendValue renders a value in the metric's unit for reasons.
func appendValue(b []byte, k MetricKind, f float64) []byte {
	if k != KindDuration {
		return appendNum(b, f)
	}
	d := millis(f)
	b = append(b, d.String()...)
	if float64(d/time.Millisecond) != f && !math.IsInf(f, 0) {
		b = append(b, " ("...)
		b = appendNum(b, f)
		b = append(b, "ms truncated to whole milliseconds)"...)
	}
	return b
}

func appendBound(b []byte, k MetricKind, bound *float64, open string) []byte {
	switch {
	case bound == nil:
		return append(b, open...)
	case k == KindDuration:
		return append(b, millis(*bound).String()...)
	}
	return appendNum(b, *bound)
}

func checkReason(o *Observation, lo, hi *float64, deprecated bool, v violation) string {
	b := make([]byte, 0, 128)
	b = append(b, o.Metric...)
	b = append(b, " = "...)
	b = appendValue(b, o.Kind, o.Value)
	switch {
	case v.side < 0:
		b = append(b, " is below the minimum "...)
		b = appendBound(b, o.Kind, lo, "")
	case v.side > 0:
		b = append(b, " is above the maximum "...)
		b = appendBound(b, o.Kind, hi, "")
	case lo == nil && hi == nil:
		b = append(b, " passes: thresholdRange sets neither min nor max"...)
	default:
		b = append(b, " is within ["...)
		b = appendBound(b, o.Kind, lo, "-Inf")
		b = append(b, ", "...)
		b = appendBound(b, o.Kind, hi, "+Inf")
		b = append(b, "] (bounds are inclusive)"...)
	}
	if deprecated {
		b = append(b, "; the deprecated threshold "...)
		b = appendNum(b, o.Threshold)
		if o.Kind == KindSuccessRate {
			b = append(b, " is a minimum for "...)
		} else {
			b = append(b, " is a maximum for "...)
		}
		b = append(b, o.Kind...)
		b = append(b, " metrics"...)
	}
	return string(b)
}

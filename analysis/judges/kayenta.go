package judges

import (
	"fmt"
	"math"
	"slices"
	"strings"
)

// judgeMannWhitney is Kayenta's NetflixACAJudge metric classification
// (MannWhitneyClassifier) on samples, with augur's fixes:
//
//  1. Each side: NaN strategy (remove, or replace with 0), then the IQR
//     outlier filter (factor 3, reduced sensitivity) unless outlierFactor is 0.
//  2. An empty side is Nodata (NodataFailMetric with mustHaveData) — also
//     with nanStrategy replace, where Kayenta passes an empty side. Fewer
//     than minPoints samples per side is Nodata too (Kayenta has no minimum).
//  3. Identical samples, or a single distinct value on both sides, pass.
//  4. The 98% Hodges–Lehmann interval of canary − baseline from the normal
//     approximation (Kayenta's MannWhitney: R's wilcox.test with
//     exact = FALSE, correct = TRUE) must clear the tolerance band
//     ±0.25·|estimate|: lower > band → High, upper < −band → Low, when the
//     direction allows it and the effect size reaches allowedIncrease
//     (≥) or allowedDecrease (≤); an undefined effect skips that gate.
//  5. A bound the data cannot reach at 98% (clamped to the range of the
//     differences) decides nothing: Nodata instead of Kayenta's High/Low.
//  6. A critical High/Low vetoes when the effect reaches criticalIncrease or
//     criticalDecrease (or is undefined).
func judgeMannWhitney(c Config, in Input, r *Result) {
	e := &r.Explanation
	e.Data = DataSamples
	if err := needKind(in, c.Judge, DataSamples); err != nil {
		r.fail(err)
		return
	}
	cs := clean(in.Canary.Samples, c.NaNStrategy, *c.OutlierFactor)
	bs := clean(in.Baseline.Samples, c.NaNStrategy, *c.OutlierFactor)
	e.Canary, e.Baseline = describe(cs), describe(bs)
	e.Method = "Mann-Whitney U, normal approximation with tie and continuity correction; 98% Hodges-Lehmann interval (Kayenta NetflixACAJudge)"
	e.Alpha = 1 - KayentaConfidence

	m, n := len(cs.values), len(bs.values)
	switch {
	case m == 0 && n == 0:
		r.noData(c, "neither side has samples"+afterCleaning(c.NaNStrategy, cs, bs))
		return
	case m == 0:
		r.noData(c, "the canary has no samples"+afterCleaning(c.NaNStrategy, cs, bs))
		return
	case n == 0:
		r.noData(c, "the baseline has no samples"+afterCleaning(c.NaNStrategy, cs, bs))
		return
	case m < c.MinPoints || n < c.MinPoints:
		r.noData(c, fmt.Sprintf("the canary has %d and the baseline %d samples, fewer than minPoints %d per side", m, n, c.MinPoints))
		return
	}

	eff := effectSize(c, cs.values, bs.values)
	e.Effect = eff
	if slices.Equal(cs.values, bs.values) {
		r.Classification = ClassPass
		e.Rule = "Pass: the canary and baseline samples are identical."
		return
	}
	if cs.values[0] == cs.values[m-1] && bs.values[0] == bs.values[n-1] && cs.values[0] == bs.values[0] {
		r.Classification = ClassPass
		e.Rule = fmt.Sprintf("Pass: every sample on both sides equals %s.", g(cs.values[0]))
		return
	}

	rs, err := RankSum(cs.values, bs.values, RankSumOptions{ConfLevel: KayentaConfidence, Method: MethodNormal})
	if err != nil {
		r.fail(fmt.Errorf("metric %q: %w", in.Metric, err))
		return
	}
	band := KayentaTolerance * math.Abs(rs.Estimate)
	e.Statistic = &Statistic{Name: "U", Value: rs.W}
	e.PValue = ptr(rs.PValue)
	e.Shift = &Shift{
		Kind:       "hodges-lehmann",
		Estimate:   num(rs.Estimate),
		Lower:      rs.Lower,
		Upper:      rs.Upper,
		Confidence: rs.ConfLevel,
		Tolerance:  num(band),
	}
	lo, hi := *rs.Lower, *rs.Upper
	interval := fmt.Sprintf("the 98%% interval [%s, %s] for the shift canary − baseline (estimate %s)", g(lo), g(hi), g(rs.Estimate))
	bandText := fmt.Sprintf("the tolerance band ±%s (25%% of |estimate|)", g(band))

	above, below := lo > band, hi < -band
	switch {
	case above && !c.Direction.allowsIncrease():
		r.Classification = ClassPass
		e.Rule = fmt.Sprintf("Pass: %s lies above %s, but direction %s ignores increases.", interval, bandText, c.Direction)
	case below && !c.Direction.allowsDecrease():
		r.Classification = ClassPass
		e.Rule = fmt.Sprintf("Pass: %s lies below %s, but direction %s ignores decreases.", interval, bandText, c.Direction)
	case above && rs.LowerClamped, below && rs.UpperClamped:
		r.noData(c, fmt.Sprintf("%s is clamped to the range of the pairwise differences: the %d and %d samples cannot reach 98%% confidence", interval, m, n))
	case above && eff.Value != nil && *eff.Value < *c.AllowedIncrease:
		r.Classification = ClassPass
		e.Rule = fmt.Sprintf("Pass: %s lies above %s, but the %s %s is below allowedIncrease %s.", interval, bandText, eff.Kind, gp(eff.Value), g(*c.AllowedIncrease))
	case below && eff.Value != nil && *eff.Value > *c.AllowedDecrease:
		r.Classification = ClassPass
		e.Rule = fmt.Sprintf("Pass: %s lies below %s, but the %s %s is above allowedDecrease %s.", interval, bandText, eff.Kind, gp(eff.Value), g(*c.AllowedDecrease))
	case above:
		r.Classification = ClassHigh
		e.Rule = fmt.Sprintf("High: %s lies above %s and the %s %s reaches allowedIncrease %s.", interval, bandText, eff.Kind, gp(eff.Value), g(*c.AllowedIncrease))
		r.Veto = c.Critical && (eff.Value == nil || *eff.Value >= *c.CriticalIncrease)
	case below:
		r.Classification = ClassLow
		e.Rule = fmt.Sprintf("Low: %s lies below %s and the %s %s reaches allowedDecrease %s.", interval, bandText, eff.Kind, gp(eff.Value), g(*c.AllowedDecrease))
		r.Veto = c.Critical && (eff.Value == nil || *eff.Value <= *c.CriticalDecrease)
	default:
		r.Classification = ClassPass
		e.Rule = fmt.Sprintf("Pass: %s does not clear %s.", interval, bandText)
	}
}

// afterCleaning says what preprocessing did, for no-data rules.
func afterCleaning(strategy NaNStrategy, cs, bs cleaned) string {
	var parts []string
	verb := "removed"
	if strategy == NaNReplace {
		verb = "replaced by 0"
	}
	for _, s := range []struct {
		side string
		c    cleaned
	}{{"canary", cs}, {"baseline", bs}} {
		if s.c.nans > 0 {
			parts = append(parts, fmt.Sprintf("%d non-finite %s samples %s", s.c.nans, s.side, verb))
		}
		if s.c.outliers > 0 {
			parts = append(parts, fmt.Sprintf("%d %s outliers removed", s.c.outliers, s.side))
		}
	}
	if len(parts) == 0 {
		return ""
	}
	return " (" + strings.Join(parts, ", ") + ")"
}

// allowsIncrease reports whether a higher canary can fail.
func (d Direction) allowsIncrease() bool { return d == DirectionIncrease || d == DirectionEither }

// allowsDecrease reports whether a lower canary can fail.
func (d Direction) allowsDecrease() bool { return d == DirectionDecrease || d == DirectionEither }

// effectSize computes Kayenta's effect measure on sorted samples:
// meanRatio = mean(canary)/mean(baseline), undefined when either mean is
// zero; cles = P(canary > baseline) + ½·P(tie), from the rank sum.
func effectSize(c Config, canary, baseline []float64) *Effect {
	eff := &Effect{Kind: string(c.EffectSize), AllowedIncrease: c.AllowedIncrease, AllowedDecrease: c.AllowedDecrease}
	switch c.EffectSize {
	case EffectCLES:
		w, _ := rankSumStat(canary, baseline)
		eff.Value = num(w / (float64(len(canary)) * float64(len(baseline))))
	default:
		mc, mb := mean(canary), mean(baseline)
		if mc != 0 && mb != 0 {
			eff.Value = num(mc / mb)
		}
	}
	return eff
}

package report

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/analysis/judges"
)

// sideStat picks the statistic both sides of a judgement are compared on:
// the error rate for counts, else the median, else the mean. Missing fields
// (an older or newer judge's evidence) give no point, never an error.
func sideStat(e judges.Explanation) (name string, canary, baseline *float64) {
	if e.Shift != nil && (e.Canary.Rate == nil && e.Baseline.Rate == nil) {
		switch {
		case strings.Contains(e.Shift.Kind, "mean") && (e.Canary.Mean != nil || e.Baseline.Mean != nil):
			return "mean", e.Canary.Mean, e.Baseline.Mean
		case strings.Contains(e.Shift.Kind, "median") && (e.Canary.Median != nil || e.Baseline.Median != nil):
			return "median", e.Canary.Median, e.Baseline.Median
		}
	}
	switch {
	case e.Canary.Rate != nil || e.Baseline.Rate != nil:
		return "error rate (%)", pct(e.Canary.Rate), pct(e.Baseline.Rate)
	case e.Canary.Median != nil || e.Baseline.Median != nil:
		return "median", e.Canary.Median, e.Baseline.Median
	case e.Canary.Mean != nil || e.Baseline.Mean != nil:
		return "mean", e.Canary.Mean, e.Baseline.Mean
	}
	return "", nil, nil
}

func pct(v *float64) *float64 {
	if v == nil {
		return nil
	}
	return ptr(*v * 100)
}

func verdictMark(v judges.Verdict) string {
	switch v {
	case judges.Pass:
		return markPass
	case judges.Fail:
		return markFail
	}
	return markInconclusive
}

// judgedViewOf draws a judged metric: the canary's and the primary's
// statistic per tick, the sequential judge's evidence against its
// boundaries, and the judge's evidence at the deciding tick.
func judgedViewOf(r *Replay, m *metricSeries, id string, origin time.Time) *judgedView {
	var stat string
	can := series{name: "canary", class: "canary"}
	base := series{name: "primary", class: "primary", dashed: true}
	reg := series{name: "evidence of a regression", class: "evalue"}
	noninf := series{name: "evidence of no regression", class: "noninf", dashed: true}
	shift := series{name: "canary − primary", class: "canary", noLine: true}
	shiftKind := ""
	intervals := false
	var failT, passT float64
	var deciding *analysis.Check
	var decidingTick Tick
	seq := false
	for i, c := range m.check {
		j := c.Judgement
		if j == nil {
			continue
		}
		t := r.Ticks[m.ticks[i]]
		cc := m.check[i]
		if deciding == nil || j.Verdict == judges.Fail || deciding.Judgement.Verdict != judges.Fail {
			deciding, decidingTick = &cc, t
		}
		name, cv, bv := sideStat(j.Explanation)
		if name != "" {
			stat = name
		}
		at := t.Time.UTC().Format("15:04:05")
		can.pts = append(can.pts, point{x: t.Time, y: cv, mark: verdictMark(j.Verdict),
			title: fmt.Sprintf("tick %d at %s: canary %s %s; judge %s: %s", m.ticks[i]+1, at, stat, num(cv), j.Judge, j.Classification)})
		base.pts = append(base.pts, point{x: t.Time, y: bv, mark: markNone,
			title: fmt.Sprintf("tick %d at %s: primary %s %s", m.ticks[i]+1, at, stat, num(bv))})
		if sh := j.Explanation.Shift; sh != nil && sh.Estimate != nil {
			shiftKind = sh.Kind
			intervals = intervals || sh.Lower != nil || sh.Upper != nil
			title := fmt.Sprintf("tick %d at %s: %s %s [%s, %s]", m.ticks[i]+1, at, sh.Kind, num(sh.Estimate), bound(sh.Lower, "−∞"), bound(sh.Upper, "+∞"))
			if sh.Confidence > 0 {
				title += fmt.Sprintf(" at %s%% confidence", strconv.FormatFloat(sh.Confidence*100, 'g', 4, 64))
			}
			shift.pts = append(shift.pts, point{x: t.Time, y: sh.Estimate, lo: sh.Lower, hi: sh.Upper, mark: verdictMark(j.Verdict), title: title})
		}
		if sq := j.Explanation.Sequential; sq != nil {
			seq = true
			failT, passT = sq.FailThreshold, sq.PassThreshold
			reg.pts = append(reg.pts, point{x: t.Time, y: sq.RegressionEValue, mark: verdictMark(j.Verdict),
				title: fmt.Sprintf("tick %d at %s: e-value for a regression %s (fail at ≥ %s)", m.ticks[i]+1, at, num(sq.RegressionEValue), fmtRaw(sq.FailThreshold))})
			noninf.pts = append(noninf.pts, point{x: t.Time, y: sq.NonInferiorityEValue, mark: markNone,
				title: fmt.Sprintf("tick %d at %s: e-value for no regression %s (pass at ≥ %s)", m.ticks[i]+1, at, num(sq.NonInferiorityEValue), fmtRaw(sq.PassThreshold))})
		}
	}
	if deciding == nil {
		return nil
	}
	j := deciding.Judgement
	jv := &judgedView{Judge: string(j.Judge), Rule: j.Explanation.Rule, Queries: j.Queries}
	if !j.Window.End.IsZero() {
		jv.Window = fmt.Sprintf("%s to %s, step %s", j.Window.Start.UTC().Format(time.RFC3339), j.Window.End.UTC().Format(time.RFC3339), j.Window.Step)
		if j.Window.Cumulative {
			jv.Window += " (cumulative since the analysis started)"
		}
	}
	if stat != "" {
		c := &chart{
			id: "chart-" + id + "-judged", title: m.name + ": canary and primary " + stat + " per tick, as the judge saw them",
			desc:   fmt.Sprintf("Canary (solid line, marks show the judge's verdict) and primary (dashed line) %s per tick. Canary: %s. Primary: %s.", stat, valuesText(can.pts, ""), valuesText(base.pts, "")),
			yTitle: stat, xs: times(r), origin: origin, series: []series{base, can},
			yFmt: func(v float64) string { return strconv.FormatFloat(v, 'g', 5, 64) },
		}
		jv.Chart = c.svg()
	}
	if intervals {
		c := &chart{
			id: "chart-" + id + "-shift", title: m.name + ": the judge's estimate of canary − primary per tick, with its interval",
			desc:   fmt.Sprintf("%s per tick with its confidence interval; an interval clear of zero is a difference. %s.", shiftKind, valuesText(shift.pts, "")),
			yTitle: shiftKind + " (canary − primary)", xs: times(r), origin: origin, series: []series{shift},
			lines: []refLine{{y: 0, label: "no difference", class: "zero"}},
			yFmt:  func(v float64) string { return strconv.FormatFloat(v, 'g', 4, 64) },
		}
		jv.Shift = c.svg()
	}
	if seq {
		c := &chart{
			id: "chart-" + id + "-evidence", title: m.name + ": the sequential judge's evidence against its boundaries (log scale)",
			desc: fmt.Sprintf("E-values per tick. A regression is declared when its e-value reaches %s; no regression when the other reaches %s. Regression: %s. No regression: %s.",
				fmtRaw(failT), fmtRaw(passT), valuesText(reg.pts, ""), valuesText(noninf.pts, "")),
			yTitle: "e-value (log)", xs: times(r), origin: origin, series: []series{noninf, reg}, log: true,
			lines: boundaries(failT, passT),
			yFmt:  func(v float64) string { return strconv.FormatFloat(v, 'g', 3, 64) },
		}
		jv.Seq = c.svg()
	}
	jv.Dist = distChart(id, m.name, j.Explanation.Canary.Buckets, j.Explanation.Baseline.Buckets)
	jv.Evidence = evidence(decidingTick, j)
	return jv
}

func boundaries(failT, passT float64) []refLine {
	if failT == passT {
		return []refLine{{y: failT, label: "fail and pass boundary " + fmtRaw(failT), class: "fail-line"}}
	}
	return []refLine{{y: failT, label: "fail boundary " + fmtRaw(failT), class: "fail-line"}, {y: passT, label: "pass boundary " + fmtRaw(passT), class: "pass"}}
}

func num(v *float64) string {
	if v == nil {
		return "—"
	}
	return strconv.FormatFloat(*v, 'g', 6, 64)
}

// evidence lists the numbers the judge's verdict was drawn from.
func evidence(t Tick, j *analysis.Judgement) []kv {
	e := j.Explanation
	out := []kv{
		{"tick", t.Time.UTC().Format(time.RFC3339)},
		{"verdict", verdictWord(j.Verdict) + " (" + string(j.Classification) + ")"},
	}
	if j.Critical {
		out = append(out, kv{"critical", "yes (a failure vetoes the analysis)"})
	}
	if e.Method != "" {
		out = append(out, kv{"method", e.Method})
	}
	if e.Data != "" {
		out = append(out, kv{"data", string(e.Data)})
	}
	out = append(out, kv{"canary", sideText(e.Canary)}, kv{"primary", sideText(e.Baseline)})
	if s := e.Statistic; s != nil {
		out = append(out, kv{"statistic", s.Name + " = " + strconv.FormatFloat(s.Value, 'g', 6, 64)})
	}
	if e.PValue != nil {
		p := "p = " + strconv.FormatFloat(*e.PValue, 'g', 4, 64)
		if e.Alpha > 0 {
			p += " (α = " + fmtRaw(e.Alpha) + ")"
		}
		out = append(out, kv{"p-value", p})
	}
	if e.EValue != nil {
		out = append(out, kv{"e-value", strconv.FormatFloat(*e.EValue, 'g', 4, 64)})
	}
	if s := e.Shift; s != nil {
		v := s.Kind + ": " + num(s.Estimate)
		if s.Lower != nil || s.Upper != nil {
			v += " [" + bound(s.Lower, "−∞") + ", " + bound(s.Upper, "+∞") + "]"
		}
		if s.Confidence > 0 {
			v += fmt.Sprintf(" at %s%% confidence", strconv.FormatFloat(s.Confidence*100, 'g', 4, 64))
		}
		out = append(out, kv{"canary − primary", v})
	}
	if ef := e.Effect; ef != nil {
		v := ef.Kind + " = " + num(ef.Value)
		if ef.AllowedIncrease != nil {
			v += "; allowed increase " + fmtRaw(*ef.AllowedIncrease)
		}
		if ef.AllowedDecrease != nil {
			v += "; allowed decrease " + fmtRaw(*ef.AllowedDecrease)
		}
		out = append(out, kv{"effect", v})
	}
	if sq := e.Sequential; sq != nil {
		out = append(out, kv{"sequential", fmt.Sprintf("estimate %s; regression e-value %s (fail ≥ %s); no-regression e-value %s (pass ≥ %s); margin %s",
			num(sq.Estimate), num(sq.RegressionEValue), fmtRaw(sq.FailThreshold), num(sq.NonInferiorityEValue), fmtRaw(sq.PassThreshold), fmtRaw(sq.Margin))})
	}
	if j.Error != "" {
		out = append(out, kv{"error", j.Error})
	}
	return out
}

func bound(v *float64, open string) string {
	if v == nil {
		return open
	}
	return strconv.FormatFloat(*v, 'g', 6, 64)
}

func verdictWord(v judges.Verdict) string {
	switch v {
	case judges.Pass:
		return "✓ pass"
	case judges.Fail:
		return "✗ fail"
	}
	return "? " + string(v)
}

func sideText(s judges.Side) string {
	parts := []string{"n = " + strconv.FormatFloat(s.Count, 'g', 8, 64)}
	if s.Requests != nil {
		parts = append(parts, "requests "+num(s.Requests))
	}
	if s.Errors != nil {
		parts = append(parts, "errors "+num(s.Errors))
	}
	if s.Rate != nil {
		parts = append(parts, "error rate "+strconv.FormatFloat(*s.Rate*100, 'g', 4, 64)+"%")
	}
	if s.Median != nil {
		parts = append(parts, "median "+num(s.Median))
	}
	if s.Mean != nil {
		parts = append(parts, "mean "+num(s.Mean))
	}
	if s.NaNs > 0 {
		parts = append(parts, strconv.Itoa(s.NaNs)+" NaN")
	}
	if s.Outliers > 0 {
		parts = append(parts, strconv.Itoa(s.Outliers)+" outliers removed")
	}
	return strings.Join(parts, ", ")
}

// judgedDistance says how a judged check failed inside its threshold: the
// canary's and the primary's statistic and the judge's estimate.
func judgedDistance(c analysis.Check, v float64) string {
	j := c.Judgement
	s := fmt.Sprintf("was %s; the %s judge found it %s", fmtValue(c.Kind, v), j.Judge, strings.ToLower(string(j.Classification)))
	name, cv, bv := sideStat(j.Explanation)
	if name != "" && cv != nil && bv != nil {
		s += fmt.Sprintf(" (canary %s %s vs primary %s", name, strconv.FormatFloat(*cv, 'g', 5, 64), strconv.FormatFloat(*bv, 'g', 5, 64))
		if *bv != 0 {
			s += fmt.Sprintf(", %+.1f%%", (*cv-*bv) / *bv * 100)
		}
		s += ")"
	}
	return s
}

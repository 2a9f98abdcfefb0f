package report

import (
	"fmt"
	"html/template"
	"math"
	"sort"
	"strconv"
	"strings"
	"time"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/analysis/judges"
)

func times(r *Replay) []time.Time {
	xs := make([]time.Time, len(r.Ticks))
	for i, t := range r.Ticks {
		xs[i] = t.Time
	}
	return xs
}

func ptr(v float64) *float64 { return &v }

func outcomeMark(o string) string {
	switch o {
	case outFail, outRollback:
		return markFail
	case outInconclusive, outHold:
		return markInconclusive
	}
	return markPass
}

// timelineChart draws the canary weight per tick as steps, each tick marked
// by its outcome, with the phase in each tick's title.
func timelineChart(r *Replay, origin time.Time) template.HTML {
	if len(r.Ticks) == 0 {
		return ""
	}
	maxW := 10.0
	s := series{name: "canary weight", class: "weight"}
	var desc []string
	for i, t := range r.Ticks {
		w := float64(t.CanaryWeight)
		maxW = math.Max(maxW, w)
		o := tickOutcome(t)
		title := fmt.Sprintf("tick %d at %s: %s, weight %d%%, %s, failed checks %d", i+1, t.Time.UTC().Format("15:04:05"),
			t.Phase, t.CanaryWeight, outcomeText[o], t.FailedChecks)
		s.pts = append(s.pts, point{x: t.Time, y: ptr(w), mark: outcomeMark(o), title: title})
		if i == 0 || o != outPass || i == len(r.Ticks)-1 || t.Phase != r.Ticks[i-1].Phase {
			desc = append(desc, title)
		}
	}
	c := &chart{
		id: "chart-timeline", title: "Canary weight and outcome per tick",
		desc:   "Canary traffic weight in percent per tick; circles mark passed ticks, crosses failed checks, diamonds holds. " + strings.Join(desc, "; ") + ".",
		yTitle: "canary weight (%)", xs: times(r), origin: origin, series: []series{s},
		yFmt: func(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) + "%" }, yMin: ptr(0), yMax: ptr(maxW), h: 170,
	}
	prev := r.Before.Phase
	for _, t := range r.Ticks {
		if t.Phase != prev && t.Phase != analysis.PhaseProgressing {
			c.marks = append(c.marks, annotation{x: t.Time, text: string(t.Phase)})
		}
		prev = t.Phase
	}
	return stepChart(c)
}

// stepChart draws a chart's first series as steps (weights hold until the
// next tick changes them), its marks at the ticks.
func stepChart(c *chart) template.HTML {
	s := c.series[0]
	var steps []point
	for i, p := range s.pts {
		if i > 0 && p.y != nil && steps[len(steps)-1].y != nil {
			steps = append(steps, point{x: p.x, y: steps[len(steps)-1].y})
		}
		steps = append(steps, point{x: p.x, y: p.y})
	}
	line := series{name: s.name + " steps", class: s.class + " steps", pts: steps}
	s.noLine = true
	c.series = []series{line, s}
	return c.svg()
}

type metricSeries struct {
	name  string
	kind  analysis.MetricKind
	query string
	ticks []int // tick index per check
	check []analysis.Check
}

// collect groups the checks by metric, in the order metrics first appear.
func collect(r *Replay) []*metricSeries {
	var out []*metricSeries
	by := map[string]*metricSeries{}
	for i, t := range r.Ticks {
		for _, c := range t.Checks {
			m := by[c.Metric]
			if m == nil {
				m = &metricSeries{name: c.Metric, kind: c.Kind}
				by[c.Metric] = m
				out = append(out, m)
			}
			if c.Query != "" {
				m.query = c.Query
			}
			m.ticks = append(m.ticks, i)
			m.check = append(m.check, c)
		}
	}
	return out
}

func boundsText(k analysis.MetricKind, lo, hi *float64) string {
	switch {
	case lo != nil && hi != nil:
		return fmtValue(k, *lo) + " ≤ value ≤ " + fmtValue(k, *hi)
	case lo != nil:
		return "value ≥ " + fmtValue(k, *lo)
	case hi != nil:
		return "value ≤ " + fmtValue(k, *hi)
	}
	return "no threshold"
}

func metricViews(r *Replay, origin time.Time) []metricView {
	var out []metricView
	used := map[string]int{}
	for _, m := range collect(r) {
		id := slug(m.name)
		if used[id]++; used[id] > 1 {
			id += "-" + strconv.Itoa(used[id])
		}
		mv := metricView{ID: "metric-" + id, Name: m.name, Kind: string(m.kind), Query: strings.TrimSpace(m.query), Status: outPass}
		// The band is the last check's bounds (they do not change during a rollout).
		last := m.check[len(m.check)-1]
		mv.Bounds = boundsText(m.kind, last.Min, last.Max)
		s := series{name: m.name, class: "canary"}
		var fails []string
		var worst *failure
		outside := false // a value outside its band: the chart must show the bound
		for i, c := range m.check {
			t := r.Ticks[m.ticks[i]]
			res := checkResult(c)
			mark := res
			title := fmt.Sprintf("tick %d at %s: %s = %s, %s", m.ticks[i]+1, t.Time.UTC().Format("15:04:05"), m.name, fmtPtr(m.kind, c.Value), checkText[res])
			if c.Value == nil && c.Error != "" {
				title += " (" + c.Error + ")"
			}
			s.pts = append(s.pts, point{x: t.Time, y: c.Value, mark: mark, title: title})
			if c.Value != nil && (c.Min != nil && *c.Value < *c.Min || c.Max != nil && *c.Value > *c.Max) {
				outside = true
			}
			switch res {
			case outFail, markError:
				mv.Status = outFail
				fails = append(fails, fmt.Sprintf("%s (%s)", t.Time.UTC().Format("15:04:05"), fmtPtr(m.kind, c.Value)))
				f := &failure{tick: t, check: c, excess: excess(c)}
				if worst == nil || f.excess > worst.excess {
					worst = f
				}
			case outInconclusive:
				if mv.Status == outPass {
					mv.Status = outInconclusive
				}
			}
		}
		mv.FailTicks = fails
		switch {
		case worst != nil:
			mv.Summary = fmt.Sprintf("Failed %d of %d checks; worst: %s at %s.", len(fails), len(m.check), distance(worst.check), worst.tick.Time.UTC().Format("15:04:05"))
		case mv.Status == outInconclusive:
			mv.Summary = fmt.Sprintf("No check failed in %d ticks; the judge could not decide on some.", len(m.check))
		default:
			mv.Summary = fmt.Sprintf("Passed all %d checks.", len(m.check))
		}
		k := m.kind
		c := &chart{
			id: "chart-" + id, title: m.name + " per tick against its threshold (" + mv.Bounds + ")",
			desc:   mv.Summary + " Values: " + valuesText(s.pts, k) + ".",
			yTitle: yTitle(m), xs: times(r), origin: origin, series: []series{s},
			bandLo: last.Min, bandHi: last.Max, hasBand: last.Min != nil || last.Max != nil,
			yFmt: func(v float64) string { return axisValue(k, v) },
		}
		if last.Min != nil {
			c.lines = append(c.lines, refLine{y: *last.Min, label: "min " + fmtValue(k, *last.Min), class: "bound"})
		}
		if last.Max != nil {
			c.lines = append(c.lines, refLine{y: *last.Max, label: "max " + fmtValue(k, *last.Max), class: "bound"})
		}
		c.clip = !outside && farBounds(s.pts, last.Min, last.Max)
		if worst != nil && worst.check.Value != nil {
			c.annot = &annotation{x: worst.tick.Time, y: *worst.check.Value, text: "✗ " + shortDistance(worst.check)}
		}
		mv.Chart = c.svg()
		mv.Judged = judgedViewOf(r, m, id, origin)
		out = append(out, mv)
	}
	// Failed metrics first, so the page opens on what went wrong; otherwise
	// Flagger's order.
	sort.SliceStable(out, func(i, j int) bool { return out[i].Status == outFail && out[j].Status != outFail })
	return out
}

func yTitle(m *metricSeries) string {
	if u := unit(m.kind); u != "value" {
		return u
	}
	return m.name
}

// farBounds reports whether a bound lies further from the values than twice
// their spread (then drawing it would flatten the values into a line).
func farBounds(pts []point, lo, hi *float64) bool {
	dlo, dhi := math.Inf(1), math.Inf(-1)
	for _, p := range pts {
		if p.y != nil && finite(*p.y) {
			dlo, dhi = math.Min(dlo, *p.y), math.Max(dhi, *p.y)
		}
	}
	if dlo > dhi {
		return false
	}
	spread := math.Max(dhi-dlo, math.Abs(dhi)*0.05)
	far := func(b *float64) bool { return b != nil && (*b > dhi+2*spread || *b < dlo-2*spread) }
	return far(lo) || far(hi)
}

func valuesText(pts []point, k analysis.MetricKind) string {
	var parts []string
	for _, p := range pts {
		v := "no value"
		if p.y != nil {
			v = fmtValue(k, *p.y)
		}
		parts = append(parts, p.x.UTC().Format("15:04:05")+" "+v)
	}
	return strings.Join(parts, ", ")
}

func shortDistance(c analysis.Check) string {
	v := *c.Value
	k := c.Kind
	switch {
	case c.Max != nil && v > *c.Max:
		return fmt.Sprintf("%s: +%s over max", fmtValue(k, v), fmtDelta(k, v-*c.Max))
	case c.Min != nil && v < *c.Min:
		return fmt.Sprintf("%s: −%s under min", fmtValue(k, v), fmtDelta(k, *c.Min-v))
	}
	if j := c.Judgement; j != nil {
		s := fmtValue(k, v) + ": " + string(j.Judge) + " judge says " + strings.ToLower(string(j.Classification))
		if _, cv, bv := sideStat(j.Explanation); cv != nil && bv != nil && *bv != 0 {
			s += fmt.Sprintf(", %+.1f%% vs primary", (*cv-*bv) / *bv * 100)
		}
		return s
	}
	return fmtValue(k, v) + ": failed"
}

func axisValue(k analysis.MetricKind, v float64) string {
	s := strconv.FormatFloat(v, 'g', 6, 64)
	switch k {
	case analysis.KindSuccessRate:
		return s + "%"
	case analysis.KindDuration:
		return s + "ms"
	}
	return s
}

// scoreChart draws the judged metrics' score per tick with the pass and
// marginal thresholds; empty when no tick has a score.
func scoreChart(r *Replay, origin time.Time) template.HTML {
	s := series{name: "score", class: "score"}
	var pass, marginal float64
	any := false
	for i, t := range r.Ticks {
		if t.Score == nil {
			continue
		}
		any = true
		pass, marginal = t.Score.Pass, t.Score.Marginal
		mark := markPass
		switch t.Score.Verdict {
		case judges.Fail:
			mark = markFail
		case judges.Inconclusive:
			mark = markInconclusive
		}
		title := fmt.Sprintf("tick %d at %s: score %s, %s (%s)", i+1, t.Time.UTC().Format("15:04:05"), scoreText(t.Score), t.Score.Classification, t.Score.Rule)
		s.pts = append(s.pts, point{x: t.Time, y: t.Score.Score, mark: mark, title: title})
	}
	if !any {
		return ""
	}
	c := &chart{
		id: "chart-score", title: "Score of the judged metrics per tick (0–100)",
		desc:   fmt.Sprintf("Kayenta-style score per tick; pass at %s, marginal at %s. %s.", fmtRaw(pass), fmtRaw(marginal), valuesText(s.pts, "")),
		yTitle: "score (0–100)", xs: times(r), origin: origin, series: []series{s}, yMin: ptr(0), yMax: ptr(100),
		lines: []refLine{{y: pass, label: "pass " + fmtRaw(pass), class: "pass"}, {y: marginal, label: "marginal " + fmtRaw(marginal), class: "marginal"}},
		yFmt:  func(v float64) string { return strconv.FormatFloat(v, 'g', 4, 64) },
	}
	return c.svg()
}

package report

import (
	"fmt"
	"html/template"
	"math"
	"strconv"
	"strings"

	"github.com/augurproj/augur/analysis/judges"
)

// distChart draws the two latency distributions a histogram judge compared:
// for each bucket, the share of the canary's and of the primary's requests
// that fell in it, side by side. The canary's bars are filled, the
// primary's hatched, and every bar carries its numbers, so neither colour
// nor shape alone tells them apart.
func distChart(id, metric string, canary, primary []judges.BucketCount) template.HTML {
	if len(canary) == 0 || len(canary) != len(primary) {
		return ""
	}
	for k := range canary {
		if canary[k].Le != primary[k].Le {
			return ""
		}
	}
	share := func(b []judges.BucketCount) ([]float64, float64) {
		var total float64
		for _, x := range b {
			total += x.Count
		}
		out := make([]float64, len(b))
		for k, x := range b {
			if total > 0 {
				out[k] = x.Count / total * 100
			}
		}
		return out, total
	}
	// Leave out the empty buckets at both ends (latency histograms carry
	// bounds up to hours); the shares are of all requests all the same.
	first, last := -1, -1
	for k := range canary {
		if canary[k].Count > 0 || primary[k].Count > 0 {
			if first < 0 {
				first = k
			}
			last = k
		}
	}
	if first < 0 {
		return ""
	}
	cs, cn := share(canary)
	ps, pn := share(primary)
	canary, primary = canary[first:last+1], primary[first:last+1]
	cs, ps = cs[first:last+1], ps[first:last+1]
	top := 0.0
	for k := range cs {
		top = math.Max(top, math.Max(cs[k], ps[k]))
	}
	if top <= 0 {
		return ""
	}
	sc := scale{lo: 0, hi: niceCeil(top), top: marginT, bottom: float64(chartH - marginB)}
	left, right := float64(marginL), float64(chartW-marginR)
	slot := (right - left) / float64(len(canary))
	bar := math.Max(1, slot*0.38)

	var desc strings.Builder
	fmt.Fprintf(&desc, "Share of requests per latency bucket (upper bound le), canary (%s requests, filled bars) beside primary (%s requests, hatched bars), empty buckets at either end left out:", fmtCount(cn), fmtCount(pn))
	for k, b := range canary {
		fmt.Fprintf(&desc, " le %s: canary %s%%, primary %s%%;", b.Le, pctText(cs[k]), pctText(ps[k]))
	}

	var b strings.Builder
	cid := "chart-" + id + "-dist"
	fmt.Fprintf(&b, `<svg class="chart" data-chart="distribution" id="%s" viewBox="0 0 %d %d" role="img" aria-labelledby="%s-title %s-desc" preserveAspectRatio="xMidYMid meet">`,
		cid, chartW, chartH, cid, cid)
	fmt.Fprintf(&b, `<defs><pattern id="%s-hatch" width="6" height="6" patternUnits="userSpaceOnUse" patternTransform="rotate(45)"><line class="hatch" x1="0" y1="0" x2="0" y2="6"/></pattern></defs>`, cid)
	fmt.Fprintf(&b, `<title id="%s-title">%s</title><desc id="%s-desc">%s</desc>`, cid,
		esc(metric+": the latency distributions the judge compared (share of requests per bucket)"), cid, esc(strings.TrimSuffix(desc.String(), ";")+"."))
	b.WriteString(`<g class="axis y">`)
	for _, v := range sc.ticks() {
		y := sc.at(v)
		fmt.Fprintf(&b, `<line class="grid" x1="%s" x2="%s" y1="%s" y2="%s"/>`, f1(left), f1(right), f1(y), f1(y))
		fmt.Fprintf(&b, `<text x="%s" y="%s" text-anchor="end">%s%%</text>`, f1(left-6), f1(y+4), strconv.FormatFloat(v, 'g', 4, 64))
	}
	fmt.Fprintf(&b, `<text class="axis-title" transform="translate(14 %s) rotate(-90)" text-anchor="middle">share of requests (%%)</text>`, f1((sc.top+sc.bottom)/2))
	b.WriteString(`</g><g class="axis x">`)
	fmt.Fprintf(&b, `<line class="frame" x1="%s" x2="%s" y1="%s" y2="%s"/>`, f1(left), f1(right), f1(sc.bottom), f1(sc.bottom))
	every := (len(canary) + 11) / 12
	for k, bk := range canary {
		if k%every != 0 && k != len(canary)-1 {
			continue
		}
		x := left + slot*(float64(k)+0.5)
		fmt.Fprintf(&b, `<text x="%s" y="%s" text-anchor="middle">%s</text>`, f1(x), f1(sc.bottom+16), esc(bk.Le))
	}
	fmt.Fprintf(&b, `<text class="axis-title" x="%s" y="%s" text-anchor="middle">bucket upper bound (le, the metric's unit)</text>`, f1((left+right)/2), f1(chartH-8))
	b.WriteString(`</g>`)
	for k, bk := range canary {
		x := left + slot*(float64(k)+0.5)
		for _, s := range []struct {
			class, who string
			v, n       float64
			x          float64
		}{
			{"canary", "canary", cs[k], canary[k].Count, x - bar},
			{"primary", "primary", ps[k], primary[k].Count, x},
		} {
			y := sc.at(s.v)
			fill := ""
			if s.class == "primary" {
				fill = fmt.Sprintf(` fill="url(#%s-hatch)"`, cid)
			}
			fmt.Fprintf(&b, `<rect class="bar %s" data-le="%s" data-share="%s" x="%s" y="%s" width="%s" height="%s"%s><title>le %s: %s %s%% (%s requests)</title></rect>`,
				s.class, esc(bk.Le), strconv.FormatFloat(s.v, 'g', 6, 64), f1(s.x), f1(y), f1(bar), f1(math.Max(0, sc.bottom-y)), fill,
				esc(bk.Le), s.who, pctText(s.v), fmtCount(s.n))
		}
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // every text above is escaped with esc
}

// niceCeil rounds a positive maximum up to a round axis end.
func niceCeil(v float64) float64 {
	step := niceStep(v / 4)
	return math.Ceil(v/step) * step
}

func pctText(v float64) string { return strconv.FormatFloat(v, 'f', 2, 64) }

func fmtCount(v float64) string { return strconv.FormatFloat(v, 'f', -1, 64) }

package report

import (
	"fmt"
	"html"
	"html/template"
	"math"
	"strconv"
	"strings"
	"time"
)

// Chart geometry (SVG user units; the SVG scales to the page width).
const (
	chartW   = 760
	chartH   = 240
	marginL  = 72
	marginR  = 24
	marginT  = 22
	marginB  = 52
	maxXTick = 10
)

// Marks of a point: how a tick's check ended. Each has its own shape and
// word, so pass and fail never depend on colour alone.
const (
	markPass         = "pass"
	markFail         = "fail"
	markInconclusive = "inconclusive"
	markError        = "error"
	markNone         = ""
)

type point struct {
	x    time.Time
	y    *float64
	mark string
	// title is the point's text alternative (SVG <title>, a tooltip).
	title string
	// lo and hi draw an interval (error bar) around the point.
	lo, hi *float64
}

type series struct {
	name   string
	class  string // CSS class: canary, primary, score, evalue, …
	dashed bool
	noLine bool // marks only
	pts    []point
}

type refLine struct {
	y     float64
	label string
	class string
}

type annotation struct {
	x    time.Time
	y    float64
	text string
}

// chart is a line chart over tick times.
type chart struct {
	id, title, desc string
	yTitle          string
	xs              []time.Time
	origin          time.Time // offsets below the x labels are from here (zero: none)
	series          []series
	// bandLo/bandHi shade the allowed region (nil: open on that side).
	bandLo, bandHi *float64
	hasBand        bool
	lines          []refLine
	log            bool
	yFmt           func(float64) string
	annot          *annotation
	yMin, yMax     *float64 // forced domain bounds
	// clip leaves the band and reference lines out of the y domain (a
	// threshold far from every value); lines off the chart are named at its
	// edge.
	clip bool
	// h is the chart's height in SVG units (default chartH).
	h int
	// marks are labelled vertical lines (phase changes on the timeline).
	marks []annotation
}

func (c *chart) height() int {
	if c.h > 0 {
		return c.h
	}
	return chartH
}

type scale struct {
	lo, hi float64
	log    bool
	top    float64
	bottom float64
}

func (s scale) at(v float64) float64 {
	if s.log {
		v = math.Log10(math.Max(v, 1e-300))
	}
	if s.hi == s.lo {
		return (s.top + s.bottom) / 2
	}
	return s.bottom - (v-s.lo)/(s.hi-s.lo)*(s.bottom-s.top)
}

func f1(v float64) string { return strconv.FormatFloat(v, 'f', 1, 64) }

// xAt maps a tick time onto the plot.
func (c *chart) xAt(t time.Time) float64 {
	left, right := float64(marginL), float64(chartW-marginR)
	if len(c.xs) < 2 {
		return (left + right) / 2
	}
	span := c.xs[len(c.xs)-1].Sub(c.xs[0]).Seconds()
	if span <= 0 {
		return (left + right) / 2
	}
	pad := 14.0
	return left + pad + t.Sub(c.xs[0]).Seconds()/span*(right-left-2*pad)
}

func finite(v float64) bool { return !math.IsNaN(v) && !math.IsInf(v, 0) }

func (c *chart) domain() scale {
	var vals []float64
	add := func(v float64) {
		if finite(v) && (!c.log || v > 0) {
			vals = append(vals, v)
		}
	}
	for _, s := range c.series {
		for _, p := range s.pts {
			for _, v := range []*float64{p.y, p.lo, p.hi} {
				if v != nil {
					add(*v)
				}
			}
		}
	}
	if !c.clip || len(vals) == 0 {
		if c.bandLo != nil {
			add(*c.bandLo)
		}
		if c.bandHi != nil {
			add(*c.bandHi)
		}
		for _, l := range c.lines {
			add(l.y)
		}
	}
	lo, hi := 0.0, 1.0
	if len(vals) > 0 {
		lo, hi = vals[0], vals[0]
		for _, v := range vals {
			lo, hi = math.Min(lo, v), math.Max(hi, v)
		}
	}
	if c.log {
		lo, hi = math.Floor(math.Log10(lo)), math.Ceil(math.Log10(hi))
		if hi <= lo {
			hi = lo + 1
		}
	} else {
		if c.yMin != nil {
			lo = math.Min(lo, *c.yMin)
		}
		if c.yMax != nil {
			hi = math.Max(hi, *c.yMax)
		}
		if hi == lo {
			d := math.Max(math.Abs(lo)*0.1, 1)
			lo, hi = lo-d, hi+d
		}
		pad := (hi - lo) * 0.08
		if c.yMin == nil || lo < *c.yMin {
			lo -= pad
		}
		if c.yMax == nil || hi > *c.yMax {
			hi += pad
		}
		step := niceStep((hi - lo) / 4)
		lo, hi = math.Floor(lo/step)*step, math.Ceil(hi/step)*step
	}
	return scale{lo: lo, hi: hi, log: c.log, top: marginT, bottom: float64(c.height() - marginB)}
}

// niceStep rounds a step up to 1, 2 or 5 times a power of ten.
func niceStep(raw float64) float64 {
	if raw <= 0 || !finite(raw) {
		return 1
	}
	p := math.Pow(10, math.Floor(math.Log10(raw)))
	for _, m := range []float64{1, 2, 5, 10} {
		if m*p >= raw {
			return m * p
		}
	}
	return 10 * p
}

func (s scale) ticks() []float64 {
	var out []float64
	if s.log {
		for e := s.lo; e <= s.hi+1e-9; e++ {
			out = append(out, math.Pow(10, e))
		}
		return out
	}
	step := niceStep((s.hi - s.lo) / 4)
	for v := s.lo; v <= s.hi+step*1e-6; v += step {
		t := math.Round(v/step) * step
		if t == 0 {
			t = 0 // not −0
		}
		out = append(out, t)
	}
	return out
}

func esc(s string) string { return html.EscapeString(s) }

// svg draws the chart. Everything a reader needs is also text: the title,
// the description and each point's <title>.
func (c *chart) svg() template.HTML {
	sc := c.domain()
	var b strings.Builder
	fmt.Fprintf(&b, `<svg class="chart" id="%s" viewBox="0 0 %d %d" role="img" aria-labelledby="%s-title %s-desc" preserveAspectRatio="xMidYMid meet">`,
		c.id, chartW, c.height(), c.id, c.id)
	fmt.Fprintf(&b, `<title id="%s-title">%s</title><desc id="%s-desc">%s</desc>`, c.id, esc(c.title), c.id, esc(c.desc))
	left, right := float64(marginL), float64(chartW-marginR)
	top, bottom := sc.top, sc.bottom
	// Allowed band.
	if c.hasBand {
		y1, y2 := top, bottom
		if c.bandHi != nil {
			y1 = math.Max(top, math.Min(bottom, sc.at(*c.bandHi)))
		}
		if c.bandLo != nil {
			y2 = math.Min(bottom, math.Max(top, sc.at(*c.bandLo)))
		}
		if y2 > y1 {
			fmt.Fprintf(&b, `<rect class="band" x="%s" y="%s" width="%s" height="%s"><title>allowed range</title></rect>`,
				f1(left), f1(y1), f1(right-left), f1(y2-y1))
		}
	}
	// Grid and y labels.
	b.WriteString(`<g class="axis y">`)
	for _, v := range sc.ticks() {
		y := sc.at(v)
		fmt.Fprintf(&b, `<line class="grid" x1="%s" x2="%s" y1="%s" y2="%s"/>`, f1(left), f1(right), f1(y), f1(y))
		fmt.Fprintf(&b, `<text x="%s" y="%s" text-anchor="end">%s</text>`, f1(left-6), f1(y+4), esc(c.yFmt(v)))
	}
	fmt.Fprintf(&b, `<text class="axis-title" transform="translate(14 %s) rotate(-90)" text-anchor="middle">%s</text>`,
		f1((top+bottom)/2), esc(c.yTitle))
	b.WriteString(`</g>`)
	// X labels: at most maxXTick, evenly among the ticks.
	b.WriteString(`<g class="axis x">`)
	fmt.Fprintf(&b, `<line class="frame" x1="%s" x2="%s" y1="%s" y2="%s"/>`, f1(left), f1(right), f1(bottom), f1(bottom))
	every := (len(c.xs) + maxXTick - 1) / maxXTick
	lastX := math.Inf(-1)
	for i, t := range c.xs {
		if every > 1 && i%every != 0 && i != len(c.xs)-1 {
			continue
		}
		x := c.xAt(t)
		if x-lastX < 64 {
			continue
		}
		lastX = x
		fmt.Fprintf(&b, `<line class="frame" x1="%s" x2="%s" y1="%s" y2="%s"/>`, f1(x), f1(x), f1(bottom), f1(bottom+4))
		fmt.Fprintf(&b, `<text x="%s" y="%s" text-anchor="middle">%s</text>`, f1(x), f1(bottom+16), t.UTC().Format("15:04:05"))
		if !c.origin.IsZero() {
			fmt.Fprintf(&b, `<text class="offset" x="%s" y="%s" text-anchor="middle">%s</text>`, f1(x), f1(bottom+28), offset(c.origin, t))
		}
	}
	fmt.Fprintf(&b, `<text class="axis-title" x="%s" y="%s" text-anchor="middle">time (UTC)%s</text>`, f1((left+right)/2), f1(float64(c.height())-6), originNote(c.origin))
	b.WriteString(`</g>`)
	// Reference lines.
	for _, l := range c.lines {
		y := sc.at(l.y)
		switch {
		case y < top-0.5:
			fmt.Fprintf(&b, `<text class="ref-label" x="%s" y="%s" text-anchor="end">↑ %s (above the chart)</text>`, f1(right-4), f1(top+10), esc(l.label))
			continue
		case y > bottom+0.5:
			fmt.Fprintf(&b, `<text class="ref-label" x="%s" y="%s" text-anchor="end">↓ %s (below the chart)</text>`, f1(right-4), f1(bottom-4), esc(l.label))
			continue
		}
		fmt.Fprintf(&b, `<line class="ref %s" x1="%s" x2="%s" y1="%s" y2="%s"/>`, l.class, f1(left), f1(right), f1(y), f1(y))
		fmt.Fprintf(&b, `<text class="ref-label" x="%s" y="%s" text-anchor="end">%s</text>`, f1(right-4), f1(y-4), esc(l.label))
	}
	// Labelled vertical lines.
	for _, m := range c.marks {
		x := c.xAt(m.x)
		fmt.Fprintf(&b, `<g class="phase"><line x1="%s" x2="%s" y1="%s" y2="%s"/><text x="%s" y="%s" text-anchor="end">%s</text></g>`,
			f1(x), f1(x), f1(top-4), f1(bottom), f1(x-4), f1(top-8), esc(m.text))
	}
	// Series.
	for _, s := range c.series {
		fmt.Fprintf(&b, `<g class="series %s" data-series="%s">`, s.class, esc(s.name))
		var path strings.Builder
		pen := false
		for _, p := range s.pts {
			if p.y == nil || !finite(*p.y) || (c.log && *p.y <= 0) {
				pen = false
				continue
			}
			cmd := "L"
			if !pen {
				cmd = "M"
			}
			fmt.Fprintf(&path, "%s%s %s ", cmd, f1(c.xAt(p.x)), f1(sc.at(*p.y)))
			pen = true
		}
		if path.Len() > 0 && !s.noLine {
			dash := ""
			if s.dashed {
				dash = ` stroke-dasharray="6 4"`
			}
			fmt.Fprintf(&b, `<path class="line" d="%s"%s/>`, strings.TrimSpace(path.String()), dash)
		}
		for _, p := range s.pts {
			if p.lo != nil && p.hi != nil && finite(*p.lo) && finite(*p.hi) {
				x, y1, y2 := c.xAt(p.x), sc.at(*p.lo), sc.at(*p.hi)
				fmt.Fprintf(&b, `<path class="ci" d="M%s %sV%sM%s %sh10M%s %sh10"/>`, f1(x), f1(y1), f1(y2), f1(x-5), f1(y1), f1(x-5), f1(y2))
			}
		}
		for _, p := range s.pts {
			x := c.xAt(p.x)
			y := bottom - 8
			if p.y != nil && finite(*p.y) && (!c.log || *p.y > 0) {
				y = sc.at(*p.y)
			} else if p.mark != markNone {
				p.mark = markError
			}
			writeMark(&b, p.mark, x, y, p.title)
		}
		b.WriteString(`</g>`)
	}
	if a := c.annot; a != nil {
		x, y := c.xAt(a.x), sc.at(a.y)
		anchor := "start"
		dx := 10.0
		if x > (left+right)/2 {
			anchor, dx = "end", -10
		}
		dy := -10.0
		if y < top+20 {
			dy = 20
		}
		fmt.Fprintf(&b, `<text class="annot" x="%s" y="%s" text-anchor="%s">%s</text>`, f1(x+dx), f1(y+dy), anchor, esc(a.text))
	}
	b.WriteString(`</svg>`)
	return template.HTML(b.String()) //nolint:gosec // every text above is escaped
}

func writeMark(b *strings.Builder, mark string, x, y float64, title string) {
	t := ""
	if title != "" {
		t = "<title>" + esc(title) + "</title>"
	}
	switch mark {
	case markPass:
		fmt.Fprintf(b, `<g class="mark pass"><circle cx="%s" cy="%s" r="4"/>%s</g>`, f1(x), f1(y), t)
	case markFail:
		fmt.Fprintf(b, `<g class="mark fail"><circle class="halo" cx="%s" cy="%s" r="8"/><path d="M%s %sl10 10M%s %sl-10 10"/>%s</g>`,
			f1(x), f1(y), f1(x-5), f1(y-5), f1(x+5), f1(y-5), t)
	case markInconclusive:
		fmt.Fprintf(b, `<g class="mark inconclusive"><path d="M%s %sl6 6l-6 6l-6 -6z"/>%s</g>`, f1(x), f1(y-6), t)
	case markError:
		fmt.Fprintf(b, `<g class="mark error"><path d="M%s %sl6 10h-12z"/>%s</g>`, f1(x), f1(y-6), t)
	default:
		if t != "" {
			fmt.Fprintf(b, `<g class="mark plain"><circle cx="%s" cy="%s" r="3"/>%s</g>`, f1(x), f1(y), t)
		}
	}
}

// offset prints t − origin as +1h2m30s.
func offset(origin, t time.Time) string {
	d := t.Sub(origin)
	sign := "+"
	if d < 0 {
		sign, d = "−", -d
	}
	s := d.String()
	if strings.HasSuffix(s, "m0s") {
		s = strings.TrimSuffix(s, "0s")
	}
	if strings.HasSuffix(s, "h0m") {
		s = strings.TrimSuffix(s, "0m")
	}
	return sign + s
}

func originNote(origin time.Time) string {
	if origin.IsZero() {
		return ""
	}
	return "; offsets from the data's start " + origin.UTC().Format(time.RFC3339)
}

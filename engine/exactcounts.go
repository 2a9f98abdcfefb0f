package engine

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"time"

	"github.com/augurproj/augur/analysis/judges"
	"github.com/augurproj/augur/metrics"
)

// Exact counts.
//
// A count or bucket query of the form
//
//	sum(increase(SELECTOR[…]))             requests, errors, _sum
//	sum by (le) (increase(SELECTOR[…]))    buckets (or … by (le) after the call)
//
// is not run per step: the engine reads the stored samples of SELECTOR over
// the window (plus rawLookback before it, for each series' starting value)
// with one instant query of a range selector (metrics.RawQuerier), computes
// each series' exact increase per step from its samples
// (judges.CounterSteps: resets handled, new series counted from zero, no
// extrapolation) and sums the series (per le). Any other query shape is run
// as before, one increase() point per step, and the window's Counting says
// "increase".

// rawLookback is how far before the window the engine looks for each
// series' last sample before the window (Prometheus' default lookback).
const rawLookback = 5 * time.Minute

// maxExactSteps bounds the steps of one exact read, as Prometheus bounds
// the points of a range query's series.
const maxExactSteps = 11_000

// maxRawSamples bounds the samples one raw query may return.
const maxRawSamples = 5_000_000

// counterSelector returns the vector selector of a query of the exact
// shapes above and whether the query groups by le; ok is false for any
// other query.
func counterSelector(q string) (sel string, byLE bool, ok bool) {
	s := strings.TrimSpace(q)
	eat := func(word string) bool {
		t := strings.TrimLeft(s, " \t\r\n")
		if !strings.HasPrefix(t, word) {
			return false
		}
		s = t[len(word):]
		return true
	}
	byClause := func() bool {
		save := s
		if eat("by") && eat("(") && eat("le") && eat(")") {
			return true
		}
		s = save
		return false
	}
	if !eat("sum") {
		return "", false, false
	}
	byLE = byClause()
	if !eat("(") || !eat("increase") || !eat("(") {
		return "", false, false
	}
	s = strings.TrimLeft(s, " \t\r\n")
	// The selector runs to the '[' outside quotes and braces.
	depth, quote, i := 0, byte(0), 0
loop:
	for ; i < len(s); i++ {
		c := s[i]
		switch {
		case quote != 0:
			if c == '\\' {
				i++
			} else if c == quote {
				quote = 0
			}
		case c == '"' || c == '\'' || c == '`':
			quote = c
		case c == '{':
			depth++
		case c == '}':
			depth--
		case depth == 0 && c == '[':
			break loop
		case depth == 0 && (c == '(' || c == ')' || c == ','):
			return "", false, false
		}
	}
	if i >= len(s) || depth != 0 { // an escape at the end steps past it
		return "", false, false
	}
	sel = strings.TrimSpace(s[:i])
	end := strings.IndexByte(s[i:], ']')
	if sel == "" || end < 0 {
		return "", false, false
	}
	s = s[i+end+1:]
	if !eat(")") || !eat(")") {
		return "", false, false
	}
	if !byLE {
		byLE = byClause()
	}
	if strings.TrimSpace(s) != "" {
		return "", false, false
	}
	return sel, byLE, true
}

// exactSeries runs a count or bucket query exactly: it returns one series
// (per le when byLE) with one point per step at first, first+step, … end,
// each the exact increase over the step before it — the shape the per-step
// query would have had.
func exactSeries(ctx context.Context, rq metrics.RawQuerier, sel string, byLE bool, first, end time.Time, step time.Duration) ([]metrics.Series, error) {
	start := first.Add(-step)
	steps := int(end.Sub(start) / step)
	if steps > maxExactSteps {
		return nil, fmt.Errorf("selector %s: %d steps of %s over (%s, %s], more than %d (Prometheus' limit of points per series): widen the step",
			sel, steps, step, start.UTC().Format(time.RFC3339), end.UTC().Format(time.RFC3339), maxExactSteps)
	}
	raw, err := rq.QueryRaw(ctx, sel, start.Add(-rawLookback), end)
	if err != nil {
		return nil, err
	}
	total := 0
	for _, s := range raw {
		total += len(s.Samples)
	}
	if total > maxRawSamples {
		return nil, fmt.Errorf("selector %s: %d samples over %s, more than the limit %d", sel, total, end.Sub(start)+rawLookback, maxRawSamples)
	}
	sums := map[string][]float64{}
	for _, s := range raw {
		key := ""
		if byLE {
			le, ok := s.Labels["le"]
			if !ok {
				return nil, fmt.Errorf("series %s has no le label (a bucket query needs the _bucket series)", labelString(s.Labels))
			}
			key = le
		}
		cs := make([]judges.CounterSample, len(s.Samples))
		for i, p := range s.Samples {
			cs[i] = judges.CounterSample{T: p.T.UnixMilli(), V: p.V}
		}
		inc, err := judges.CounterSteps(cs, start.UnixMilli(), step.Milliseconds(), steps)
		if err != nil {
			return nil, fmt.Errorf("series %s: %w", labelString(s.Labels), err)
		}
		acc := sums[key]
		if acc == nil {
			acc = make([]float64, steps)
			sums[key] = acc
		}
		for i, v := range inc {
			acc[i] += v
		}
	}
	keys := make([]string, 0, len(sums))
	for k := range sums {
		keys = append(keys, k)
	}
	sort.Strings(keys)
	out := make([]metrics.Series, 0, len(keys))
	for _, k := range keys {
		labels := map[string]string{}
		if byLE {
			labels["le"] = k
		}
		ss := make([]metrics.Sample, steps)
		for i, v := range sums[k] {
			ss[i] = metrics.Sample{T: first.Add(time.Duration(i) * step), V: v}
		}
		out = append(out, metrics.Series{Labels: labels, Samples: ss})
	}
	return out, nil
}

// ExactCounts runs a count or bucket query of the exact shapes above over
// (start, end] at step resolution from the provider's raw samples: one
// series (per le for a bucket query) with the exact increase of each step,
// at start+step, start+2·step, … end. Other query shapes are an error.
func ExactCounts(ctx context.Context, rq metrics.RawQuerier, query string, start, end time.Time, step time.Duration) ([]metrics.Series, error) {
	sel, byLE, ok := counterSelector(query)
	if !ok {
		return nil, fmt.Errorf("query %q: not sum(increase(SELECTOR[…])) or sum by (le) (increase(SELECTOR[…]))", query)
	}
	if step <= 0 || end.Sub(start) < step {
		return nil, fmt.Errorf("query %q: window %s shorter than the step %s", query, end.Sub(start), step)
	}
	return exactSeries(ctx, rq, sel, byLE, start.Add(step), end, step)
}

package engine

import (
	"context"
	"errors"
	"fmt"
	"math"
	"sort"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/augurproj/augur/analysis"
	"github.com/augurproj/augur/analysis/judges"
	"github.com/augurproj/augur/metrics"
)

// judgeWindow is the time range of a judged metric's data at time end:
// (end − window, end] for the fixed-window judges, (analysis start, end]
// for the sequential judge. Without a known analysis start (a status
// written before analysisStart existed, or a one-off query) the
// sequential judge reads one analysis interval.
func judgeWindow(jp *JudgePlan, end, analysisStart time.Time, interval time.Duration) analysis.JudgeWindow {
	w := analysis.JudgeWindow{End: end, Step: jp.Step, Cumulative: jp.Cumulative}
	switch {
	case !jp.Cumulative:
		w.Start = end.Add(-jp.window)
	case !analysisStart.IsZero() && !analysisStart.After(end):
		w.Start = analysisStart
	default:
		w.Start = end.Add(-interval)
	}
	return w
}

// rangeJob is one range query of a judged metric.
type rangeJob struct {
	q      analysis.JudgeQuery
	series []metrics.Series
	err    error
}

// judged fetches a judged metric's data for both sides with range queries
// and returns it for the observation. Errors (the provider cannot run range
// queries, a query fails, a result has the wrong shape) are recorded in
// Judged.Err.
func (e *Engine) judged(ctx context.Context, p *MetricPlan, w analysis.JudgeWindow, sem chan struct{}) *analysis.Judged {
	jp := p.Judge
	j := &analysis.Judged{Config: jp.Config, Window: w, Queries: jp.Queries}
	fail := func(kind analysis.ErrorKind, err error) *analysis.Judged {
		j.Err = &analysis.ObservationError{Kind: kind, Message: providerSecrets(p).String(err.Error())}
		return j
	}
	prov, err := e.provider(p.Provider)
	if err != nil {
		return fail(analysis.ErrKindProvider, err)
	}
	rq, ok := prov.(metrics.RangeQuerier)
	if !ok {
		return fail(analysis.ErrKindProvider, fmt.Errorf("metrics provider %q cannot run range queries, which judging %s against the primary needs", p.Provider.Type, p.Name))
	}
	// Points at start+step … end, each covering the step before it.
	first := w.Start.Add(jp.step)
	jobs := make([]rangeJob, len(jp.Queries))
	if !first.After(w.End) {
		var wg sync.WaitGroup
		for i := range jp.Queries {
			jobs[i].q = jp.Queries[i]
			wg.Add(1)
			go func() {
				defer wg.Done()
				select {
				case sem <- struct{}{}:
				case <-ctx.Done():
					jobs[i].err = ctx.Err()
					return
				}
				defer func() { <-sem }()
				qctx, cancel := context.WithTimeout(ctx, e.opts.QueryTimeout)
				defer cancel()
				var s []metrics.Series
				var err error
				if sel, byLE, ok := exactQuery(prov, jobs[i].q); ok {
					// Raw reads stay per tick: a provider's answer may depend
					// on the read's start (the recorded provider repeats a
					// counter's first value at start near the recording's
					// beginning), so a slice of a longer read could differ.
					s, err = exactSeries(qctx, prov.(metrics.RawQuerier), sel, byLE, first, w.End, jp.step)
				} else if f := prefetchFrom(ctx); f != nil {
					var served bool
					if s, served = f.queryRange(ctx, rq, providerKey(p.Provider), jobs[i].q.Query, first, w.End, jp.step, e.opts.QueryTimeout); !served {
						s, err = rq.QueryRange(qctx, jobs[i].q.Query, first, w.End, jp.step)
					}
				} else {
					s, err = rq.QueryRange(qctx, jobs[i].q.Query, first, w.End, jp.step)
				}
				if errors.Is(err, context.DeadlineExceeded) && ctx.Err() == nil {
					err = fmt.Errorf("range query timed out after %s: %w", e.opts.QueryTimeout, err)
				}
				jobs[i].series, jobs[i].err = s, err
			}()
		}
		wg.Wait()
	} else {
		for i := range jp.Queries {
			jobs[i].q = jp.Queries[i]
		}
	}
	for _, job := range jobs {
		if job.err != nil {
			return fail(analysis.ErrKindQuery, fmt.Errorf("%s %s query: %w", job.q.Side, job.q.Role, job.err))
		}
	}
	if jp.Data != judges.DataSamples {
		j.Window.Counting = analysis.CountingExact
		for _, q := range jp.Queries {
			if _, _, ok := exactQuery(prov, q); !ok {
				j.Window.Counting = analysis.CountingIncrease
			}
		}
	}
	g := grid{first: first, step: jp.step}
	if !first.After(w.End) {
		g.n = int(w.End.Sub(first)/jp.step) + 1
		if g.n > maxExactSteps {
			g.n = 0 // no per-step clusters for more points than a range query may return
		}
	}
	canary, baseline := &j.Data.Canary, &j.Data.Baseline
	for _, job := range jobs {
		side := canary
		if job.q.Side == analysis.SideBaseline {
			side = baseline
		}
		if err := fill(side, job.q.Role, job.series, p.Scale, g); err != nil {
			kind := analysis.ErrKindQuery
			if errors.Is(err, metrics.ErrMultipleValues) {
				kind = analysis.ErrKindMultipleValues
			}
			return fail(kind, fmt.Errorf("%s %s query: %w", job.q.Side, job.q.Role, err))
		}
	}
	for _, d := range []*judges.Data{canary, baseline} {
		switch jp.Data {
		case judges.DataSamples:
			if d.Samples == nil {
				d.Samples = judges.Series{}
			}
		case judges.DataCounts:
			if d.Counts == nil {
				d.Counts = &judges.Counts{}
			}
			// increase() extrapolates each series on its own: errors may
			// exceed requests by a fraction when almost every request fails.
			d.Counts.Errors = min(d.Counts.Errors, d.Counts.Requests)
			var sr, se float64
			for i := range d.Counts.Steps {
				sr, se = sr+d.Counts.Steps[i].Requests, se+d.Counts.Steps[i].Errors
				d.Counts.Steps[i].Errors = min(d.Counts.Steps[i].Errors, d.Counts.Steps[i].Requests)
			}
			if !same(sr, d.Counts.Requests) || !same(se, d.Counts.Errors) {
				d.Counts.Steps = nil // points off the step grid: no clusters
			}
		case judges.DataHistogram:
			if d.Histogram != nil && len(d.Histogram.Buckets) == 0 {
				d.Histogram = nil
			}
			if h := d.Histogram; h != nil && len(h.Steps) > 0 {
				var total float64
				for _, row := range h.Steps {
					total += row[len(row)-1]
				}
				if !same(total, h.Buckets[len(h.Buckets)-1].Count) {
					h.Steps = nil // points off the step grid: no clusters
				}
			}
		}
	}
	return j
}

// exactQuery reports whether a count or bucket query runs exactly (see
// exactcounts.go): its shape allows it and the provider returns raw samples.
func exactQuery(prov metrics.Provider, q analysis.JudgeQuery) (sel string, byLE, ok bool) {
	if q.Role == analysis.RoleSamples {
		return "", false, false
	}
	if _, raw := prov.(metrics.RawQuerier); !raw {
		return "", false, false
	}
	sel, byLE, ok = counterSelector(q.Query)
	if !ok || byLE != (q.Role == analysis.RoleBuckets) {
		return "", false, false
	}
	return sel, byLE, true
}

// grid is the judged window's step points: first, first+step, … (n points).
type grid struct {
	first time.Time
	step  time.Duration
	n     int
}

// perStep returns a series' values by step index (points off the grid are
// dropped; NaN counts as 0).
func (g grid) perStep(ss []metrics.Sample) []float64 {
	out := make([]float64, g.n)
	for _, s := range ss {
		d := s.T.Sub(g.first)
		if d < 0 || d%g.step != 0 || int(d/g.step) >= g.n || math.IsNaN(s.V) {
			continue
		}
		out[d/g.step] += s.V
	}
	return out
}

// fill adds one query's result to a side's data.
func fill(d *judges.Data, role string, series []metrics.Series, scale float64, g grid) error {
	one := func() ([]metrics.Sample, error) {
		switch len(series) {
		case 0:
			return nil, nil
		case 1:
			return series[0].Samples, nil
		}
		return nil, fmt.Errorf("%w: %d series (aggregate them, e.g. with sum())", metrics.ErrMultipleValues, len(series))
	}
	sum := func(ss []metrics.Sample) float64 {
		var t float64
		for _, s := range ss {
			if !math.IsNaN(s.V) {
				t += s.V
			}
		}
		return t
	}
	switch role {
	case analysis.RoleSamples:
		ss, err := one()
		if err != nil {
			return err
		}
		d.Samples = make(judges.Series, len(ss))
		for i, s := range ss {
			d.Samples[i] = s.V * scale
		}
	case analysis.RoleRequests, analysis.RoleErrors:
		ss, err := one()
		if err != nil {
			return err
		}
		if d.Counts == nil {
			d.Counts = &judges.Counts{}
		}
		if role == analysis.RoleRequests {
			d.Counts.Requests = sum(ss)
		} else {
			d.Counts.Errors = sum(ss)
		}
		if g.n >= 2 {
			if d.Counts.Steps == nil {
				d.Counts.Steps = make([]judges.Counts, g.n)
			}
			for i, v := range g.perStep(ss) {
				if role == analysis.RoleRequests {
					d.Counts.Steps[i].Requests = v
				} else {
					d.Counts.Steps[i].Errors = v
				}
			}
		}
	case analysis.RoleSum:
		ss, err := one()
		if err != nil {
			return err
		}
		if len(ss) > 0 {
			if d.Histogram == nil {
				d.Histogram = &judges.Histogram{}
			}
			v := sum(ss)
			d.Histogram.Sum = &v
		}
	case analysis.RoleBuckets:
		counts := map[float64]float64{}
		steps := map[float64][]float64{}
		for _, s := range series {
			le, ok := s.Labels["le"]
			if !ok {
				return fmt.Errorf("series %s has no le label (group the buckets by le)", labelString(s.Labels))
			}
			bound, err := parseLE(le)
			if err != nil {
				return fmt.Errorf("series %s: le %q: %w", labelString(s.Labels), le, err)
			}
			if _, dup := counts[bound]; dup {
				// Several series with one bound: another label splits them.
				return fmt.Errorf("%w: several series with le=%q (sum them by le)", metrics.ErrMultipleValues, le)
			}
			counts[bound] = sum(s.Samples)
			if g.n >= 2 {
				steps[bound] = g.perStep(s.Samples)
			}
		}
		if len(counts) == 0 {
			return nil
		}
		if d.Histogram == nil {
			d.Histogram = &judges.Histogram{}
		}
		bounds := make([]float64, 0, len(counts))
		for b := range counts {
			bounds = append(bounds, b)
		}
		sort.Float64s(bounds)
		for _, b := range bounds {
			d.Histogram.Buckets = append(d.Histogram.Buckets, judges.Bucket{UpperBound: b, Count: counts[b]})
		}
		if g.n >= 2 {
			d.Histogram.Steps = make([][]float64, g.n)
			for i := range d.Histogram.Steps {
				row := make([]float64, len(bounds))
				for k, b := range bounds {
					row[k] = steps[b][i]
				}
				d.Histogram.Steps[i] = row
			}
		}
	}
	return nil
}

func parseLE(s string) (float64, error) {
	switch s {
	case "+Inf", "Inf", "inf", "+inf":
		return math.Inf(1), nil
	}
	v, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(v) {
		return 0, errors.New("not a number")
	}
	return v, nil
}

func labelString(l map[string]string) string {
	keys := sortedKeys(l)
	parts := make([]string, len(keys))
	for i, k := range keys {
		parts[i] = k + "=" + strconv.Quote(l[k])
	}
	return "{" + strings.Join(parts, ", ") + "}"
}

// same reports whether two sums agree up to rounding.
func same(a, b float64) bool { return math.Abs(a-b) <= 1e-9*math.Max(1, math.Abs(b)) }

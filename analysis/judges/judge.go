package judges

import (
	"fmt"
	"strconv"
)

// Judge runs the configured judge on one metric's data and returns its
// verdict with an explanation. It never panics and always returns a usable
// Result: an invalid configuration or malformed input gives Classification
// Error (verdict inconclusive, a veto when the metric is critical) with the
// reason in Result.Error.
func Judge(cfg Config, in Input) Result {
	r := Result{
		Metric:   in.Metric,
		Judge:    cfg.judge(),
		Critical: cfg.Critical,
		Group:    cfg.WithDefaults().Group,
		Weight:   cfg.Weight,
	}
	r.Explanation.Data = naturalData(r.Judge, in)
	if err := cfg.Validate(); err != nil {
		r.fail(fmt.Errorf("metric %q: configuration: %w", in.Metric, err))
		return r.finish()
	}
	c := cfg.WithDefaults()
	switch c.Judge {
	case KindMannWhitney:
		judgeMannWhitney(c, in, &r)
	case KindErrorRate:
		judgeErrorRate(c, in, &r)
	case KindHistogram:
		judgeHistogram(c, in, &r)
	case KindSequential:
		judgeSequential(c, in, &r)
	}
	return r.finish()
}

// naturalData is the data kind a judge reads from this input.
func naturalData(judge Kind, in Input) DataKind {
	switch judge {
	case KindErrorRate:
		return DataCounts
	case KindHistogram:
		return DataHistogram
	case KindSequential:
		if in.Canary.Counts != nil || in.Baseline.Counts != nil {
			return DataCounts
		}
	}
	return DataSamples
}

// fail records an input or configuration error.
func (r *Result) fail(err error) {
	r.Classification = ClassError
	r.Error = err.Error()
	r.Explanation.Rule = "Error: " + err.Error() + "."
}

// noData classifies missing or insufficient data: Nodata, or
// NodataFailMetric when the metric must have data. Never a pass.
func (r *Result) noData(c Config, why string) {
	if c.MustHaveData {
		r.Classification = ClassNodataFailMetric
		r.Explanation.Rule = "NodataFailMetric: " + why + ", and the metric is marked mustHaveData."
		return
	}
	r.Classification = ClassNodata
	r.Explanation.Rule = "Nodata: " + why + "."
}

// finish derives the verdict and completes the veto. The judges set Veto
// for a critical High or Low (Kayenta's critical failure, which also needs
// the effect to reach criticalIncrease/criticalDecrease); finish adds it for
// a critical metric with no data or an error, which Kayenta lets vanish
// from the score.
func (r *Result) finish() Result {
	r.Verdict = r.Classification.Verdict()
	switch {
	case !r.Critical:
		r.Veto = false
	case r.Classification == ClassNodata, r.Classification == ClassNodataFailMetric, r.Classification == ClassError:
		r.Veto = true
	}
	if r.Veto {
		r.Explanation.Rule += " The metric is critical, so this fails the whole analysis."
	}
	return *r
}

// needKind reports an error when a side lacks the data kind a judge uses.
func needKind(in Input, judge Kind, want DataKind) error {
	for _, s := range []struct {
		name string
		d    Data
	}{{"canary", in.Canary}, {"baseline", in.Baseline}} {
		has := map[DataKind]bool{
			DataSamples:   s.d.Samples != nil,
			DataCounts:    s.d.Counts != nil,
			DataHistogram: s.d.Histogram != nil,
		}
		if has[want] {
			continue
		}
		for _, k := range []DataKind{DataSamples, DataCounts, DataHistogram} {
			if has[k] {
				return fmt.Errorf("metric %q: judge %s compares %s but the %s side has %s: %w",
					in.Metric, judge, want, s.name, k, ErrInvalidInput)
			}
		}
	}
	return nil
}

// g formats a number for rule sentences.
func g(v float64) string { return strconv.FormatFloat(v, 'g', 4, 64) }

// gp formats an optional number for rule sentences.
func gp(v *float64) string {
	if v == nil {
		return "undefined"
	}
	return g(*v)
}

package judges

import (
	"fmt"
	"math"
)

// CounterSample is one stored sample of a Prometheus counter: T in
// milliseconds since the Unix epoch, V the counter's value.
type CounterSample struct {
	T int64
	V float64
}

// CounterSteps returns the exact increase of one counter series in each of
// the steps (start + i·step, start + (i+1)·step], i = 0 … steps−1, from its
// raw samples (sorted by time; samples after the last step are ignored).
//
// Every sample b inside the window adds its increase over the sample a
// before it to the step that contains b: b − a, or b when the counter went
// down (a reset: the process restarted and counted from zero). Samples at
// or before start only give the starting value. A series without a sample
// at or before start is new (a new pod, or the first request with a new
// label value): its first sample counts whole, from zero. Whole requests stay
// whole: nothing is interpolated or extrapolated, and the sum over the steps
// is the series' exact increase over (start, start + steps·step].
//
// NaN samples (Prometheus' staleness markers) are skipped. Samples out of
// time order, a non-positive step or negative steps are errors.
func CounterSteps(samples []CounterSample, start, step int64, steps int) ([]float64, error) {
	if step <= 0 || steps < 0 {
		return nil, fmt.Errorf("counter steps: step %d ms, %d steps: %w", step, steps, ErrInvalidInput)
	}
	out := make([]float64, steps)
	end := start + step*int64(steps)
	prev, have := 0.0, false
	last := int64(math.MinInt64)
	for _, s := range samples {
		if s.T < last {
			return nil, fmt.Errorf("counter samples out of time order at %d ms: %w", s.T, ErrInvalidInput)
		}
		last = s.T
		if math.IsNaN(s.V) {
			continue
		}
		if math.IsInf(s.V, 0) {
			return nil, fmt.Errorf("counter sample at %d ms is %v: %w", s.T, s.V, ErrInvalidInput)
		}
		if s.T > end {
			break
		}
		if s.T <= start {
			prev, have = s.V, true
			continue
		}
		d := s.V
		if have && s.V >= prev {
			d = s.V - prev
		}
		prev, have = s.V, true
		out[(s.T-start-1)/step] += d
	}
	return out, nil
}

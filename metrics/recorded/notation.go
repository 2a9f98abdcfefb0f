package recorded

import (
	"errors"
	"fmt"
	"math"
	"strings"
	"time"

	"github.com/prometheus/prometheus/promql/parser"
)

// valuesError names the value the author wrote, not the parser's position
// in the text it was given (the series and the values joined): `values:
// "0+1y40" (the 1st value, column 1): bad number syntax: "1"`. offset is
// where the values start in the parsed text.
func valuesError(values string, offset int, err error) error {
	var pe parser.ParseErrors
	if !errors.As(err, &pe) || len(pe) == 0 {
		return fmt.Errorf("values: %w", err)
	}
	pos := int(pe[0].PositionRange.Start) - offset
	if pos < 0 || pos > len(values) {
		return fmt.Errorf("values: %w", pe[0].Err)
	}
	start := strings.LastIndexAny(values[:pos], " \t\n") + 1
	end := len(values)
	if i := strings.IndexAny(values[pos:], " \t\n"); i >= 0 {
		end = pos + i
	}
	if start >= end { // the error is at a space or at the end: name the end
		return fmt.Errorf("values %q, column %d: %w", values, pos+1, pe[0].Err)
	}
	nth := len(strings.Fields(values[:start])) + 1
	return fmt.Errorf("values: %q (term %d, column %d): %w", values[start:end], nth, start+1, pe[0].Err)
}

// MaxNotationSamples bounds how many values one SeriesInput may expand to
// (`0+1x99999999999` would otherwise exhaust memory).
const MaxNotationSamples = 1 << 20

// SeriesInput is one input series in promtool's unit-test notation.
type SeriesInput struct {
	// Series is the series selector, e.g. `http_requests_total{job="api"}`.
	Series string `json:"series" yaml:"series"`
	// Values is the expanding notation, e.g. `0+10x30 _ stale 5 1-2x3`:
	// `a+bxN` and `a-bxN` expand to N+1 values, `axN` repeats a N+1 times,
	// `_` is a missing sample, `_xN` N missing samples, and `stale` a
	// staleness marker.
	Values string `json:"values" yaml:"values"`
}

// LoadSeries builds a Store from series in promtool's unit-test notation: the
// k-th value of every series is a sample at start + k*interval. The interval
// must be a positive whole number of milliseconds. Native histogram values
// (`{{…}}`) are not supported.
func LoadSeries(series []SeriesInput, start time.Time, interval time.Duration) (*Store, error) {
	if interval <= 0 || interval%time.Millisecond != 0 {
		return nil, fmt.Errorf("series interval %s: must be a positive whole number of milliseconds", interval)
	}
	step := interval.Milliseconds()
	t0 := start.UnixMilli()
	p := parser.NewParser(parser.Options{})
	b := newBuilder()
	first := map[int]int{} // series ref → index of the input that created it
	for i, in := range series {
		wrap := func(err error) error { return fmt.Errorf("input series %d (%s): %w", i, in.Series, err) }
		if _, err := p.ParseMetric(in.Series); err != nil {
			return nil, wrap(fmt.Errorf("series: %w", err))
		}
		if strings.Contains(in.Values, "{{") {
			return nil, wrap(errors.New("values: native histogram samples are not supported"))
		}
		if n, ok := expansion(in.Values); !ok || n > MaxNotationSamples {
			return nil, wrap(fmt.Errorf("values expand to more than %d samples", MaxNotationSamples))
		}
		lset, vals, err := p.ParseSeriesDesc(in.Series + " " + in.Values)
		if err != nil {
			return nil, wrap(valuesError(in.Values, len(in.Series)+1, err))
		}
		lset = lset.WithoutEmpty()
		if err := checkLabels(lset); err != nil {
			return nil, wrap(err)
		}
		if len(vals) > 0 && step > (math.MaxInt64-abs(t0))/int64(len(vals)) {
			return nil, wrap(fmt.Errorf("values: %d samples at %s intervals overflow the timestamp range", len(vals), interval))
		}
		ref, isNew := b.ref(lset)
		if !isNew {
			return nil, wrap(fmt.Errorf("same series as input series %d", first[ref]))
		}
		first[ref] = i
		for k, v := range vals {
			switch {
			case v.Omitted:
				continue
			case v.Histogram != nil:
				return nil, wrap(fmt.Errorf("value %d: native histogram samples are not supported", k))
			}
			if err := b.append(ref, t0+int64(k)*step, v.Value); err != nil {
				return nil, wrap(fmt.Errorf("value %d: %w", k, err))
			}
		}
	}
	return b.build(), nil
}

// expansion returns an upper bound of the number of values a notation string
// expands to, counting every `x<digits>` repetition as digits+1 values plus
// one value per other byte; ok is false on overflow.
func expansion(values string) (n uint64, ok bool) {
	n = uint64(len(values))
	for i := 0; i < len(values); i++ {
		if values[i] != 'x' {
			continue
		}
		var rep uint64
		j := i + 1
		for ; j < len(values) && values[j] >= '0' && values[j] <= '9'; j++ {
			d := uint64(values[j] - '0')
			if rep > (math.MaxUint64-d)/10 {
				return 0, false
			}
			rep = rep*10 + d
		}
		if rep >= math.MaxUint64-n {
			return 0, false
		}
		n += rep + 1
		i = j - 1
	}
	return n, true
}

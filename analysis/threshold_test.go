package analysis

import (
	"encoding/json"
	"math"
	"strings"
	"testing"
	"time"

	"github.com/google/go-cmp/cmp"
)

func rng(lo, hi *float64) *ThresholdRange { return &ThresholdRange{Min: lo, Max: hi} }

func TestCheckObservation(t *testing.T) {
	nan, inf := math.NaN(), math.Inf(1)
	type verdict struct {
		Passed   bool
		Value    *float64
		Min, Max *float64
		Error    string
	}
	tests := []struct {
		name   string
		obs    Observation
		want   verdict
		reason string
	}{
		// request-success-rate, thresholdRange.
		{"success rate equal to min passes", Observation{Kind: KindSuccessRate, Value: 99, ThresholdRange: rng(fp(99), nil)},
			verdict{Passed: true, Value: fp(99), Min: fp(99)}, "within [99, +Inf]"},
		{"success rate just below min fails", Observation{Kind: KindSuccessRate, Value: 98.99, ThresholdRange: rng(fp(99), nil)},
			verdict{Value: fp(98.99), Min: fp(99)}, "below the minimum 99"},
		{"success rate equal to max passes", Observation{Kind: KindSuccessRate, Value: 100, ThresholdRange: rng(fp(99), fp(100))},
			verdict{Passed: true, Value: fp(100), Min: fp(99), Max: fp(100)}, "within [99, 100]"},
		{"success rate above max fails", Observation{Kind: KindSuccessRate, Value: 100.5, ThresholdRange: rng(nil, fp(100))},
			verdict{Value: fp(100.5), Max: fp(100)}, "above the maximum 100"},
		{"range with no bounds passes anything", Observation{Kind: KindSuccessRate, Value: -5, ThresholdRange: rng(nil, nil)},
			verdict{Passed: true, Value: fp(-5)}, "neither min nor max"},
		{"success rate NaN passes", Observation{Kind: KindSuccessRate, Value: nan, ThresholdRange: rng(fp(99), fp(100))},
			verdict{Passed: true, Min: fp(99), Max: fp(100)}, "NaN"},
		{"success rate +Inf passes a min-only range", Observation{Kind: KindSuccessRate, Value: inf, ThresholdRange: rng(fp(99), nil)},
			verdict{Passed: true, Min: fp(99)}, "+Inf"},
		{"success rate +Inf fails a max", Observation{Kind: KindSuccessRate, Value: inf, ThresholdRange: rng(nil, fp(100))},
			verdict{Max: fp(100)}, "above the maximum"},
		{"success rate -Inf fails a min", Observation{Kind: KindSuccessRate, Value: math.Inf(-1), ThresholdRange: rng(fp(0), nil)},
			verdict{Min: fp(0)}, "below the minimum"},
		// request-success-rate, deprecated threshold: a minimum.
		{"deprecated success rate threshold is a minimum (equal passes)", Observation{Kind: KindSuccessRate, Value: 99, Threshold: 99},
			verdict{Passed: true, Value: fp(99), Min: fp(99)}, "is a minimum"},
		{"deprecated success rate threshold is a minimum (below fails)", Observation{Kind: KindSuccessRate, Value: 98, Threshold: 99},
			verdict{Value: fp(98), Min: fp(99)}, "below the minimum 99"},
		{"deprecated success rate threshold is a minimum (far above passes)", Observation{Kind: KindSuccessRate, Value: 1000, Threshold: 99},
			verdict{Passed: true, Value: fp(1000), Min: fp(99)}, ""},
		{"zero success rate threshold passes zero", Observation{Kind: KindSuccessRate, Value: 0},
			verdict{Passed: true, Value: fp(0), Min: fp(0)}, ""},
		// request-duration (milliseconds, truncated).
		{"duration equal to max passes", Observation{Kind: KindDuration, Value: 500, ThresholdRange: rng(nil, fp(500))},
			verdict{Passed: true, Value: fp(500), Max: fp(500)}, "within [-Inf, 500ms]"},
		{"duration 500.9ms truncates to 500ms and passes max 500", Observation{Kind: KindDuration, Value: 500.9, ThresholdRange: rng(nil, fp(500))},
			verdict{Passed: true, Value: fp(500.9), Max: fp(500)}, "truncated to whole milliseconds"},
		{"duration 501ms fails max 500", Observation{Kind: KindDuration, Value: 501, ThresholdRange: rng(nil, fp(500))},
			verdict{Value: fp(501), Max: fp(500)}, "501ms is above the maximum 500ms"},
		{"duration bound 499.9 truncates to 499ms", Observation{Kind: KindDuration, Value: 499.5, ThresholdRange: rng(nil, fp(499.9))},
			verdict{Passed: true, Value: fp(499.5), Max: fp(499.9)}, ""},
		{"duration 99.9ms truncates below min 100", Observation{Kind: KindDuration, Value: 99.9, ThresholdRange: rng(fp(100), nil)},
			verdict{Value: fp(99.9), Min: fp(100)}, "below the minimum 100ms"},
		{"duration equal to min passes", Observation{Kind: KindDuration, Value: 100, ThresholdRange: rng(fp(100), fp(200))},
			verdict{Passed: true, Value: fp(100), Min: fp(100), Max: fp(200)}, ""},
		{"deprecated duration threshold is a maximum", Observation{Kind: KindDuration, Value: 501, Threshold: 500},
			verdict{Value: fp(501), Max: fp(500)}, "is a maximum"},
		{"deprecated duration threshold equal passes", Observation{Kind: KindDuration, Value: 500, Threshold: 500},
			verdict{Passed: true, Value: fp(500), Max: fp(500)}, ""},
		{"zero duration threshold fails 1ms", Observation{Kind: KindDuration, Value: 1},
			verdict{Value: fp(1), Max: fp(0)}, "above the maximum 0s"},
		{"zero duration threshold passes 0.5ms (truncated to 0)", Observation{Kind: KindDuration, Value: 0.5},
			verdict{Passed: true, Value: fp(0.5), Max: fp(0)}, ""},
		{"duration NaN passes", Observation{Kind: KindDuration, Value: nan, ThresholdRange: rng(fp(1), fp(2))},
			verdict{Passed: true, Min: fp(1), Max: fp(2)}, "NaN"},
		{"duration +Inf fails a max", Observation{Kind: KindDuration, Value: inf, ThresholdRange: rng(nil, fp(500))},
			verdict{Max: fp(500)}, "above the maximum"},
		{"duration +Inf passes a min-only range", Observation{Kind: KindDuration, Value: inf, ThresholdRange: rng(fp(1), nil)},
			verdict{Passed: true, Min: fp(1)}, ""},
		// inline query and template: deprecated threshold is a maximum.
		{"query equal to max passes", Observation{Kind: KindQuery, Value: 5, ThresholdRange: rng(fp(5), fp(5))},
			verdict{Passed: true, Value: fp(5), Min: fp(5), Max: fp(5)}, ""},
		{"query deprecated threshold is a maximum", Observation{Kind: KindQuery, Value: 6, Threshold: 5},
			verdict{Value: fp(6), Max: fp(5)}, "is a maximum"},
		{"template zero threshold fails any positive value", Observation{Kind: KindTemplate, Value: 0.01},
			verdict{Value: fp(0.01), Max: fp(0)}, "above the maximum 0"},
		{"template zero threshold passes zero", Observation{Kind: KindTemplate, Value: 0},
			verdict{Passed: true, Value: fp(0), Max: fp(0)}, ""},
		{"template zero threshold passes negatives", Observation{Kind: KindTemplate, Value: -3},
			verdict{Passed: true, Value: fp(-3), Max: fp(0)}, ""},
		{"template below min fails", Observation{Kind: KindTemplate, Value: 4.99, ThresholdRange: rng(fp(5), nil)},
			verdict{Value: fp(4.99), Min: fp(5)}, "below the minimum 5"},
		{"template NaN passes a zero threshold", Observation{Kind: KindTemplate, Value: nan},
			verdict{Passed: true, Max: fp(0)}, "NaN"},
		{"template -Inf passes a max", Observation{Kind: KindTemplate, Value: math.Inf(-1), ThresholdRange: rng(nil, fp(5))},
			verdict{Passed: true, Max: fp(5)}, ""},
		// errors and unknown kinds.
		{"an error fails whatever the value", Observation{Kind: KindSuccessRate, Value: 100, ThresholdRange: rng(fp(99), nil),
			Err: &ObservationError{Kind: ErrKindNoValues, Message: "no values found"}},
			verdict{Min: fp(99), Error: "no values found"}, "no value (no-values)"},
		{"an unknown kind fails", Observation{Kind: "latency", Value: 1},
			verdict{Max: fp(0)}, "unknown metric kind"},
		{"infinite bounds are not reported", Observation{Kind: KindQuery, Value: 1, ThresholdRange: rng(fp(math.Inf(-1)), fp(inf))},
			verdict{Passed: true, Value: fp(1)}, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.obs.Metric = "m"
			c := CheckObservation(tt.obs)
			got := verdict{Passed: c.Passed, Value: c.Value, Min: c.Min, Max: c.Max, Error: c.Error}
			if diff := cmp.Diff(tt.want, got); diff != "" {
				t.Errorf("verdict mismatch (-want +got):\n%s", diff)
			}
			if c.Metric != "m" || c.Kind != tt.obs.Kind {
				t.Errorf("check names %q/%q, want m/%q", c.Metric, c.Kind, tt.obs.Kind)
			}
			if !strings.Contains(c.Reason, tt.reason) || c.Reason == "" {
				t.Errorf("reason %q does not contain %q", c.Reason, tt.reason)
			}
			if _, err := json.Marshal(c); err != nil {
				t.Errorf("check cannot be encoded: %v", err)
			}
		})
	}
}

func TestCheckObservationDoesNotAliasInput(t *testing.T) {
	o := Observation{Metric: "m", Kind: KindQuery, Value: 3, ThresholdRange: rng(fp(1), fp(5))}
	c := CheckObservation(o)
	*c.Min, *c.Max, *c.Value = 100, 100, 100
	if *o.ThresholdRange.Min != 1 || *o.ThresholdRange.Max != 5 || o.Value != 3 {
		t.Fatalf("CheckObservation returned pointers into its input: %+v", o.ThresholdRange)
	}
}

func TestMillis(t *testing.T) {
	tests := []struct {
		in   float64
		want time.Duration
	}{
		{0, 0},
		{0.999, 0},
		{1, time.Millisecond},
		{499.9, 499 * time.Millisecond},
		{-1.5, -time.Millisecond},
		{1234.5, 1234 * time.Millisecond},
		{math.NaN(), 0},
		{math.Inf(1), time.Duration(maxMillis) * time.Millisecond},
		{math.Inf(-1), time.Duration(minMillis) * time.Millisecond},
		{1e300, time.Duration(maxMillis) * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(num(tt.in), func(t *testing.T) {
			if got := millis(tt.in); got != tt.want {
				t.Errorf("millis(%v) = %v, want %v", tt.in, got, tt.want)
			}
		})
	}
}

func FuzzCheckObservation(f *testing.F) {
	f.Add(uint8(0), 99.0, true, 99.0, false, 0.0, 0.0, false, false)
	f.Add(uint8(1), 500.9, false, 0.0, true, 500.0, 0.0, false, false)
	f.Add(uint8(2), 6.0, false, 0.0, false, 0.0, 5.0, false, true)
	f.Add(uint8(3), math.NaN(), true, 1.0, true, 2.0, 0.0, false, false)
	f.Add(uint8(3), math.Inf(1), true, 1.0, false, 0.0, 0.0, false, false)
	f.Add(uint8(0), 1.0, false, 0.0, false, 0.0, 0.0, true, false)
	f.Add(uint8(4), 1.0, false, 0.0, false, 0.0, 0.0, false, true)
	kinds := []MetricKind{KindSuccessRate, KindDuration, KindQuery, KindTemplate, "other"}
	f.Fuzz(func(t *testing.T, k uint8, v float64, hasMin bool, lo float64, hasMax bool, hi float64, threshold float64, withErr, deprecated bool) {
		o := Observation{Metric: "m", Kind: kinds[int(k)%len(kinds)], Value: v, Threshold: threshold}
		if !deprecated {
			o.ThresholdRange = &ThresholdRange{}
			if hasMin {
				o.ThresholdRange.Min = &lo
			}
			if hasMax {
				o.ThresholdRange.Max = &hi
			}
		}
		if withErr {
			o.Err = &ObservationError{Kind: ErrKindQuery, Message: "boom"}
		}
		c := CheckObservation(o)
		if _, err := json.Marshal(c); err != nil {
			t.Fatalf("check cannot be encoded: %v", err)
		}
		if c.Reason == "" {
			t.Fatal("empty reason")
		}
		if withErr || !knownKind(o.Kind) {
			if c.Passed || c.Value != nil {
				t.Fatalf("failed observation gave %+v", c)
			}
			return
		}
		finite := !math.IsNaN(v) && !math.IsInf(v, 0)
		if (c.Value != nil) != finite {
			t.Fatalf("value %v reported as %v", v, c.Value)
		}
		if math.IsNaN(v) {
			if !c.Passed {
				t.Fatalf("NaN must pass every comparison: %+v", c)
			}
			return
		}
		// Effective bounds.
		var wantLo, wantHi *float64
		switch {
		case !deprecated:
			wantLo, wantHi = o.ThresholdRange.Min, o.ThresholdRange.Max
		case o.Kind == KindSuccessRate:
			wantLo = &threshold
		default:
			wantHi = &threshold
		}
		if diff := cmp.Diff(finiteCopy(wantLo), c.Min); diff != "" {
			t.Fatalf("min (-want +got):\n%s", diff)
		}
		if diff := cmp.Diff(finiteCopy(wantHi), c.Max); diff != "" {
			t.Fatalf("max (-want +got):\n%s", diff)
		}
		// Oracle on plain floats (durations: whole milliseconds), where a
		// time.Duration cannot overflow.
		conv := func(x float64) float64 { return x }
		if o.Kind == KindDuration {
			conv = math.Trunc
		}
		small := func(p *float64) bool { return p == nil || math.IsNaN(*p) || math.Abs(*p) < 1e12 }
		if !small(&v) || !small(wantLo) || !small(wantHi) {
			return
		}
		fails := (wantLo != nil && conv(v) < conv(*wantLo)) || (wantHi != nil && conv(v) > conv(*wantHi))
		if c.Passed == fails {
			t.Fatalf("value %v, bounds %v..%v (kind %s): passed=%v, want %v", v, wantLo, wantHi, o.Kind, c.Passed, !fails)
		}
	})
}

package judges

import (
	"errors"
	"math"
	"reflect"
	"testing"
)

// counterOf builds a series scraped at the given times from per-request
// event times: each scrape reports the requests counted since the last
// (re)start at or before it. restarts are the times the process restarted.
func counterOf(events, scrapes, restarts []int64) []CounterSample {
	var out []CounterSample
	for _, t := range scrapes {
		since := int64(math.MinInt64)
		for _, r := range restarts {
			if r <= t && r > since {
				since = r
			}
		}
		var n float64
		for _, e := range events {
			if e > since && e <= t {
				n++
			}
		}
		out = append(out, CounterSample{T: t, V: n})
	}
	return out
}

func TestCounterSteps(t *testing.T) {
	const s = int64(1000)
	tests := []struct {
		name    string
		samples []CounterSample
		start   int64
		step    int64
		steps   int
		want    []float64
	}{
		{
			name:    "regular scrapes",
			samples: []CounterSample{{0, 10}, {15 * s, 12}, {30 * s, 15}, {45 * s, 15}, {60 * s, 20}, {75 * s, 21}, {90 * s, 30}, {105 * s, 31}, {120 * s, 33}},
			start:   0, step: 60 * s, steps: 2,
			want: []float64{10, 13},
		},
		{
			name:    "missed scrapes and a gap across the step boundary",
			samples: []CounterSample{{0, 10}, {15 * s, 12}, {75 * s, 25}, {120 * s, 33}},
			start:   0, step: 60 * s, steps: 2,
			want: []float64{2, 21}, // the increase 12→25 lands in the step of the sample that shows it
		},
		{
			name:    "reset: the restarted counter counts from zero",
			samples: []CounterSample{{0, 100}, {30 * s, 110}, {60 * s, 4}, {90 * s, 9}},
			start:   0, step: 60 * s, steps: 2,
			want: []float64{14, 5},
		},
		{
			name:    "new series mid-window counts its first value whole",
			samples: []CounterSample{{45 * s, 3}, {60 * s, 5}, {75 * s, 9}},
			start:   0, step: 60 * s, steps: 2,
			want: []float64{5, 4},
		},
		{
			name:    "samples before the window only give the start; after it are ignored",
			samples: []CounterSample{{-200 * s, 1}, {-30 * s, 7}, {60 * s, 8}, {61 * s, 100}},
			start:   0, step: 60 * s, steps: 1,
			want: []float64{1},
		},
		{
			name:    "staleness markers are skipped",
			samples: []CounterSample{{0, 1}, {30 * s, math.NaN()}, {60 * s, 3}},
			start:   0, step: 60 * s, steps: 1,
			want: []float64{2},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := CounterSteps(tt.samples, tt.start, tt.step, tt.steps)
			if err != nil {
				t.Fatal(err)
			}
			if !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("got %v, want %v", got, tt.want)
			}
		})
	}
}

// TestCounterStepsKnownTotals builds counters from known request times with
// jittered, missed scrapes and restarts and checks the window's total.
func TestCounterStepsKnownTotals(t *testing.T) {
	const s = int64(1000)
	var events []int64
	for i := int64(0); i < 600; i++ {
		events = append(events, -300*s+i*1700+(i*i)%997) // irregular arrivals from −300 s to ~+720 s
	}
	var scrapes []int64
	for k := int64(-40); k < 60; k++ {
		if k%7 == 3 || k%11 == 0 { // missed scrapes
			continue
		}
		scrapes = append(scrapes, k*15*s+(k*k%5)*300) // 15 s scrapes with jitter
	}
	restarts := []int64{-100 * s, 130 * s, 400 * s}
	samples := counterOf(events, scrapes, restarts)
	start, step, steps := int64(0), int64(60*s), 10
	got, err := CounterSteps(samples, start, step, steps)
	if err != nil {
		t.Fatal(err)
	}
	// The true count: requests after the last sample at or before start, up
	// to the last sample at or before the end.
	var from, to int64
	for _, sc := range scrapes {
		if sc <= start {
			from = sc
		}
		if sc <= start+step*int64(steps) {
			to = sc
		}
	}
	// Requests between a restart and the last scrape before it died with
	// the process: no counter ever showed them.
	lost := func(e int64) bool {
		for _, r := range restarts {
			var before int64 = math.MinInt64
			for _, sc := range scrapes {
				if sc < r {
					before = sc
				}
			}
			if e > before && e <= r {
				return true
			}
		}
		return false
	}
	var want float64
	for _, e := range events {
		if e > from && e <= to && !lost(e) {
			want++
		}
	}
	var total float64
	for _, v := range got {
		total += v
		if v != math.Trunc(v) {
			t.Fatalf("fractional step count %v", v)
		}
	}
	if total != want {
		t.Fatalf("total %v, want %v (steps %v)", total, want, got)
	}
}

func TestCounterStepsErrors(t *testing.T) {
	for _, c := range []struct {
		samples []CounterSample
		step    int64
		steps   int
	}{
		{nil, 0, 1},
		{nil, 1, -1},
		{[]CounterSample{{2, 1}, {1, 2}}, 1, 3},
		{[]CounterSample{{1, math.Inf(1)}}, 1, 3},
	} {
		if _, err := CounterSteps(c.samples, 0, c.step, c.steps); !errors.Is(err, ErrInvalidInput) {
			t.Errorf("%v: err %v, want ErrInvalidInput", c, err)
		}
	}
}
